"""Tunnel endpoints of the emulator: shapes, filters, status rules and errors as Cloudflare reports them."""

from __future__ import annotations

import base64
import json

import pytest
from conftest import SECRET_32, TUNNELS, error, ok
from harness import ACCOUNT_ID

TUNNEL_KEYS = {
    "id",
    "account_tag",
    "name",
    "created_at",
    "deleted_at",
    "connections",
    "conns_active_at",
    "conns_inactive_at",
    "metadata",
    "remote_config",
    "status",
    "tun_type",
    "config_src",
}


def test_create_returns_the_documented_tunnel_shape_without_the_secret(make_tunnel):
    tunnel = make_tunnel("web", tunnel_secret=SECRET_32)

    assert set(tunnel) == TUNNEL_KEYS
    assert tunnel["account_tag"] == ACCOUNT_ID
    assert (tunnel["status"], tunnel["tun_type"], tunnel["config_src"]) == ("inactive", "cfd_tunnel", "local")
    assert tunnel["remote_config"] is False and tunnel["deleted_at"] is None and tunnel["connections"] == []
    assert SECRET_32 not in json.dumps(tunnel)


def test_remote_managed_create_also_returns_a_token(make_tunnel):
    tunnel = make_tunnel("remote", config_src="cloudflare")

    decoded = json.loads(base64.b64decode(tunnel["token"]))
    assert (decoded["a"], decoded["t"]) == (ACCOUNT_ID, tunnel["id"])
    assert tunnel["remote_config"] is True


def test_token_endpoint_encodes_account_tunnel_and_secret(cfemu, make_tunnel):
    tunnel = make_tunnel("web", tunnel_secret=SECRET_32)

    token = ok(cfemu.api("GET", f"{TUNNELS}/{tunnel['id']}/token"))

    assert json.loads(base64.b64decode(token)) == {"a": ACCOUNT_ID, "t": tunnel["id"], "s": SECRET_32}


def test_a_live_duplicate_name_is_a_409_with_code_1013(cfemu, make_tunnel):
    make_tunnel("web")

    error(cfemu.api("POST", TUNNELS, body={"name": "web"}), 409, 1013)


@pytest.mark.parametrize(
    ("body", "fragment"),
    [
        ({}, "name"),
        ({"name": ""}, "empty"),
        ({"name": 42}, "name"),
        ({"name": "x", "tunnel_secret": base64.b64encode(b"short").decode()}, "32 bytes"),
        ({"name": "x", "tunnel_secret": "not base64!"}, "base64"),
        ({"name": "x", "config_src": "dashboard"}, "config_src"),
    ],
)
def test_invalid_create_bodies_are_refused_with_400(cfemu, body, fragment):
    assert fragment in error(cfemu.api("POST", TUNNELS, body=body), 400, 1001)


def test_status_follows_connectors_from_inactive_to_healthy_to_down(cfemu, make_tunnel):
    tunnel = make_tunnel("web")
    path = f"{TUNNELS}/{tunnel['id']}"

    client_id = cfemu.add_connector(tunnel["id"], colos=("AMS", "FRA"), origin_ip="198.51.100.7")
    healthy = ok(cfemu.api("GET", path))
    cfemu.remove_connector(tunnel["id"], client_id)
    down = ok(cfemu.api("GET", path))

    assert tunnel["status"] == "inactive"
    assert healthy["status"] == "healthy" and healthy["conns_active_at"] and healthy["conns_inactive_at"] is None
    assert sorted(c["colo_name"] for c in healthy["connections"]) == ["AMS", "FRA"]
    assert {c["client_id"] for c in healthy["connections"]} == {client_id}
    assert down["status"] == "down" and down["conns_active_at"] is None and down["conns_inactive_at"]


def test_a_connector_missing_connections_makes_the_tunnel_degraded(cfemu, make_tunnel):
    tunnel = make_tunnel("web")

    cfemu.add_connector(tunnel["id"], colos=("AMS",), pending_colos=("FRA",))

    assert ok(cfemu.api("GET", f"{TUNNELS}/{tunnel['id']}"))["status"] == "degraded"


def test_connections_lists_connectors_with_their_connections(cfemu, make_tunnel):
    tunnel = make_tunnel("web")
    client_id = cfemu.add_connector(tunnel["id"], version="2025.1.0", arch="linux_arm64")

    connectors = ok(cfemu.api("GET", f"{TUNNELS}/{tunnel['id']}/connections"))
    single = ok(cfemu.api("GET", f"{TUNNELS}/{tunnel['id']}/connectors/{client_id}"))

    assert [(c["id"], c["version"], c["arch"], len(c["conns"])) for c in connectors] == [
        (client_id, "2025.1.0", "linux_arm64", 2)
    ]
    assert single == connectors[0]


def test_cleanup_removes_one_connector_or_all(cfemu, make_tunnel):
    tunnel = make_tunnel("web")
    first = cfemu.add_connector(tunnel["id"])
    second = cfemu.add_connector(tunnel["id"])
    path = f"{TUNNELS}/{tunnel['id']}/connections"

    ok(cfemu.api("DELETE", path, query={"client_id": first}))
    remaining = [c["id"] for c in ok(cfemu.api("GET", path))]
    ok(cfemu.api("DELETE", path))

    assert remaining == [second]
    assert ok(cfemu.api("GET", path)) == []


def test_delete_is_refused_while_connected_and_cascade_forces_it(cfemu, make_tunnel):
    tunnel = make_tunnel("web")
    cfemu.add_connector(tunnel["id"])
    path = f"{TUNNELS}/{tunnel['id']}"

    error(cfemu.api("DELETE", path), 400, 1022)
    deleted = ok(cfemu.api("DELETE", path, query={"cascade": "true"}))

    assert deleted["deleted_at"] and deleted["connections"] == []
    assert ok(cfemu.api("GET", path))["deleted_at"] == deleted["deleted_at"]


def test_a_deleted_name_can_be_reused(cfemu, make_tunnel):
    old = make_tunnel("web")
    ok(cfemu.api("DELETE", f"{TUNNELS}/{old['id']}"))

    new = make_tunnel("web")

    assert new["id"] != old["id"]


def test_patch_renames_and_rotates_the_secret(cfemu, make_tunnel):
    tunnel = make_tunnel("web")
    new_secret = base64.b64encode(b"n" * 32).decode()

    patched = ok(cfemu.api("PATCH", f"{TUNNELS}/{tunnel['id']}", body={"name": "web2", "tunnel_secret": new_secret}))
    token = json.loads(base64.b64decode(ok(cfemu.api("GET", f"{TUNNELS}/{tunnel['id']}/token"))))

    assert patched["name"] == "web2" and token["s"] == new_secret


def test_patch_to_a_taken_name_is_a_conflict(cfemu, make_tunnel):
    make_tunnel("a")
    b = make_tunnel("b")

    error(cfemu.api("PATCH", f"{TUNNELS}/{b['id']}", body={"name": "a"}), 409, 1013)


def test_unknown_tunnel_is_a_404(cfemu):
    error(cfemu.api("GET", f"{TUNNELS}/00000000-0000-4000-8000-000000000000"), 404, 1002)


@pytest.mark.parametrize(
    ("method", "suffix", "body"),
    [("PATCH", "", {"name": "again"}), ("DELETE", "", None), ("DELETE", "/connections", None)],
)
def test_a_deleted_tunnel_refuses_changes(cfemu, make_tunnel, method, suffix, body):
    tunnel = make_tunnel("gone")
    ok(cfemu.api("DELETE", f"{TUNNELS}/{tunnel['id']}"))

    error(cfemu.api(method, f"{TUNNELS}/{tunnel['id']}{suffix}", body=body), 400, 1023)
