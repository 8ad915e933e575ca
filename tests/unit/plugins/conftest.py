"""Helpers for unit tests of modules and module_utils.

- ``AnsibleExitJson`` / ``AnsibleFailJson``: raised with the formatted result (after no_log masking, with warnings)
  instead of printing it and exiting (autouse fixture ``module_exits``).
- ``set_module_args(args, check_mode=False, diff=False)``: context manager exposing module arguments.
- ``run_module(module, args, check_mode=False, diff=False)`` fixture: runs ``module.main()`` and returns the result
  dict of exit_json or fail_json (``result["failed"]`` is True for a failure; ``result.invocation`` holds the
  module_args as Ansible reports them, with no_log values masked; warnings are plain messages).
- ``fake_api`` fixture: ``FakeCloudflareAPI``, a test double of the Cloudflare HTTP API that replaces
  ``requests.Session`` and records every request; sleeping is disabled.
"""

from __future__ import annotations

import contextlib
import json
import re

import pytest
from ansible.module_utils import _internal, basic
from ansible.module_utils.common import warnings
from ansible.module_utils.common.json import Direction, get_module_encoder
from ansible.module_utils.testing import patch_module_args
from ansible_collections.tunnelops.cloudflare.plugins.module_utils import _api

BASE_URL = "https://api.cloudflare.test/client/v4"
ACCOUNT_ID = "9a7806061c88ada191ed06f989cc3dac"
TOKEN = "unit-test-token-1c2d"
AUTH_ARGS = {"api_token": TOKEN, "account_id": ACCOUNT_ID, "base_url": BASE_URL}


class ModuleResult(dict):
    """A module's result; the ``invocation`` Ansible adds is kept apart, as ``.invocation``."""

    def __init__(self, result):
        result = dict(result)
        self.invocation = result.pop("invocation", None)
        super().__init__(result)


class AnsibleExitJson(Exception):
    def __init__(self, result):
        super().__init__("exit_json")
        self.result = result


class AnsibleFailJson(Exception):
    def __init__(self, result):
        super().__init__(result.get("msg"))
        self.result = result


def _record_module_result(self, result):
    # exit_json and fail_json format the result for real (no_log masking, warnings, invocation) and then hand it
    # to this hook to print; raising here returns the result to the test instead, encoded as the module would.
    encoder = get_module_encoder(basic._ANSIBLE_PROFILE, Direction.MODULE_TO_CONTROLLER)
    result = json.loads(json.dumps(result, cls=encoder))
    # Warnings travel as structured events; tests compare their messages.
    if "warnings" in result:
        result["warnings"] = [w["event"]["msg"] if isinstance(w, dict) else w for w in result["warnings"]]
    result = ModuleResult(result)
    if result.get("failed"):
        raise AnsibleFailJson(result)
    raise AnsibleExitJson(result)


@pytest.fixture(autouse=True)
def module_exits(monkeypatch):
    monkeypatch.setattr(basic.AnsibleModule, "_record_module_result", _record_module_result)
    # Warnings and deprecations are process-wide lists; start every test with empty ones. Once any test has
    # imported Ansible's controller code, warnings would go to the display instead: keep module behaviour.
    monkeypatch.setattr(_internal, "is_controller", False)
    monkeypatch.setattr(warnings, "_global_warnings", {})
    monkeypatch.setattr(warnings, "_global_deprecations", {})


@contextlib.contextmanager
def set_module_args(args: dict, check_mode: bool = False, diff: bool = False):
    args = dict(args, _ansible_check_mode=check_mode, _ansible_diff=diff)
    with patch_module_args(args):
        yield


@pytest.fixture
def run_module():
    def run(module, args: dict, check_mode: bool = False, diff: bool = False) -> dict:
        with set_module_args(args, check_mode=check_mode, diff=diff):
            try:
                module.main()
            except AnsibleExitJson as exc:
                return exc.result
            except AnsibleFailJson as exc:
                return exc.result
        raise RuntimeError("the module returned without calling exit_json or fail_json")

    return run


class FakeResponse:
    """Just enough of requests.Response for the client."""

    def __init__(self, status_code=200, body=None, headers=None, text=None):
        self.status_code = status_code
        self._body = body
        self._text = text
        self.headers = headers or {"Content-Type": "application/json"}
        self.reason = {200: "OK", 404: "Not Found", 429: "Too Many Requests"}.get(status_code, "")

    def json(self):
        if self._text is not None:
            return json.loads(self._text)
        return self._body


def envelope(result=None, status=200, errors=None, result_info=None, headers=None) -> FakeResponse:
    body = {"success": not errors and status < 400, "errors": errors or [], "messages": [], "result": result}
    if result_info is not None:
        body["result_info"] = result_info
    return FakeResponse(status, body, headers)


class FakeCloudflareAPI:
    """Test double for the Cloudflare API behind a requests.Session.

    ``add(method, path_regex, *answers)`` queues answers (FakeResponse, an exception instance to raise, or a
    callable ``(request) -> FakeResponse``) for requests whose API-relative path fully matches ``path_regex``;
    the last answer of a route repeats. Unmatched requests get 404 code 7003. ``calls`` records every request as
    ``{method, path, query, body, headers}``. ``ok(result, ...)`` and ``error(status, code, message)`` build answers.
    """

    def __init__(self):
        self.routes = []
        self.calls = []
        self.headers = {}
        self.closed = False

    def add(self, method: str, path: str, *answers):
        self.routes.append([method.upper(), re.compile(path), list(answers)])
        return self

    def request(self, method, url, params=None, json=None, timeout=None):
        path = url[len(BASE_URL) :] if url.startswith(BASE_URL) else url
        call = {"method": method, "path": path, "query": dict(params or {}), "body": json, "timeout": timeout}
        call["headers"] = dict(self.headers)
        self.calls.append(call)
        for route_method, pattern, answers in self.routes:
            if route_method == method and pattern.fullmatch(path):
                answer = answers.pop(0) if len(answers) > 1 else answers[0]
                if isinstance(answer, BaseException):
                    raise answer
                return answer(call) if callable(answer) else answer
        return envelope(status=404, errors=[{"code": 7003, "message": "No route for the URI"}])

    ok = staticmethod(envelope)

    @staticmethod
    def raw(status: int, text: str, content_type: str = "text/html") -> FakeResponse:
        return FakeResponse(status, headers={"Content-Type": content_type}, text=text)

    @staticmethod
    def error(status: int, code: int | None = None, message: str = "error", headers=None) -> FakeResponse:
        return envelope(status=status, errors=[{"code": code, "message": message}], headers=headers)

    def writes(self) -> list:
        return [c for c in self.calls if c["method"] not in ("GET", "HEAD")]

    def close(self):
        self.closed = True


@pytest.fixture
def fake_api(monkeypatch):
    api = FakeCloudflareAPI()
    monkeypatch.setattr(_api.requests, "Session", lambda: api)
    monkeypatch.setattr(_api.time, "sleep", lambda seconds: None)
    return api
