"""Private network routes and virtual networks."""

from __future__ import annotations

import pytest
from conftest import TUNNELS, error, ok
from harness import ACCOUNT_ID

ROUTES = f"/accounts/{ACCOUNT_ID}/teamnet/routes"
VNETS = f"/accounts/{ACCOUNT_ID}/teamnet/virtual_networks"


def test_every_account_has_a_default_virtual_network(cfemu):
    vnets = ok(cfemu.api("GET", VNETS))

    assert [(v["name"], v["is_default_network"], v["deleted_at"]) for v in vnets] == [("default", True, None)]


def test_create_route_returns_the_documented_shape(cfemu, make_tunnel):
    tunnel = make_tunnel("net")

    route = ok(cfemu.api("POST", ROUTES, body={"network": "10.1.0.0/16", "tunnel_id": tunnel["id"], "comment": "lan"}))

    assert (route["network"], route["tunnel_id"], route["tunnel_name"], route["comment"]) == (
        "10.1.0.0/16",
        tunnel["id"],
        "net",
        "lan",
    )
    assert route["virtual_network_name"] == "default" and route["deleted_at"] is None


def test_the_same_network_twice_in_one_virtual_network_is_a_conflict(cfemu, make_tunnel):
    tunnel = make_tunnel("net")
    ok(cfemu.api("POST", ROUTES, body={"network": "10.1.0.0/16", "tunnel_id": tunnel["id"]}))

    error(cfemu.api("POST", ROUTES, body={"network": "10.1.0.0/16", "tunnel_id": tunnel["id"]}), 409, 1014)


@pytest.mark.parametrize(
    "body",
    [
        {"network": "not-a-network"},
        {"network": "10.0.0.0/8", "tunnel_id": "00000000-0000-4000-8000-000000000000"},
        {"tunnel_id": None},
    ],
)
def test_invalid_routes_are_refused(cfemu, make_tunnel, body):
    tunnel = make_tunnel("net")

    error(cfemu.api("POST", ROUTES, body={"network": "10.0.0.0/8", "tunnel_id": tunnel["id"], **body}), 400, 1001)


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({}, ["10.1.0.0/16", "10.2.0.0/16", "172.16.0.0/12", "192.168.0.0/24"]),
        ({"network_subset": "10.0.0.0/8"}, ["10.1.0.0/16", "10.2.0.0/16"]),
        ({"network_superset": "10.1.2.0/24"}, ["10.1.0.0/16"]),
        ({"comment": "office"}, ["192.168.0.0/24"]),
        ({"is_deleted": "true"}, ["172.16.0.0/12"]),
        ({"is_deleted": "false"}, ["10.1.0.0/16", "10.2.0.0/16", "192.168.0.0/24"]),
    ],
)
def test_route_list_filters(cfemu, make_tunnel, query, expected):
    tunnel = make_tunnel("net")
    for network, comment in (("10.1.0.0/16", ""), ("10.2.0.0/16", ""), ("192.168.0.0/24", "office")):
        ok(cfemu.api("POST", ROUTES, body={"network": network, "tunnel_id": tunnel["id"], "comment": comment}))
    gone = ok(cfemu.api("POST", ROUTES, body={"network": "172.16.0.0/12", "tunnel_id": tunnel["id"]}))
    ok(cfemu.api("DELETE", f"{ROUTES}/{gone['id']}"))

    assert sorted(r["network"] for r in ok(cfemu.api("GET", ROUTES, query=query))) == expected


def test_route_list_filters_by_tunnel(cfemu, make_tunnel):
    first, second = make_tunnel("a"), make_tunnel("b")
    ok(cfemu.api("POST", ROUTES, body={"network": "10.1.0.0/16", "tunnel_id": first["id"]}))
    ok(cfemu.api("POST", ROUTES, body={"network": "10.2.0.0/16", "tunnel_id": second["id"]}))

    assert [r["network"] for r in ok(cfemu.api("GET", ROUTES, query={"tunnel_id": second["id"]}))] == ["10.2.0.0/16"]


def test_delete_marks_the_route_deleted(cfemu, make_tunnel):
    tunnel = make_tunnel("net")
    route = ok(cfemu.api("POST", ROUTES, body={"network": "10.1.0.0/16", "tunnel_id": tunnel["id"]}))

    deleted = ok(cfemu.api("DELETE", f"{ROUTES}/{route['id']}"))

    assert deleted["deleted_at"]
    error(cfemu.api("DELETE", f"{ROUTES}/{route['id']}"), 404, 1002)


def test_a_tunnel_with_routes_is_deleted_only_with_cascade_which_removes_them(cfemu, make_tunnel):
    tunnel = make_tunnel("net")
    route = ok(cfemu.api("POST", ROUTES, body={"network": "10.1.0.0/16", "tunnel_id": tunnel["id"]}))

    error(cfemu.api("DELETE", f"{TUNNELS}/{tunnel['id']}"), 400, 1022)
    ok(cfemu.api("DELETE", f"{TUNNELS}/{tunnel['id']}", query={"cascade": "true"}))

    assert ok(cfemu.api("GET", f"{ROUTES}/{route['id']}"))["deleted_at"]


def test_patch_moves_a_route_to_another_tunnel(cfemu, make_tunnel):
    first, second = make_tunnel("a"), make_tunnel("b")
    route = ok(cfemu.api("POST", ROUTES, body={"network": "10.1.0.0/16", "tunnel_id": first["id"]}))

    moved = ok(cfemu.api("PATCH", f"{ROUTES}/{route['id']}", body={"tunnel_id": second["id"], "comment": "moved"}))

    assert (moved["id"], moved["network"], moved["tunnel_name"], moved["comment"]) == (
        route["id"],
        "10.1.0.0/16",
        "b",
        "moved",
    )


def test_host_bits_are_normalised_away(cfemu, make_tunnel):
    tunnel = make_tunnel("net")

    route = ok(cfemu.api("POST", ROUTES, body={"network": "10.1.2.3/16", "tunnel_id": tunnel["id"]}))

    assert route["network"] == "10.1.0.0/16"


def test_route_list_filters_by_route_and_virtual_network(cfemu, make_tunnel):
    tunnel = make_tunnel("net")
    route = ok(cfemu.api("POST", ROUTES, body={"network": "10.1.0.0/16", "tunnel_id": tunnel["id"]}))
    ok(cfemu.api("POST", ROUTES, body={"network": "10.2.0.0/16", "tunnel_id": tunnel["id"]}))

    by_id = ok(cfemu.api("GET", ROUTES, query={"route_id": route["id"]}))
    by_vnet = ok(cfemu.api("GET", ROUTES, query={"virtual_network_id": route["virtual_network_id"]}))

    assert [r["id"] for r in by_id] == [route["id"]]
    assert len(by_vnet) == 2


def test_a_route_into_a_seeded_virtual_network_may_repeat_a_default_network(cfemu_factory):
    seed = {
        "accounts": [{"id": ACCOUNT_ID}],
        "tokens": [{"value": "tok", "permissions": ["Cloudflare Tunnel Write"]}],
        "tunnels": [{"name": "net"}],
        "virtual_networks": [{"name": "office"}],
        "routes": [{"network": "10.1.0.0/16", "tunnel": "net"}],
    }
    emu = cfemu_factory(seed=seed)
    office = ok(emu.api("GET", VNETS, query={"name": "office"}, token="tok"))[0]
    tunnel_id = ok(emu.api("GET", ROUTES, token="tok"))[0]["tunnel_id"]

    route = ok(
        emu.api(
            "POST",
            ROUTES,
            token="tok",
            body={"network": "10.1.0.0/16", "tunnel_id": tunnel_id, "virtual_network_id": office["id"]},
        )
    )

    assert route["virtual_network_name"] == "office"
    assert [v["name"] for v in ok(emu.api("GET", VNETS, query={"is_default": "true"}, token="tok"))] == ["default"]
