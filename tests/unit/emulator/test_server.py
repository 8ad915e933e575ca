"""The emulator as a server: command line, envelope, authentication, control surface, faults, rate limit, threads."""

from __future__ import annotations

import http.client
import signal
import subprocess
import sys
import threading
import time

import pytest
from conftest import TUNNELS, error, ok
from harness import (
    ACCOUNT_ID,
    API_EMAIL,
    API_KEY,
    CFEMU,
    TOKEN_ALL,
    TOKEN_NOTUNNEL,
    TOKEN_READONLY,
    ZONES,
    Emulator,
    EmulatorError,
)


def test_the_banner_names_the_api_base_and_sigterm_exits_cleanly(tmp_path):
    seed = tmp_path / "seed.yml"
    seed.write_text("accounts: [{id: " + ACCOUNT_ID + ", name: A}]\ntokens: [{value: t, permissions: []}]\n")
    process = subprocess.Popen(
        [sys.executable, str(CFEMU), "--listen", "127.0.0.1:0", "--seed", str(seed)], stdout=subprocess.PIPE, text=True
    )
    banner = process.stdout.readline().strip()

    process.send_signal(signal.SIGTERM)

    assert banner.startswith("cfemu listening on http://127.0.0.1:") and banner.endswith("/client/v4")
    assert process.wait(timeout=5) == 0
    process.stdout.close()


def test_a_seed_without_tokens_is_refused(tmp_path):
    seed = tmp_path / "seed.yml"
    seed.write_text("accounts: []\n")

    with pytest.raises(EmulatorError, match="tokens"):
        Emulator(seed=seed).start()


def test_a_dict_seed_and_its_tunnels_are_loaded(cfemu_factory):
    seed = {
        "accounts": [{"id": ACCOUNT_ID, "name": "A"}],
        "tokens": [{"value": "tok", "permissions": ["Cloudflare Tunnel Read"]}],
        "tunnels": [
            {"name": "seeded", "id": "6ff42ae2-765d-4adf-8112-31c55c1551ef", "connectors": [{"colos": ["LHR"]}]}
        ],
    }
    emu = cfemu_factory(seed=seed)

    tunnels = ok(emu.api("GET", TUNNELS, token="tok"))

    assert [(t["id"], t["name"], t["status"]) for t in tunnels] == [
        ("6ff42ae2-765d-4adf-8112-31c55c1551ef", "seeded", "healthy")
    ]


# --- envelope and authentication -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("headers", "status", "code"),
    [
        ({}, 400, 9106),
        ({"Authorization": "Token abc"}, 400, 6003),
        ({"Authorization": "Bearer wrong-token"}, 403, 10000),
        ({"X-Auth-Email": API_EMAIL, "X-Auth-Key": "wrong"}, 403, 9103),
        ({"X-Auth-Email": API_EMAIL}, 400, 6003),
    ],
)
def test_bad_credentials_are_refused_like_cloudflare(cfemu, headers, status, code):
    error(cfemu.api("GET", TUNNELS, token=None, headers=headers), status, code)


def test_the_legacy_global_key_may_do_everything(cfemu):
    headers = {"X-Auth-Email": API_EMAIL.upper(), "X-Auth-Key": API_KEY}

    ok(cfemu.api("POST", TUNNELS, token=None, headers=headers, body={"name": "by-key"}))


@pytest.mark.parametrize(
    ("token", "method", "path", "allowed"),
    [
        (TOKEN_READONLY, "GET", TUNNELS, True),
        (TOKEN_READONLY, "POST", TUNNELS, False),
        (TOKEN_NOTUNNEL, "GET", TUNNELS, False),
        (TOKEN_NOTUNNEL, "GET", f"/zones/{ZONES['example.com']}/dns_records", True),
        (TOKEN_NOTUNNEL, "GET", "/zones", True),
        (TOKEN_ALL, "GET", f"/accounts/{ACCOUNT_ID}/teamnet/routes", True),
    ],
)
def test_token_permissions_decide_access(cfemu, token, method, path, allowed):
    answer = cfemu.api(method, path, token=token, body={"name": "t"} if method == "POST" else None)

    if allowed:
        ok(answer)
    else:
        assert "Authentication error" in error(answer, 403, 10000)


def test_token_verify_reports_an_active_token(cfemu):
    result = ok(cfemu.api("GET", "/user/tokens/verify", token=TOKEN_READONLY))

    assert result["status"] == "active" and len(result["id"]) == 32


@pytest.mark.parametrize(
    ("method", "path", "status", "code"),
    [
        ("GET", "/nothing/here", 404, 7000),
        ("POST", f"/zones/{ZONES['example.com']}", 405, 7001),
        ("GET", "/accounts/not-an-id/cfd_tunnel", 400, 7003),
        ("GET", f"/accounts/{'0' * 32}/cfd_tunnel", 403, 10000),
        ("GET", f"/zones/{'0' * 32}/dns_records", 403, 10000),
    ],
)
def test_unknown_paths_and_objects_answer_an_error_envelope(cfemu, method, path, status, code):
    error(cfemu.api(method, path), status, code)


def test_paths_outside_the_api_base_also_answer_an_envelope(cfemu):
    status, envelope, _ignored = Emulator._call("GET", cfemu.base_url.replace("/client/v4", "/elsewhere"))

    assert (status, envelope["success"], envelope["errors"][0]["code"]) == (404, False, 7000)


def test_a_body_that_is_not_json_is_refused(cfemu):
    connection = http.client.HTTPConnection("127.0.0.1", cfemu.port, timeout=5)
    connection.request(
        "POST",
        f"/client/v4{TUNNELS}",
        body=b"{not json",
        headers={"Authorization": f"Bearer {TOKEN_ALL}", "Content-Type": "application/json"},
    )
    response = connection.getresponse()

    assert response.status == 400 and b"9207" in response.read()
    connection.close()


@pytest.mark.parametrize(
    ("query", "expected"), [({}, [ACCOUNT_ID]), ({"name": "ops"}, [ACCOUNT_ID]), ({"name": "nomatch"}, [])]
)
def test_accounts_list_shows_the_seeded_account(cfemu, query, expected):
    assert [a["id"] for a in ok(cfemu.api("GET", "/accounts", query=query))] == expected


def test_accounts_per_page_is_bounded_like_cloudflare(cfemu):
    error(cfemu.api("GET", "/accounts", query={"per_page": 100}), 400, 1001)


# --- control surface ----------------------------------------------------------------------------------------------


def test_request_log_records_method_path_query_and_status_in_order(cfemu):
    cfemu.api("GET", TUNNELS, query={"name": "x"})
    cfemu.api("POST", TUNNELS, body={"name": ""})

    log = cfemu.requests()

    assert [(r["method"], r["path"], r["query"], r["status"]) for r in log] == [
        ("GET", TUNNELS, {"name": ["x"]}, 200),
        ("POST", TUNNELS, {}, 400),
    ]
    assert log[0]["seq"] < log[1]["seq"] and log[1]["body"] == {"name": ""}


def test_control_requests_are_not_logged_and_the_log_can_be_cleared(cfemu):
    cfemu.api("GET", TUNNELS)
    cfemu.state()

    assert len(cfemu.requests(clear=True)) == 1
    assert cfemu.requests() == []


def test_harness_filters_requests_and_writes(cfemu, make_tunnel):
    make_tunnel("a")
    cfemu.api("GET", TUNNELS)
    cfemu.api("GET", "/zones")

    assert [r["method"] for r in cfemu.writes()] == ["POST"]
    assert len(cfemu.api_requests(method="GET", path="cfd_tunnel$")) == 1


def test_reset_returns_to_the_seed(cfemu, make_tunnel):
    seeded = cfemu.state()
    make_tunnel("temporary")

    cfemu.reset()
    after = cfemu.state()

    assert after["tunnels"] == seeded["tunnels"] == []
    assert [r["name"] for r in after["dns_records"]] == [r["name"] for r in seeded["dns_records"]]
    assert cfemu.requests() == []


def test_state_shows_secrets_and_connectors_for_tests(cfemu, make_tunnel):
    tunnel = make_tunnel("t")
    client_id = cfemu.add_connector(tunnel["id"], client_id="1b8e3a5e-0000-4000-8000-000000000001")

    [item] = cfemu.state()["tunnels"]

    assert item["tunnel_secret"] and [c["id"] for c in item["connectors"]] == [client_id]


def test_connector_control_errors_for_unknown_tunnels(cfemu):
    with pytest.raises(EmulatorError, match="404"):
        cfemu.add_connector("00000000-0000-4000-8000-000000000000")


def test_removing_a_connector_with_pending_keeps_its_connections_as_reconnecting(cfemu, make_tunnel):
    tunnel = make_tunnel("t")
    client_id = cfemu.add_connector(tunnel["id"])

    cfemu.remove_connector(tunnel["id"], client_id, pending=True)
    result = ok(cfemu.api("GET", f"{TUNNELS}/{tunnel['id']}"))

    assert result["status"] == "down"
    assert [c["is_pending_reconnect"] for c in result["connections"]] == [True, True]


# --- faults ------------------------------------------------------------------------------------------------------


def test_a_status_fault_hits_the_next_matching_requests_only(cfemu):
    cfemu.fault("GET", "/accounts/*/cfd_tunnel", status=503, count=2)

    answers = [cfemu.api("GET", TUNNELS) for _ignored in range(3)]

    assert [answer[0] for answer in answers] == [503, 503, 200]
    assert answers[0][1]["errors"][0]["code"] == 10001
    assert [r["status"] for r in cfemu.requests()] == [503, 503, 200]


def test_a_fault_on_another_method_or_path_does_not_match(cfemu):
    cfemu.fault("POST", "/accounts/*/cfd_tunnel", status=500)
    cfemu.fault("*", "^/zones$", status=500)

    assert cfemu.api("GET", TUNNELS)[0] == 200
    assert cfemu.api("GET", "/zones/" + ZONES["example.com"])[0] == 200
    assert cfemu.api("GET", "/zones")[0] == 500


def test_a_429_fault_carries_retry_after(cfemu):
    cfemu.fault("*", "*", status=429, retry_after=7)

    status, envelope, headers = cfemu.api("GET", TUNNELS)

    assert (status, headers["Retry-After"], envelope["errors"][0]["code"]) == (429, "7", 971)


def test_a_drop_fault_closes_the_connection_without_an_answer(cfemu):
    cfemu.fault("GET", "*", drop=True)
    connection = http.client.HTTPConnection("127.0.0.1", cfemu.port, timeout=5)
    connection.request("GET", f"/client/v4{TUNNELS}", headers={"Authorization": f"Bearer {TOKEN_ALL}"})

    with pytest.raises((http.client.RemoteDisconnected, ConnectionError)):
        connection.getresponse()
    connection.close()
    assert cfemu.requests()[0]["dropped"] is True
    assert cfemu.api("GET", TUNNELS)[0] == 200


def test_a_delay_fault_answers_late_but_correctly(cfemu):
    cfemu.fault("GET", "*", delay_ms=300)
    started = time.monotonic()

    ok(cfemu.api("GET", TUNNELS))

    assert time.monotonic() - started >= 0.3


def test_an_invalid_fault_is_refused(cfemu):
    with pytest.raises(EmulatorError, match="400"):
        cfemu.fault("GET", "*")


# --- rate limit, latency, concurrency ------------------------------------------------------------------------


def test_the_rate_limit_answers_429_with_retry_after_past_the_budget(cfemu_factory):
    emu = cfemu_factory(rate_limit="3/60")

    answers = [emu.api("GET", TUNNELS) for _ignored in range(4)]

    assert [a[0] for a in answers] == [200, 200, 200, 429]
    assert answers[0][2]["Ratelimit-Policy"] == '"default";q=3;w=60'
    assert answers[2][2]["Ratelimit"].startswith('"default";r=0;')
    assert answers[3][1]["errors"][0]["code"] == 971 and 1 <= int(answers[3][2]["Retry-After"]) <= 60


def test_the_rate_limit_is_counted_per_credential_and_recovers(cfemu_factory):
    emu = cfemu_factory(rate_limit="2/1")
    for _ignored in range(2):
        ok(emu.api("GET", TUNNELS))

    other = emu.api("GET", TUNNELS, token=TOKEN_READONLY)[0]
    limited = emu.api("GET", TUNNELS)[0]
    time.sleep(1.1)
    recovered = emu.api("GET", TUNNELS)[0]

    assert (other, limited, recovered) == (200, 429, 200)


def test_latency_delays_every_api_answer(cfemu_factory):
    emu = cfemu_factory(latency_ms=150)
    started = time.monotonic()

    ok(emu.api("GET", TUNNELS))

    assert time.monotonic() - started >= 0.15


def test_concurrent_creates_of_one_name_have_exactly_one_winner(cfemu):
    statuses = []

    def create(name):
        statuses.append(cfemu.api("POST", TUNNELS, body={"name": name})[0])

    threads = [threading.Thread(target=create, args=("same",)) for _ignored in range(12)]
    threads += [threading.Thread(target=create, args=(f"own-{i}",)) for i in range(12)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    names = sorted(t["name"] for t in cfemu.state()["tunnels"])
    assert sorted(statuses).count(200) == 13 and statuses.count(409) == 11
    assert names.count("same") == 1 and len(names) == 13


@pytest.mark.parametrize(
    ("credentials", "accepted"),
    [
        ({"tunnel_secret": "dGhpcyBpcyBhIHRlc3Qgc2VjcmV0IG9mIDMyIGJ5dGVzIQ==", "account_tag": ACCOUNT_ID}, True),
        ({"tunnel_secret": "dGhpcyBpcyBhIHRlc3Qgc2VjcmV0IG9mIDMyIGJ5dGVzIQ"}, True),
        ({"tunnel_secret": "b3RoZXIgc2VjcmV0IG9mIGF0IGxlYXN0IDMyIGJ5dGVzIQ=="}, False),
        ({"tunnel_secret": "dGhpcyBpcyBhIHRlc3Qgc2VjcmV0IG9mIDMyIGJ5dGVzIQ==", "account_tag": "0" * 32}, False),
        ({"token": "bm90IGEgdG9rZW4="}, False),
    ],
)
def test_a_connector_presenting_credentials_must_present_the_tunnels_own(cfemu, make_tunnel, credentials, accepted):
    tunnel = make_tunnel("t", tunnel_secret="dGhpcyBpcyBhIHRlc3Qgc2VjcmV0IG9mIDMyIGJ5dGVzIQ==")

    if accepted:
        cfemu.add_connector(tunnel["id"], credentials=credentials)
    else:
        with pytest.raises(EmulatorError, match="403"):
            cfemu.add_connector(tunnel["id"], credentials=credentials)


def test_a_connector_presenting_the_tunnel_token_is_accepted(cfemu, make_tunnel):
    tunnel = make_tunnel("t")
    token = ok(cfemu.api("GET", f"{TUNNELS}/{tunnel['id']}/token"))

    cfemu.add_connector(tunnel["id"], credentials={"token": token})

    assert ok(cfemu.api("GET", f"{TUNNELS}/{tunnel['id']}"))["status"] == "healthy"


def test_an_account_can_be_read_by_id(cfemu):
    assert ok(cfemu.api("GET", f"/accounts/{ACCOUNT_ID}"))["name"] == "Example Ops"


def test_a_token_limited_to_other_zones_cannot_see_this_one(cfemu_factory):
    seed = {
        "accounts": [{"id": ACCOUNT_ID}],
        "zones": [{"id": z, "name": n} for n, z in ZONES.items()],
        "tokens": [{"value": "narrow", "permissions": ["Zone Read", "DNS Read"], "zones": [ZONES["example.net"]]}],
    }
    emu = cfemu_factory(seed=seed)

    assert [z["name"] for z in ok(emu.api("GET", "/zones", token="narrow"))] == ["example.net"]
    error(emu.api("GET", f"/zones/{ZONES['example.com']}/dns_records", token="narrow"), 403, 10000)
