from __future__ import annotations

import pytest
import requests
import yaml
from ansible_collections.tunnelops.cloudflare.plugins.doc_fragments.api import ModuleDocFragment
from ansible_collections.tunnelops.cloudflare.plugins.module_utils import _api
from ansible_collections.tunnelops.cloudflare.plugins.module_utils._api import (
    CloudflareAPIError,
    CloudflareClient,
    cloudflare_argument_spec,
    error_message,
)

BASE_URL = "https://api.cloudflare.test/client/v4"
ACCOUNT = "9a7806061c88ada191ed06f989cc3dac"
TUNNELS = f"/accounts/{ACCOUNT}/cfd_tunnel"


class Sleeps(list):
    """Records the sleeps the client asks for instead of sleeping."""

    def __call__(self, seconds):
        self.append(seconds)


@pytest.fixture
def sleeps():
    return Sleeps()


@pytest.fixture
def client(fake_api, sleeps):
    # rand=1.0 makes the jittered backoff its upper bound, so the expected sleeps are exact.
    return CloudflareClient(fake_api, base_url=BASE_URL, account_id=ACCOUNT, sleep=sleeps, rand=lambda: 1.0)


class FakeModule:
    def __init__(self, params):
        self.params = params
        self.failure = None

    def fail_json(self, **kwargs):
        self.failure = kwargs
        raise SystemExit(1)


def module_params(**overrides):
    params = {
        "api_token": None,
        "api_email": None,
        "api_key": None,
        "account_id": ACCOUNT,
        "base_url": BASE_URL,
        "request_timeout": 7.5,
    }
    params.update(overrides)
    return params


# Envelope


def test_request_returns_the_envelope_result(fake_api, client):
    fake_api.add("GET", TUNNELS + "/abc", fake_api.ok({"id": "abc", "name": "web"}))

    assert client.request("GET", TUNNELS + "/abc") == {"id": "abc", "name": "web"}


def test_request_full_returns_result_info(fake_api, client):
    info = {"page": 1, "per_page": 20, "count": 1, "total_count": 1}
    fake_api.add("GET", TUNNELS, fake_api.ok([{"id": "abc"}], result_info=info))

    assert client.request_full("GET", TUNNELS) == ([{"id": "abc"}], info)


def test_request_sends_query_body_and_timeout(fake_api, client):
    fake_api.add("POST", TUNNELS, fake_api.ok({"id": "abc"}))

    client.request("POST", TUNNELS, query={"x": "1"}, body={"name": "web"})

    call = fake_api.calls[0]
    assert (call["method"], call["path"], call["query"], call["body"]) == ("POST", TUNNELS, {"x": "1"}, {"name": "web"})
    assert call["timeout"] == 30.0


@pytest.mark.parametrize(
    ("answer", "status", "codes", "text"),
    [
        (
            {"status": 403, "errors": [{"code": 10000, "message": "Authentication error"}]},
            403,
            [10000],
            "HTTP 403, code 10000: Authentication error",
        ),
        (
            {"status": 404, "errors": [{"code": 7003, "message": "No route"}]},
            404,
            [7003],
            "HTTP 404, code 7003: No route",
        ),
        (
            {"status": 400, "errors": [{"code": 1001, "message": "a"}, {"code": 1002, "message": "b"}]},
            400,
            [1001, 1002],
            "HTTP 400, code 1001: a; code 1002: b",
        ),
        (
            {"status": 200, "errors": [{"code": 1013, "message": "exists"}]},
            200,
            [1013],
            "HTTP 200, code 1013: exists",
        ),
        ({"status": 409}, 409, [], "HTTP 409"),
    ],
    ids=["forbidden", "not-found", "two-errors", "errors-in-200", "error-status-without-errors"],
)
def test_error_envelopes_raise_cloudflare_api_error(fake_api, client, answer, status, codes, text):
    fake_api.add("POST", TUNNELS, fake_api.ok(**answer))

    with pytest.raises(CloudflareAPIError) as caught:
        client.request("POST", TUNNELS, body={"name": "web"})

    assert (caught.value.status, caught.value.codes, caught.value.method, caught.value.path) == (
        status,
        codes,
        "POST",
        TUNNELS,
    )
    assert caught.value.answer().startswith(text)


def test_success_false_without_errors_raises(fake_api, client):
    response = fake_api.ok({"id": "x"})
    response._body["success"] = False
    fake_api.add("GET", TUNNELS, response)

    with pytest.raises(CloudflareAPIError):
        client.request("GET", TUNNELS)


def test_an_answer_that_is_not_json_raises(fake_api, client):
    fake_api.add("GET", TUNNELS, fake_api.raw(502, "<html>bad gateway"))
    client.max_attempts = 1

    with pytest.raises(CloudflareAPIError, match="not a JSON envelope") as caught:
        client.request("GET", TUNNELS)
    assert caught.value.status == 502


# Session, headers and the missing library


def test_from_module_sends_bearer_token_and_user_agent(fake_api):
    client = CloudflareClient.from_module(FakeModule(module_params(api_token="tok-123")))

    assert fake_api.headers["Authorization"] == "Bearer tok-123"
    assert fake_api.headers["User-Agent"].startswith("tunnelops.cloudflare/0.1.0 (+ansible-core/")
    assert (client.account_id, client.base_url, client.timeout) == (ACCOUNT, BASE_URL, 7.5)


def test_from_module_sends_global_key_headers(fake_api):
    CloudflareClient.from_module(FakeModule(module_params(api_email="ops@example.com", api_key="key-1")))

    assert "Authorization" not in fake_api.headers
    assert (fake_api.headers["X-Auth-Email"], fake_api.headers["X-Auth-Key"]) == ("ops@example.com", "key-1")


def test_user_agent_version_matches_galaxy_yml():
    with open("galaxy.yml", encoding="utf-8") as handle:
        assert yaml.safe_load(handle)["version"] == _api.COLLECTION_VERSION


def test_missing_requests_fails_with_ansibles_message(monkeypatch):
    monkeypatch.setattr(_api, "HAS_REQUESTS", False)
    monkeypatch.setattr(_api, "REQUESTS_IMPORT_ERROR", "Traceback: No module named 'requests'")
    module = FakeModule(module_params(api_token="tok"))

    with pytest.raises(SystemExit):
        CloudflareClient.from_module(module)

    assert "Failed to import the required Python library (requests)" in module.failure["msg"]
    assert module.failure["exception"] == "Traceback: No module named 'requests'"


def test_argument_spec_matches_doc_fragment():
    documented = yaml.safe_load(ModuleDocFragment.DOCUMENTATION)["options"]
    spec = cloudflare_argument_spec()

    assert set(documented) == set(spec)
    for name, option in spec.items():
        assert documented[name]["type"] == option["type"]
        assert documented[name].get("default") == option.get("default")
        assert documented[name].get("required", False) == option.get("required", False)


@pytest.mark.parametrize("option", ["api_token", "api_key"])
def test_secret_options_are_no_log(option):
    assert cloudflare_argument_spec()[option]["no_log"] is True


# Pagination


def pages(fake_api, items, per_page, with_total=True):
    chunks = [items[i : i + per_page] for i in range(0, len(items), per_page)] or [[]]

    def answer(call):
        page = int(call["query"]["page"])
        chunk = chunks[page - 1] if page <= len(chunks) else []
        info = {"page": page, "per_page": per_page, "count": len(chunk)}
        if with_total:
            info.update(total_count=len(items), total_pages=len(chunks))
        return fake_api.ok(chunk, result_info=info)

    return answer


@pytest.mark.parametrize("with_total", [True, False], ids=["total_pages", "short-last-page"])
@pytest.mark.parametrize("count", [0, 3, 7, 9])
def test_paginate_walks_every_page(fake_api, client, count, with_total):
    items = [{"id": str(i)} for i in range(count)]
    fake_api.add("GET", TUNNELS, pages(fake_api, items, 3, with_total))

    assert client.paginate(TUNNELS, query={"is_deleted": "false"}, per_page=3) == items
    assert all(call["query"]["is_deleted"] == "false" for call in fake_api.calls)


def test_paginate_over_three_pages_asks_each_page_once(fake_api, client):
    fake_api.add("GET", TUNNELS, pages(fake_api, [{"id": str(i)} for i in range(7)], 3))

    client.paginate(TUNNELS, per_page=3)

    assert [call["query"]["page"] for call in fake_api.calls] == [1, 2, 3]


@pytest.mark.parametrize(
    ("path", "per_page"),
    [
        (TUNNELS, 1000),
        ("/zones", 50),
        ("/zones/023e105f4ecef8ad9ca31a8372d0c353/dns_records", 5000),
        (f"/accounts/{ACCOUNT}/teamnet/routes", 100),
    ],
)
def test_paginate_uses_the_largest_page_size_of_the_endpoint(fake_api, client, path, per_page):
    fake_api.add("GET", path, fake_api.ok([], result_info={"page": 1, "total_pages": 1}))

    client.paginate(path)

    assert fake_api.calls[0]["query"]["per_page"] == per_page


# Retries


def test_429_honours_retry_after_with_a_second_of_jitter_for_a_post(fake_api, client, sleeps):
    limited = fake_api.error(429, 10429, "Rate limited", headers={"Retry-After": "7"})
    fake_api.add("POST", TUNNELS, limited, fake_api.ok({"id": "a"}))

    assert client.request("POST", TUNNELS, body={"name": "web"}) == {"id": "a"}
    assert sleeps == [8.0]
    assert len(fake_api.calls) == 2


def test_429_without_retry_after_backs_off(fake_api, client, sleeps):
    fake_api.add("GET", TUNNELS, fake_api.error(429, 10429), fake_api.error(429, 10429), fake_api.ok([]))

    assert client.request("GET", TUNNELS) == []
    assert sleeps == [1.0, 2.0]


def test_429_answers_do_not_use_up_the_attempts(fake_api, client, sleeps):
    limited = fake_api.error(429, 10429, "Rate limited", headers={"Retry-After": "1"})
    fake_api.add("GET", TUNNELS, *([limited] * 12), fake_api.ok([]))

    assert client.request("GET", TUNNELS) == []
    assert sleeps == [2.0] * 12


def test_retry_after_is_clamped_to_the_rate_limit_budget(fake_api, client, sleeps):
    fake_api.add("GET", TUNNELS, fake_api.error(429, 10429, headers={"Retry-After": "400"}), fake_api.ok([]))

    client.request("GET", TUNNELS)

    assert sleeps == [300.0]


def test_an_exhausted_rate_limit_budget_returns_the_last_429_as_error(fake_api, client, sleeps):
    fake_api.add("GET", TUNNELS, fake_api.error(429, 10429, "Rate limited", headers={"Retry-After": "100"}))

    with pytest.raises(CloudflareAPIError) as caught:
        client.request("GET", TUNNELS)

    assert caught.value.status == 429
    assert sleeps == [101.0, 101.0, 98.0]


@pytest.mark.parametrize("status", [500, 502, 503, 504])
def test_server_errors_on_reads_are_retried(fake_api, client, sleeps, status):
    fake_api.add("GET", TUNNELS, fake_api.error(status, None, "oops"), fake_api.ok([{"id": "a"}]))

    assert client.request("GET", TUNNELS) == [{"id": "a"}]
    assert sleeps == [1.0]


def test_attempts_are_bounded_with_exponential_backoff(fake_api, client, sleeps):
    fake_api.add("GET", TUNNELS, fake_api.error(503, None, "unavailable"))

    with pytest.raises(CloudflareAPIError) as caught:
        client.request("GET", TUNNELS)

    assert caught.value.status == 503
    assert len(fake_api.calls) == 5
    assert sleeps == [1.0, 2.0, 4.0, 8.0]


def test_backoff_is_capped_at_thirty_seconds(fake_api, sleeps):
    client = CloudflareClient(fake_api, base_url=BASE_URL, sleep=sleeps, rand=lambda: 1.0, max_attempts=8)
    client.max_total_sleep = 1000
    fake_api.add("GET", TUNNELS, fake_api.error(503, None, "unavailable"))

    with pytest.raises(CloudflareAPIError):
        client.request("GET", TUNNELS)

    assert sleeps == [1.0, 2.0, 4.0, 8.0, 16.0, 30.0, 30.0]


def test_backoff_is_jittered(fake_api):
    sleeps = Sleeps()
    client = CloudflareClient(fake_api, base_url=BASE_URL, sleep=sleeps, rand=lambda: 0.25)
    fake_api.add("GET", TUNNELS, fake_api.error(500), fake_api.error(500), fake_api.ok([]))

    client.request("GET", TUNNELS)

    assert sleeps == [0.25, 0.5]


def test_a_create_is_not_retried_after_a_server_error(fake_api, client, sleeps):
    fake_api.add("POST", TUNNELS, fake_api.error(500, None, "oops"), fake_api.ok({"id": "a"}))

    with pytest.raises(CloudflareAPIError) as caught:
        client.request("POST", TUNNELS, body={"name": "web"})

    assert caught.value.status == 500
    assert (len(fake_api.calls), sleeps) == (1, [])


@pytest.mark.parametrize("method", ["PUT", "PATCH", "DELETE"])
def test_a_write_marked_safe_is_retried_after_a_server_error(fake_api, client, sleeps, method):
    fake_api.add(method, TUNNELS + "/a", fake_api.error(502), fake_api.ok({"id": "a"}))

    assert client.request(method, TUNNELS + "/a", body={}, retry=True) == {"id": "a"}
    assert sleeps == [1.0]


@pytest.mark.parametrize(
    "failure", [requests.ConnectionError("refused"), requests.Timeout("slow")], ids=["connection", "timeout"]
)
def test_connection_failures_on_reads_are_retried(fake_api, client, sleeps, failure):
    fake_api.add("GET", TUNNELS, failure, fake_api.ok([]))

    assert client.request("GET", TUNNELS) == []
    assert sleeps == [1.0]


def test_a_connection_failure_on_a_create_raises_without_status(fake_api, client, sleeps):
    fake_api.add("POST", TUNNELS, requests.ConnectionError("reset"))

    with pytest.raises(CloudflareAPIError, match="connection failed") as caught:
        client.request("POST", TUNNELS, body={"name": "web"})

    assert caught.value.status is None
    assert sleeps == []


@pytest.mark.parametrize("status", [400, 401, 403, 404, 409])
def test_client_errors_are_not_retried(fake_api, client, sleeps, status):
    fake_api.add("GET", TUNNELS, fake_api.error(status, 1000, "no"))

    with pytest.raises(CloudflareAPIError):
        client.request("GET", TUNNELS)

    assert (len(fake_api.calls), sleeps) == (1, [])


def test_default_sleep_is_time_sleep_patched_by_the_fixture(fake_api):
    client = CloudflareClient(fake_api, base_url=BASE_URL, rand=lambda: 1.0)
    fake_api.add("GET", TUNNELS, fake_api.error(500), fake_api.ok([]))

    assert client.request("GET", TUNNELS) == []


# Error messages


@pytest.mark.parametrize(
    ("method", "path", "permission"),
    [
        ("POST", TUNNELS, "'Cloudflare Tunnel Write' (account)"),
        ("GET", TUNNELS, "'Cloudflare Tunnel Read' (account)"),
        ("DELETE", TUNNELS + "/abc", "'Cloudflare Tunnel Write' (account)"),
        ("GET", "/zones", "'Zone Read' (zone)"),
        ("POST", "/zones/023e/dns_records", "'DNS Write' (zone)"),
        ("GET", "/zones/023e/dns_records", "'DNS Read' (zone)"),
        ("POST", f"/accounts/{ACCOUNT}/load_balancers/pools", "'Load Balancing: Monitors and Pools Write' (account)"),
        ("PUT", "/zones/023e/load_balancers/lb1", "'Load Balancers Write' (zone)"),
        ("POST", f"/accounts/{ACCOUNT}/teamnet/routes", "'Cloudflare Tunnel Write' (account)"),
    ],
)
def test_a_403_names_the_missing_permission(method, path, permission):
    exc = CloudflareAPIError(403, [{"code": 10000, "message": "Authentication error"}], method, path)

    message = error_message("create tunnel 'web'", exc)

    assert message.startswith(
        "Failed to create tunnel 'web': Cloudflare answered HTTP 403, code 10000: Authentication error."
    )
    assert f"The API token lacks a permission: this needs {permission}" in message


@pytest.mark.parametrize(
    ("status", "errors", "advice"),
    [
        (401, [{"code": 10000, "message": "Authentication error"}], "did not accept the credentials"),
        (400, [{"code": 6003, "message": "Invalid request headers"}], "did not accept the credentials"),
        (429, [{"code": 10429, "message": "Rate limited"}], "rate limit"),
        (503, [], "server error"),
        (None, [{"message": "connection failed (ConnectionError)"}], "Check base_url"),
    ],
)
def test_failure_messages_say_what_to_do(status, errors, advice):
    message = error_message("list tunnels", CloudflareAPIError(status, errors, "GET", TUNNELS))

    assert message.startswith("Failed to list tunnels: Cloudflare answered ")
    assert advice in message


# Telling a wrong token from a missing permission


@pytest.mark.parametrize(
    ("verify_answer", "token_valid", "advice"),
    [
        (lambda api: api.ok({"id": "t1", "status": "active"}), True, "The API token lacks a permission: this needs"),
        (lambda api: api.error(401, 1000, "Invalid API Token"), False, "Cloudflare does not accept the API token"),
        (lambda api: api.ok({"id": "t1", "status": "expired"}), False, "Cloudflare does not accept the API token"),
        (lambda api: api.error(503, None, "unavailable"), None, "or the credentials are not valid for it"),
    ],
    ids=["valid-token", "invalid-token", "expired-token", "verify-unavailable"],
)
def test_a_403_checks_the_token_once(fake_api, client, verify_answer, token_valid, advice):
    fake_api.headers["Authorization"] = "Bearer tok"
    fake_api.add("POST", TUNNELS, fake_api.error(403, 10000, "Authentication error"))
    fake_api.add("GET", "/user/tokens/verify", verify_answer(fake_api))

    with pytest.raises(CloudflareAPIError) as caught:
        client.request("POST", TUNNELS, body={"name": "web"})

    assert caught.value.token_valid is token_valid
    assert advice in error_message("create tunnel 'web'", caught.value)
    assert [c["path"] for c in fake_api.calls] == [TUNNELS, "/user/tokens/verify"]


@pytest.mark.parametrize(
    ("headers", "answer"),
    [
        ({"X-Auth-Email": "ops@example.com", "X-Auth-Key": "k"}, (403, 10000)),
        ({"Authorization": "Bearer tok"}, (403, 1000)),
        ({"Authorization": "Bearer tok"}, (404, 10000)),
    ],
    ids=["global-key", "other-code", "other-status"],
)
def test_the_token_is_only_checked_after_a_403_with_code_10000(fake_api, client, headers, answer):
    fake_api.headers.update(headers)
    fake_api.add("GET", TUNNELS, fake_api.error(answer[0], answer[1], "no"))

    with pytest.raises(CloudflareAPIError) as caught:
        client.request("GET", TUNNELS)

    assert caught.value.token_valid is None
    assert len(fake_api.calls) == 1
