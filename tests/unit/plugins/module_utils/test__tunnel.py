from __future__ import annotations

import base64
import json

import pytest
from ansible_collections.tunnelops.cloudflare.plugins.module_utils import _tunnel
from ansible_collections.tunnelops.cloudflare.plugins.module_utils._api import CloudflareClient

BASE_URL = "https://api.cloudflare.test/client/v4"
ACCOUNT = "9a7806061c88ada191ed06f989cc3dac"
TUNNELS = f"/accounts/{ACCOUNT}/cfd_tunnel"
TUNNEL_ID = "6ff42ae2-765d-4adf-8112-31c55c1551ef"


@pytest.fixture
def client(fake_api):
    return CloudflareClient(fake_api, base_url=BASE_URL, account_id=ACCOUNT, sleep=lambda s: None)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (TUNNEL_ID, True),
        (TUNNEL_ID.upper(), True),
        (TUNNEL_ID.replace("-", ""), True),
        ("web-fra-01", False),
        ("6ff42ae2-765d-4adf-8112", False),
        ("", False),
        (None, False),
    ],
)
def test_is_uuid_parses_like_cloudflared(value, expected):
    assert _tunnel.is_uuid(value) is expected


@pytest.mark.parametrize(
    ("kwargs", "query"),
    [
        ({"name": "web"}, {"name": "web", "is_deleted": "false", "per_page": 2}),
        ({"tunnel_id": TUNNEL_ID.upper()}, {"uuid": TUNNEL_ID, "is_deleted": "false", "per_page": 2}),
    ],
    ids=["by-name", "by-id"],
)
def test_find_tunnel_is_one_filtered_list_request(fake_api, client, kwargs, query):
    fake_api.add("GET", TUNNELS, fake_api.ok([{"id": TUNNEL_ID, "name": "web"}]))

    assert _tunnel.find_tunnel(client, **kwargs) == {"id": TUNNEL_ID, "name": "web"}
    assert [c["query"] for c in fake_api.calls] == [query]


def test_find_tunnel_ignores_a_result_with_another_name(fake_api, client):
    fake_api.add("GET", TUNNELS, fake_api.ok([{"id": TUNNEL_ID, "name": "web-2"}]))

    assert _tunnel.find_tunnel(client, name="web") is None


@pytest.mark.parametrize(("value", "filter_key"), [(TUNNEL_ID, "uuid"), ("web", "name")])
def test_resolve_tunnel_takes_a_uuid_as_id(fake_api, client, value, filter_key):
    fake_api.add("GET", TUNNELS, fake_api.ok([]))

    assert _tunnel.resolve_tunnel(client, value) is None
    assert filter_key in fake_api.calls[0]["query"]


@pytest.mark.parametrize(
    ("connections", "summary"),
    [
        ([], ""),
        ([{"colo_name": "FRA"}, {"colo_name": "AMS"}, {"colo_name": "AMS"}, {"colo_name": "FRA"}], "2xAMS, 2xFRA"),
        ([{"colo_name": "AMS"}, {"colo_name": "LHR", "is_pending_reconnect": True}], "1xAMS"),
    ],
    ids=["none", "sorted-counts", "pending-excluded"],
)
def test_edge_summary_counts_live_connections_per_colo(connections, summary):
    assert _tunnel.edge_summary(connections) == summary


def test_connector_view_takes_origin_ip_from_the_first_connection():
    connector = {
        "id": "c1",
        "version": "2026.8.2",
        "arch": "linux_arm64",
        "run_at": "2026-11-03T10:13:00Z",
        "conns": [
            {"colo_name": "AMS", "origin_ip": "192.0.2.1"},
            {"colo_name": "FRA", "origin_ip": "192.0.2.2", "is_pending_reconnect": True},
        ],
    }

    view = _tunnel.connector_view(connector)

    assert (view["origin_ip"], view["edge"], view["connection_count"]) == ("192.0.2.1", "1xAMS", 1)


def test_connection_views_flatten_with_the_connector_as_client_id():
    connectors = [{"id": "c1", "conns": [{"colo_name": "AMS", "id": "x", "origin_ip": "192.0.2.1", "opened_at": "t"}]}]

    assert _tunnel.connection_views(connectors) == [
        {
            "colo": "AMS",
            "id": "x",
            "client_id": "c1",
            "origin_ip": "192.0.2.1",
            "opened_at": "t",
            "is_pending_reconnect": False,
        }
    ]


@pytest.mark.parametrize(
    ("tunnel", "expected"),
    [
        ({"config_src": "cloudflare"}, "cloudflare"),
        ({"config_src": "local", "remote_config": False}, "local"),
        ({"remote_config": True}, "cloudflare"),
        ({}, "local"),
    ],
)
def test_config_src_falls_back_to_remote_config(tunnel, expected):
    assert _tunnel.config_src(tunnel) == expected


def test_tunnel_view_holds_no_token():
    view = _tunnel.tunnel_view({"id": TUNNEL_ID, "name": "web", "token": "secret-token", "credentials_file": {}})

    assert "token" not in view
    assert "credentials_file" not in view


def test_generated_secrets_are_32_random_bytes():
    first, second = _tunnel.generate_secret(), _tunnel.generate_secret()

    assert len(base64.b64decode(first)) == 32
    assert first != second
    assert _tunnel.secret_is_valid(first)


@pytest.mark.parametrize("secret", ["c2hvcnQ=", "not base64!", "", base64.b64encode(b"x" * 31).decode()])
def test_short_or_malformed_secrets_are_invalid(secret):
    assert _tunnel.secret_is_valid(secret) is False


@pytest.mark.parametrize("endpoint", [None, "fed"])
def test_credentials_from_token(endpoint):
    data = {"a": ACCOUNT, "t": TUNNEL_ID, "s": "c2VjcmV0"}
    if endpoint:
        data["e"] = endpoint
    token = base64.b64encode(json.dumps(data).encode()).decode()

    assert _tunnel.credentials_from_token(token) == {
        "AccountTag": ACCOUNT,
        "TunnelSecret": "c2VjcmV0",
        "TunnelID": TUNNEL_ID,
        "Endpoint": endpoint or "",
    }


@pytest.mark.parametrize("token", ["%%%", base64.b64encode(b"[1, 2]").decode(), base64.b64encode(b'{"a": 1}').decode()])
def test_a_malformed_token_raises_without_showing_it(token):
    with pytest.raises(_tunnel.TunnelCredentialsError) as caught:
        _tunnel.credentials_from_token(token)

    assert token not in str(caught.value)
