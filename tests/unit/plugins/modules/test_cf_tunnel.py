from __future__ import annotations

import base64
import json

import pytest
import requests
from ansible_collections.tunnelops.cloudflare.plugins.modules import cf_tunnel

ACCOUNT = "9a7806061c88ada191ed06f989cc3dac"
BASE_URL = "https://api.cloudflare.test/client/v4"
API_TOKEN = "unit-test-token-1c2d"
TUNNELS = f"/accounts/{ACCOUNT}/cfd_tunnel"
TUNNEL_ID = "6ff42ae2-765d-4adf-8112-31c55c1551ef"
ONE = f"{TUNNELS}/{TUNNEL_ID}"
GIVEN_SECRET = base64.b64encode(bytes(range(32))).decode()
STORED_SECRET = base64.b64encode(bytes(range(100, 132))).decode()
TOKEN = base64.b64encode(json.dumps({"a": ACCOUNT, "t": TUNNEL_ID, "s": STORED_SECRET}).encode()).decode()
RULES = [{"hostname": "app.example.com", "service": "http://localhost:8080"}, {"service": "http_status:404"}]
API_RULES = [{"hostname": "app.example.com", "service": "http://localhost:8080"}, {"service": "http_status:404"}]


def tunnel(name="web", config_src="local", connections=()):
    return {
        "id": TUNNEL_ID,
        "account_tag": ACCOUNT,
        "name": name,
        "created_at": "2026-11-03T10:12:44Z",
        "deleted_at": None,
        "connections": list(connections),
        "status": "healthy" if connections else "inactive",
        "tun_type": "cfd_tunnel",
        "config_src": config_src,
        "remote_config": config_src == "cloudflare",
    }


def connector(client_id="c1", colos=("AMS", "FRA"), pending=False):
    conns = [
        {"colo_name": colo, "id": f"{client_id}-{colo}", "is_pending_reconnect": pending, "origin_ip": "192.0.2.5"}
        for colo in colos
    ]
    return {
        "id": client_id,
        "version": "2026.8.2",
        "arch": "linux_amd64",
        "run_at": "2026-11-03T10:13:00Z",
        "conns": conns,
    }


def args(**options):
    return {"api_token": API_TOKEN, "account_id": ACCOUNT, "base_url": BASE_URL, "name": "web", **options}


def existing(fake_api, found=None, config=None):
    fake_api.add("GET", TUNNELS, fake_api.ok([found] if found else []))
    fake_api.add("GET", ONE + "/configurations", fake_api.ok({"version": 4, "config": config or {"ingress": []}}))
    fake_api.add("GET", ONE + "/token", fake_api.ok(TOKEN))


def echo_created(fake_api, config_src="local"):
    def answer(call):
        created = tunnel(call["body"]["name"], call["body"]["config_src"])
        if config_src == "cloudflare":
            created["token"] = TOKEN
        return fake_api.ok(created)

    fake_api.add("POST", TUNNELS, answer)


def write_methods(fake_api):
    return [call["method"] for call in fake_api.writes()]


# current / desired / expected


CASES = {
    "create": (None, {}, True, ["POST"]),
    "adopt": (tunnel(), {}, False, []),
    "rotate": (tunnel(), {"rotate_secret": True}, True, ["PATCH"]),
    "given-secret-ignored": (tunnel(), {"tunnel_secret": GIVEN_SECRET}, False, []),
    "create-remote-with-config": (None, {"config_src": "cloudflare", "ingress": RULES}, True, ["POST", "PUT"]),
    "same-remote-config": (
        tunnel(config_src="cloudflare"),
        {"config_src": "cloudflare", "ingress": RULES},
        False,
        [],
    ),
    "other-remote-config": (
        tunnel(config_src="cloudflare"),
        {"config_src": "cloudflare", "ingress": RULES[1:]},
        True,
        ["PUT"],
    ),
    "delete-missing": (None, {"state": "absent"}, False, []),
    "delete-idle": (tunnel(), {"state": "absent"}, True, ["DELETE"]),
}


@pytest.fixture
def scenario(fake_api):
    def prepare(current, desired):
        existing(fake_api, current, {"ingress": API_RULES})
        echo_created(fake_api, desired.get("config_src", "local"))
        fake_api.add("PATCH", ONE, fake_api.ok(tunnel()))
        fake_api.add("PUT", ONE + "/configurations", fake_api.ok({"version": 5, "config": {}}))
        fake_api.add("GET", ONE + "/connections", fake_api.ok([]))
        fake_api.add("DELETE", ONE, fake_api.ok(dict(tunnel(), deleted_at="2026-12-01T00:00:00Z")))
        return args(**desired)

    return prepare


@pytest.mark.parametrize(("current", "desired", "changed", "writes"), CASES.values(), ids=CASES.keys())
def test_changes_only_what_differs(run_module, fake_api, scenario, current, desired, changed, writes):
    result = run_module(cf_tunnel, scenario(current, desired))

    assert result.get("failed") is None, result.get("msg")
    assert result["changed"] is changed
    assert write_methods(fake_api) == writes


@pytest.mark.parametrize(("current", "desired", "changed", "writes"), CASES.values(), ids=CASES.keys())
def test_check_mode_predicts_the_change_and_sends_no_write(
    run_module, fake_api, scenario, current, desired, changed, writes
):
    result = run_module(cf_tunnel, scenario(current, desired), check_mode=True)

    assert result["changed"] is changed
    assert fake_api.writes() == []


def test_an_existing_tunnel_costs_one_request(run_module, fake_api):
    existing(fake_api, tunnel())

    result = run_module(cf_tunnel, args())

    assert [(c["method"], c["query"]) for c in fake_api.calls] == [
        ("GET", {"name": "web", "is_deleted": "false", "per_page": 2})
    ]
    assert result["tunnel"]["id"] == TUNNEL_ID


def test_create_sends_name_config_src_and_a_32_byte_secret(run_module, fake_api):
    existing(fake_api)
    echo_created(fake_api)

    run_module(cf_tunnel, args())

    body = fake_api.writes()[0]["body"]
    assert (body["name"], body["config_src"]) == ("web", "local")
    assert len(base64.b64decode(body["tunnel_secret"])) == 32


def test_create_returns_credentials_with_the_given_secret_unmasked(run_module, fake_api):
    existing(fake_api)
    echo_created(fake_api)

    result = run_module(cf_tunnel, args(tunnel_secret=GIVEN_SECRET, return_credentials=True))

    assert result["credentials"] == {
        "AccountTag": ACCOUNT,
        "TunnelSecret": GIVEN_SECRET,
        "TunnelID": TUNNEL_ID,
        "Endpoint": "",
    }
    assert result.invocation["module_args"]["tunnel_secret"] == "VALUE_SPECIFIED_IN_NO_LOG_PARAMETER"
    assert result.invocation["module_args"]["api_token"] == "VALUE_SPECIFIED_IN_NO_LOG_PARAMETER"
    assert API_TOKEN not in json.dumps(result)
    assert len(fake_api.calls) == 2


def test_credentials_of_an_existing_tunnel_are_rebuilt_from_the_token(run_module, fake_api):
    existing(fake_api, tunnel())

    result = run_module(cf_tunnel, args(return_credentials=True))

    assert result["credentials"] == {
        "AccountTag": ACCOUNT,
        "TunnelSecret": STORED_SECRET,
        "TunnelID": TUNNEL_ID,
        "Endpoint": "",
    }
    assert result["changed"] is False
    assert [c["path"] for c in fake_api.calls] == [TUNNELS, ONE + "/token"]


def test_the_token_of_a_new_remote_tunnel_comes_from_the_create_answer(run_module, fake_api):
    existing(fake_api)
    echo_created(fake_api, "cloudflare")

    result = run_module(cf_tunnel, args(config_src="cloudflare", return_token=True))

    assert result["token"] == TOKEN
    assert "token" not in result["tunnel"]
    assert len(fake_api.calls) == 2


def test_rotation_masks_the_secret_in_the_diff(run_module, fake_api, scenario):
    result = run_module(
        cf_tunnel, scenario(tunnel(), {"rotate_secret": True, "tunnel_secret": GIVEN_SECRET}), diff=True
    )

    assert result["diff"]["before"]["tunnel_secret"] == "<secret>"
    assert result["diff"]["after"]["tunnel_secret"] == "<new secret>"
    assert fake_api.writes()[0]["body"] == {"tunnel_secret": GIVEN_SECRET}
    assert GIVEN_SECRET not in json.dumps(result)


def test_a_given_secret_for_an_existing_tunnel_warns(run_module, fake_api):
    existing(fake_api, tunnel())

    result = run_module(cf_tunnel, args(tunnel_secret=GIVEN_SECRET))

    assert any("tunnel_secret is ignored" in warning for warning in result["warnings"])


def test_remote_config_is_sent_with_durations_in_seconds(run_module, fake_api, scenario):
    options = {"config_src": "cloudflare", "ingress": RULES, "origin_request": {"connectTimeout": "1m"}}

    result = run_module(cf_tunnel, scenario(tunnel(config_src="cloudflare"), options))

    put = fake_api.writes()[0]
    assert put["body"]["config"]["originRequest"] == {"connectTimeout": 60}
    assert result["config"]["version"] == 5


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"name": "6ff42ae2-765d-4adf-8112-31c55c1551ef"}, "you cannot use UUIDs as tunnel names"),
        ({"tunnel_secret": "c2hvcnQ="}, "tunnel_secret must be standard base64 of at least 32 bytes"),
        ({"ingress": RULES}, "need config_src=cloudflare"),
        ({"config_src": "cloudflare", "ingress": RULES[::-1]}, "Invalid ingress for tunnel 'web'"),
    ],
    ids=["uuid-name", "short-secret", "ingress-on-local", "catch-all-first"],
)
def test_invalid_options_fail_before_any_request(run_module, fake_api, options, message):
    result = run_module(cf_tunnel, args(**options))

    assert result["failed"] is True
    assert message in result["msg"]
    assert fake_api.calls == []


def test_config_src_mismatch_fails(run_module, fake_api):
    existing(fake_api, tunnel(config_src="cloudflare"))

    result = run_module(cf_tunnel, args())

    assert "has config_src=cloudflare, the task asks for config_src=local" in result["msg"]
    assert fake_api.writes() == []


@pytest.mark.parametrize(
    ("failure", "changed", "warned"),
    [
        (lambda api: api.error(409, 1013, "You already have a tunnel with this name."), False, False),
        (lambda api: requests.ConnectionError("reset by peer"), True, True),
        (lambda api: api.error(502, None, "bad gateway"), True, True),
    ],
    ids=["conflict", "dropped-connection", "server-error"],
)
def test_a_failed_create_looks_again_and_adopts(run_module, fake_api, failure, changed, warned):
    fake_api.add("GET", TUNNELS, fake_api.ok([]), fake_api.ok([tunnel()]))
    fake_api.add("GET", ONE + "/token", fake_api.ok(TOKEN))
    fake_api.add("POST", TUNNELS, failure(fake_api))

    result = run_module(cf_tunnel, args(return_credentials=True))

    assert (result["changed"], result["tunnel"]["id"]) == (changed, TUNNEL_ID)
    assert bool(result.get("warnings")) is warned
    assert [c["method"] for c in fake_api.calls] == ["GET", "POST", "GET", "GET"]
    assert result["credentials"]["TunnelSecret"] == STORED_SECRET


def test_a_failed_create_with_nothing_to_adopt_fails(run_module, fake_api):
    existing(fake_api)
    fake_api.add("POST", TUNNELS, fake_api.error(500, None, "internal error"))

    result = run_module(cf_tunnel, args())

    assert result["msg"].startswith("Failed to look up tunnel 'web' again after the create failed: Cloudflare answered")
    assert result["error"]["status"] == 500


def test_a_forbidden_create_names_the_missing_permission(run_module, fake_api):
    existing(fake_api)
    fake_api.add("POST", TUNNELS, fake_api.error(403, 10000, "Authentication error"))
    fake_api.add("GET", "/user/tokens/verify", fake_api.ok({"id": "t1", "status": "active"}))

    result = run_module(cf_tunnel, args())

    assert result["msg"].startswith("Failed to create tunnel 'web': Cloudflare answered HTTP 403, code 10000")
    assert "'Cloudflare Tunnel Write' (account)" in result["msg"]
    assert API_TOKEN not in json.dumps(result)


# state=absent


def test_delete_refuses_connected_connectors_and_names_them(run_module, fake_api):
    existing(fake_api, tunnel())
    fake_api.add("GET", ONE + "/connections", fake_api.ok([connector("c1"), connector("c2", pending=True)]))

    result = run_module(cf_tunnel, args(state="absent"))

    assert result["failed"] is True
    assert "still has 1 connected connector(s): c1 (192.0.2.5, 1xAMS, 1xFRA)" in result["msg"]
    assert fake_api.writes() == []


def test_delete_ignores_connectors_that_are_only_pending_reconnect(run_module, fake_api):
    existing(fake_api, tunnel())
    fake_api.add("GET", ONE + "/connections", fake_api.ok([connector("c2", pending=True)]))
    fake_api.add("DELETE", ONE, fake_api.ok(tunnel()))

    result = run_module(cf_tunnel, args(state="absent"))

    assert result["changed"] is True
    assert [(c["method"], c["query"]) for c in fake_api.writes()] == [("DELETE", {})]


def test_force_deletes_with_cascade_without_listing_connectors(run_module, fake_api):
    existing(fake_api, tunnel())
    fake_api.add("DELETE", ONE, fake_api.ok(tunnel()))

    result = run_module(cf_tunnel, args(state="absent", force=True))

    assert result["changed"] is True
    assert [(c["method"], c["path"], c["query"]) for c in fake_api.calls] == [
        ("GET", TUNNELS, {"name": "web", "is_deleted": "false", "per_page": 2}),
        ("DELETE", ONE, {"cascade": "true"}),
    ]
