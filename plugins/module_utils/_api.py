# Copyright (c) 2026 tunnelops maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Private HTTP client for the Cloudflare v4 API, shared by the modules of this collection.

Nothing here is a public interface: modules import it, users do not.
"""

from __future__ import annotations

import email.utils
import random
import re
import time
import traceback

from ansible.module_utils.ansible_release import __version__ as ANSIBLE_CORE_VERSION
from ansible.module_utils.basic import env_fallback, missing_required_lib

try:
    import requests

    HAS_REQUESTS = True
    REQUESTS_IMPORT_ERROR = None
except ImportError:
    requests = None
    HAS_REQUESTS = False
    REQUESTS_IMPORT_ERROR = traceback.format_exc()

# Keep in step with galaxy.yml.
COLLECTION_VERSION = "0.1.0"
USER_AGENT = f"tunnelops.cloudflare/{COLLECTION_VERSION} (+ansible-core/{ANSIBLE_CORE_VERSION})"
DEFAULT_BASE_URL = "https://api.cloudflare.com/client/v4"

# Largest page size each list endpoint accepts; anything not listed gets DEFAULT_PER_PAGE.
PAGE_SIZES = (
    (re.compile(r"^/accounts/[^/]+/cfd_tunnel$"), 1000),
    (re.compile(r"^/accounts/[^/]+/tunnels$"), 1000),
    (re.compile(r"^/zones$"), 50),
    (re.compile(r"^/zones/[^/]+/dns_records$"), 5000),
)
DEFAULT_PER_PAGE = 100

SAFE_METHODS = frozenset(("GET", "HEAD"))

# Which token permission group an endpoint needs, so that a 403 can say what is missing.
# Each entry: path pattern, (read group, write group), scope.
PERMISSION_GROUPS = (
    (
        re.compile(r"^/accounts/[^/]+/cfd_tunnel/[^/]+/token$"),
        ("Cloudflare Tunnel Read", "Cloudflare Tunnel Write"),
        "account",
    ),
    (
        re.compile(r"^/accounts/[^/]+/(cfd_tunnel|tunnels|teamnet)(/|$)"),
        ("Cloudflare Tunnel Read", "Cloudflare Tunnel Write"),
        "account",
    ),
    (
        re.compile(r"^/accounts/[^/]+/load_balancers/"),
        ("Load Balancing: Monitors and Pools Read", "Load Balancing: Monitors and Pools Write"),
        "account",
    ),
    (re.compile(r"^/zones/[^/]+/load_balancers"), ("Load Balancers Read", "Load Balancers Write"), "zone"),
    (re.compile(r"^/zones/[^/]+/dns_records"), ("DNS Read", "DNS Write"), "zone"),
    (re.compile(r"^/zones(/[^/]+)?$"), ("Zone Read", "Zone Read"), "zone"),
)


def cloudflare_argument_spec() -> dict:
    """The options every API module takes; keep in step with the ``tunnelops.cloudflare.api`` doc fragment."""
    return {
        "api_token": {"type": "str", "no_log": True, "fallback": (env_fallback, ["CLOUDFLARE_API_TOKEN"])},
        "api_email": {"type": "str", "fallback": (env_fallback, ["CLOUDFLARE_EMAIL"])},
        "api_key": {"type": "str", "no_log": True, "fallback": (env_fallback, ["CLOUDFLARE_API_KEY"])},
        "account_id": {"type": "str", "required": True, "fallback": (env_fallback, ["CLOUDFLARE_ACCOUNT_ID"])},
        "base_url": {"type": "str", "default": DEFAULT_BASE_URL, "fallback": (env_fallback, ["CLOUDFLARE_BASE_URL"])},
        "request_timeout": {"type": "float", "default": 30.0},
    }


def cloudflare_module_kwargs() -> dict:
    """Relations between the authentication options, for AnsibleModule(**kwargs)."""
    return {
        "required_one_of": [("api_token", "api_key")],
        "required_together": [("api_email", "api_key")],
        "mutually_exclusive": [("api_token", "api_key")],
    }


def require_requests(module) -> None:
    """Fail the module with Ansible's standard message when the requests library is missing."""
    if not HAS_REQUESTS:
        module.fail_json(msg=missing_required_lib("requests"), exception=REQUESTS_IMPORT_ERROR)


class CloudflareAPIError(Exception):
    """A request that Cloudflare refused or that never got an answer.

    ``status`` is the HTTP status (None when no answer arrived), ``errors`` the envelope's list of
    ``{code, message}``, ``method`` and ``path`` the request (path relative to the API base).
    """

    def __init__(self, status, errors, method, path):
        self.status = status
        # True or False once the client checked the API token after a 403, None when it did not.
        self.token_valid = None
        self.errors = [{"code": e.get("code"), "message": str(e.get("message", ""))} for e in errors or []]
        self.method = method
        self.path = path
        super().__init__(self.describe())

    @property
    def codes(self) -> list:
        return [e["code"] for e in self.errors if e["code"] is not None]

    def answer(self) -> str:
        """What Cloudflare answered, in one phrase."""
        head = f"HTTP {self.status}" if self.status is not None else "no answer"
        parts = [f"code {e['code']}: {e['message']}" if e["code"] is not None else e["message"] for e in self.errors]
        return f"{head}, {'; '.join(parts)}" if parts else head

    def describe(self) -> str:
        return f"{self.method} {self.path}: {self.answer()}"


def required_permission(method: str, path: str) -> str | None:
    """Name the token permission group (and its scope) that a request needs, or None when unknown."""
    for pattern, groups, scope in PERMISSION_GROUPS:
        if pattern.search(path):
            group = groups[0] if method.upper() in SAFE_METHODS else groups[1]
            return f"'{group}' ({scope})"
    return None


def error_message(action: str, exc: CloudflareAPIError) -> str:
    """One failure message: what was asked, what Cloudflare answered, what to do about it."""
    message = f"Failed to {action}: Cloudflare answered {exc.answer()}."
    if exc.status == 401 or (exc.status == 400 and {6003, 6111, 9106} & set(exc.codes)):
        return f"{message} Cloudflare did not accept the credentials: check api_token (or api_email and api_key)."
    if exc.status == 403 and exc.token_valid is False:
        return f"{message} Cloudflare does not accept the API token: check api_token (wrong, expired or revoked?)."
    if exc.status == 403:
        permission = required_permission(exc.method, exc.path)
        if permission and exc.token_valid:
            return f"{message} The API token lacks a permission: this needs {permission} on this account."
        if permission:
            return (
                f"{message} The API token lacks a permission: this needs {permission}"
                " on this account, or the credentials are not valid for it."
            )
        return f"{message} The credentials are not allowed to do this."
    if exc.status == 429:
        return f"{message} The rate limit is exhausted and retries gave up; run again later."
    if exc.status is None:
        return f"{message} Check base_url and the network; the request was retried where that was safe."
    if exc.status >= 500:
        return f"{message} Cloudflare had a server error; retried where that was safe. Run again later."
    return message


class CloudflareClient:
    """Talks to the Cloudflare v4 API through one requests Session (keep-alive) per module run.

    ``request()`` is the only way out. It unwraps Cloudflare's envelope (``success``, ``errors``,
    ``result``, ``result_info``) and raises CloudflareAPIError for anything but success.

    Retry policy:

    * HTTP 429 is retried for every method, because a rate-limited request was not carried out. The wait is
      the ``Retry-After`` header (seconds or HTTP date) plus up to one second of jitter, so that the forks of
      a fleet run do not all come back at the same instant, or the backoff below when there is no header.
      429 answers do not count as attempts: they are retried until ``max_rate_limit_wait`` (300 s, the
      longest block Cloudflare imposes) has been spent waiting on them, since a fleet run that shares the
      rate limit must queue rather than fail;
    * other failures: at most ``max_attempts`` (5) attempts per request, and at most ``max_total_sleep``
      (120 s) spent sleeping between them;
    * backoff is exponential with full jitter: before attempt n+1 sleep a random time in
      ``[0, min(30, 1 * 2 ** (n - 1))]`` seconds;
    * HTTP 5xx, connection errors and timeouts are retried for GET and HEAD, and for writes only when the
      caller passes ``retry=True`` (PUT, PATCH and DELETE of a known id are idempotent). A POST that
      creates something is never retried: it may have been carried out before the connection broke, so
      the caller looks again before creating once more;
    * other 4xx answers are never retried.

    ``sleep`` and ``rand`` are injectable so tests run without waiting.
    """

    def __init__(
        self,
        session,
        base_url: str = DEFAULT_BASE_URL,
        account_id: str | None = None,
        timeout: float = 30.0,
        sleep=None,
        rand=None,
        max_attempts: int = 5,
        max_total_sleep: float = 120.0,
        max_rate_limit_wait: float = 300.0,
    ):
        self.session = session
        self.base_url = base_url.rstrip("/")
        self.account_id = account_id
        self.timeout = timeout
        # Looked up at construction time so that tests can patch time.sleep / random.random.
        self.sleep = sleep if sleep is not None else time.sleep
        self.rand = rand if rand is not None else random.random
        self.max_attempts = max_attempts
        self.max_total_sleep = max_total_sleep
        self.max_rate_limit_wait = max_rate_limit_wait
        self.backoff_base = 1.0
        self.backoff_cap = 30.0

    @classmethod
    def from_module(cls, module, **kwargs) -> CloudflareClient:
        """Build a client from the common options; fails the module when requests is missing."""
        require_requests(module)
        params = module.params
        session = requests.Session()
        session.headers["User-Agent"] = USER_AGENT
        session.headers["Accept"] = "application/json"
        if params.get("api_token"):
            session.headers["Authorization"] = f"Bearer {params['api_token']}"
        else:
            session.headers["X-Auth-Email"] = params["api_email"]
            session.headers["X-Auth-Key"] = params["api_key"]
        return cls(
            session,
            base_url=params.get("base_url") or DEFAULT_BASE_URL,
            account_id=params.get("account_id"),
            timeout=params.get("request_timeout") or 30.0,
            **kwargs,
        )

    def request(self, method: str, path: str, query: dict | None = None, body=None, retry: bool | None = None):
        """Send one API request and return the envelope's ``result``."""
        return self.request_full(method, path, query=query, body=body, retry=retry)[0]

    def request_full(self, method: str, path: str, query: dict | None = None, body=None, retry: bool | None = None):
        """Send one API request and return ``(result, result_info)``; ``retry`` marks a write safe to repeat."""
        method = method.upper()
        retry_failures = method in SAFE_METHODS if retry is None else retry
        slept = 0.0
        limited_wait = 0.0
        attempt = 0
        limited = 0
        while True:
            response, failure = self._send(method, path, query, body)
            if response is not None and response.status_code == 429:
                limited += 1
                delay = self._rate_limit_delay(response, limited)
                remaining = self.max_rate_limit_wait - limited_wait
            else:
                attempt += 1
                delay = self._retry_delay(response, attempt, retry_failures)
                remaining = self.max_total_sleep - slept

            # A retry must fit in what is left of its budget; an exhausted budget ends the retries.
            if delay is None or remaining <= 0:
                if failure is not None:
                    raise CloudflareAPIError(None, [{"message": failure}], method, path)
                try:
                    return self._unwrap(response, method, path)
                except CloudflareAPIError as exc:
                    self._check_token(exc)
                    raise
            delay = min(delay, remaining)
            self.sleep(delay)
            if response is not None and response.status_code == 429:
                limited_wait += delay
            else:
                slept += delay

    def _check_token(self, exc: CloudflareAPIError) -> None:
        """After a 403 with code 10000, ask Cloudflare whether the API token itself is valid.

        Cloudflare gives the same answer for a wrong token and for a token that lacks a permission; one extra
        request, made only on this failure, tells them apart for the error message.
        """
        if exc.status != 403 or 10000 not in exc.codes or "Authorization" not in self.session.headers:
            return
        response, failure = self._send("GET", "/user/tokens/verify", None, None)
        if failure is not None or response.status_code >= 500:
            return
        try:
            result, _info = self._unwrap(response, "GET", "/user/tokens/verify")
        except CloudflareAPIError:
            exc.token_valid = False
            return
        exc.token_valid = isinstance(result, dict) and result.get("status") == "active"

    def _send(self, method: str, path: str, query, body):
        """One attempt: (response, None) or (None, description of the connection failure)."""
        try:
            response = self.session.request(method, self.base_url + path, params=query, json=body, timeout=self.timeout)
        except (requests.ConnectionError, requests.Timeout) as exc:
            return None, _connection_failure(exc)
        return response, None

    def _retry_delay(self, response, attempt: int, retry_failures: bool) -> float | None:
        """Seconds to wait before the next attempt, or None when this outcome is final."""
        if attempt >= self.max_attempts:
            return None
        if retry_failures and (response is None or response.status_code >= 500):
            return self._backoff(attempt)
        return None

    def _rate_limit_delay(self, response, count: int) -> float:
        """Seconds to wait after the ``count``-th 429 answer to one request."""
        retry_after = _retry_after(response)
        return self._backoff(count) if retry_after is None else retry_after + self.rand()

    def paginate(self, path: str, query: dict | None = None, per_page: int | None = None) -> list:
        """Fetch every page of a list endpoint, with the largest page size it accepts, and return all items."""
        per_page = per_page or page_size_for(path)
        items = []
        page = 1
        while True:
            page_query = dict(query or {}, page=page, per_page=per_page)
            result, info = self.request_full("GET", path, query=page_query)
            result = result or []
            items.extend(result)
            info = info or {}
            total_pages = info.get("total_pages")
            if total_pages is not None:
                if page >= total_pages:
                    return items
            elif len(result) < per_page:
                return items
            if not result:
                return items
            page += 1

    def _backoff(self, attempt: int) -> float:
        return self.rand() * min(self.backoff_cap, self.backoff_base * 2 ** (attempt - 1))

    @staticmethod
    def _unwrap(response, method: str, path: str):
        try:
            envelope = response.json()
        except ValueError:
            envelope = None
        if not isinstance(envelope, dict):
            content_type = response.headers.get("Content-Type", "unknown content type")
            raise CloudflareAPIError(
                response.status_code, [{"message": f"the answer is not a JSON envelope ({content_type})"}], method, path
            )
        errors = envelope.get("errors") or []
        if response.status_code >= 400 or errors or envelope.get("success") is False:
            if not errors:
                errors = [{"message": response.reason or "request failed"}]
            raise CloudflareAPIError(response.status_code, errors, method, path)
        return envelope.get("result"), envelope.get("result_info")


def page_size_for(path: str) -> int:
    for pattern, size in PAGE_SIZES:
        if pattern.search(path):
            return size
    return DEFAULT_PER_PAGE


def _retry_after(response) -> float | None:
    value = response.headers.get("Retry-After")
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


def _connection_failure(exc) -> str:
    # The exception text names host and port but never headers, so it carries no credentials.
    kind = "timed out" if isinstance(exc, requests.Timeout) else "connection failed"
    return f"{kind} ({type(exc).__name__})"
