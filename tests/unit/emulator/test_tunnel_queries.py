"""Tunnel list filters and pagination, and the configurations endpoint of remote-managed tunnels."""

from __future__ import annotations

import time

import pytest
from conftest import TUNNELS, error, ok
from emu_core import stamp


def listed(cfemu, **query) -> list:
    return sorted(t["name"] for t in ok(cfemu.api("GET", TUNNELS, query={"per_page": 1000, **query})))


@pytest.fixture
def fleet(cfemu, make_tunnel):
    """web-1 healthy, web-2 down, db-1 inactive, old deleted."""
    tunnels = {name: make_tunnel(name) for name in ("web-1", "web-2", "db-1", "old")}
    cfemu.add_connector(tunnels["web-1"]["id"])
    gone = cfemu.add_connector(tunnels["web-2"]["id"])
    cfemu.remove_connector(tunnels["web-2"]["id"], gone)
    ok(cfemu.api("DELETE", f"{TUNNELS}/{tunnels['old']['id']}"))
    return tunnels


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({}, ["db-1", "old", "web-1", "web-2"]),
        ({"is_deleted": "false"}, ["db-1", "web-1", "web-2"]),
        ({"is_deleted": "true"}, ["old"]),
        ({"name": "web-1"}, ["web-1"]),
        ({"include_prefix": "web"}, ["web-1", "web-2"]),
        ({"name_prefix": "web"}, ["web-1", "web-2"]),
        ({"exclude_prefix": "web", "is_deleted": "false"}, ["db-1"]),
        ({"status": "healthy"}, ["web-1"]),
        ({"status": "down"}, ["web-2"]),
        ({"status": "inactive", "is_deleted": "false"}, ["db-1"]),
    ],
)
def test_list_filters(cfemu, fleet, query, expected):
    assert listed(cfemu, **query) == expected


def test_uuid_filter_finds_one_tunnel(cfemu, fleet):
    assert listed(cfemu, uuid=fleet["db-1"]["id"]) == ["db-1"]


def test_time_filters_follow_the_tunnel_history(cfemu, make_tunnel):
    before = stamp()
    time.sleep(0.01)
    tunnel = make_tunnel("timed")
    created = stamp()
    client_id = cfemu.add_connector(tunnel["id"])
    time.sleep(0.01)
    while_active = stamp()
    time.sleep(0.01)
    cfemu.remove_connector(tunnel["id"], client_id)

    assert listed(cfemu, existed_at=before) == []
    assert listed(cfemu, existed_at=created) == ["timed"]
    assert listed(cfemu, was_active_at=while_active) == ["timed"]
    assert listed(cfemu, was_active_at=stamp()) == []
    assert listed(cfemu, was_inactive_at=created) == ["timed"]
    assert listed(cfemu, was_inactive_at=while_active) == []


@pytest.mark.parametrize(
    "query", [{"status": "sleeping"}, {"per_page": "0"}, {"per_page": "1001"}, {"page": "0"}, {"existed_at": "soon"}]
)
def test_invalid_list_parameters_are_refused(cfemu, query):
    error(cfemu.api("GET", TUNNELS, query=query), 400, 1001)


def test_pagination_over_three_pages_returns_every_tunnel_once(cfemu, make_tunnel):
    for index in range(7):
        make_tunnel(f"t{index}")

    answers = [cfemu.api("GET", TUNNELS, query={"per_page": 3, "page": page}) for page in (1, 2, 3, 4)]

    names = [t["name"] for answer in answers for t in ok(answer)]
    assert names == [f"t{index}" for index in range(7)]
    assert [a[1]["result_info"]["count"] for a in answers] == [3, 3, 1, 0]
    assert {(a[1]["result_info"]["total_count"], a[1]["result_info"]["total_pages"]) for a in answers} == {(7, 3)}


def test_the_default_page_size_is_20(cfemu, make_tunnel):
    for index in range(21):
        make_tunnel(f"t{index:02}")

    status, envelope, _ignored = cfemu.api("GET", TUNNELS)

    assert status == 200 and len(envelope["result"]) == 20
    assert envelope["result_info"] == {"page": 1, "per_page": 20, "count": 20, "total_count": 21, "total_pages": 2}


INGRESS = {
    "ingress": [
        {"hostname": "app.example.com", "service": "http://127.0.0.1:8080", "originRequest": {"connectTimeout": 30}},
        {"service": "http_status:404"},
    ],
    "originRequest": {"noTLSVerify": False},
}


def test_remote_configuration_versions_count_up(cfemu, make_tunnel):
    tunnel = make_tunnel("remote", config_src="cloudflare")
    path = f"{TUNNELS}/{tunnel['id']}/configurations"

    empty = ok(cfemu.api("GET", path))
    first = ok(cfemu.api("PUT", path, body={"config": INGRESS}))
    second = ok(cfemu.api("PUT", path, body={"config": INGRESS}))

    assert (empty["version"], empty["config"], empty["source"]) == (0, None, "cloudflare")
    assert (first["version"], second["version"]) == (1, 2)
    assert ok(cfemu.api("GET", path))["config"] == INGRESS and second["tunnel_id"] == tunnel["id"]


@pytest.mark.parametrize(
    "config",
    [
        {"ingress": [{"service": "http_status:404"}, {"hostname": "a.example.com", "service": "http://x"}]},
        {"ingress": [{"hostname": "a.example.com", "service": "http://x"}]},
        {"ingress": [{"hostname": "a.example.com"}, {"service": "http_status:404"}]},
        {"ingress": [{"service": "http_status:404", "originRequest": {"connectTimeout": "30s"}}]},
        {"ingress": "not a list"},
        {"originRequest": {"noTLSVerify": "yes"}},
    ],
)
def test_invalid_remote_configurations_are_refused(cfemu, make_tunnel, config):
    tunnel = make_tunnel("remote", config_src="cloudflare")

    error(cfemu.api("PUT", f"{TUNNELS}/{tunnel['id']}/configurations", body={"config": config}), 400, 1001)


def test_a_locally_managed_tunnel_refuses_a_remote_configuration(cfemu, make_tunnel):
    tunnel = make_tunnel("local")

    error(cfemu.api("PUT", f"{TUNNELS}/{tunnel['id']}/configurations", body={"config": INGRESS}), 400, 1055)


def test_a_deleted_tunnel_has_no_token(cfemu, make_tunnel):
    tunnel = make_tunnel("gone")
    ok(cfemu.api("DELETE", f"{TUNNELS}/{tunnel['id']}"))

    error(cfemu.api("GET", f"{TUNNELS}/{tunnel['id']}/token"), 400, 1023)
