"""Specification of the route planning in plugins/module_utils/_routes.py."""

from __future__ import annotations

import pytest
from ansible_collections.tunnelops.cloudflare.plugins.module_utils._routes import (
    DELETED,
    NEW,
    UNCHANGED,
    UPDATED,
    DnsPlan,
    RouteError,
    batch_body,
    chunk_plans,
    is_uuid,
    is_zone_id,
    managed_comment,
    match_zone,
    normalise_hostname,
    normalise_network,
    normalise_pool_name,
    plan_dns_route,
    plan_ip_route,
    plan_load_balancer,
    plan_pool,
    points_at,
)

TUNNEL = "c1744f8b-faa1-48a4-9e5c-02ac921467fa"
OTHER = "0a2d2f26-5f7e-4bd5-a7ad-59b7e0f1a0f0"
TARGET = f"{TUNNEL}.cfargotunnel.com"

ZONES = [
    {"id": "z-com", "name": "example.com"},
    {"id": "z-net", "name": "example.net"},
    {"id": "z-dev", "name": "dev.example.com"},
]


def record(rid, rtype, content, name="app.example.com", proxied=True):
    return {"id": rid, "type": rtype, "name": name, "content": content, "proxied": proxied, "ttl": 1}


@pytest.mark.parametrize(
    ("given", "stored"),
    [
        ("app.example.com", "app.example.com"),
        ("App.Example.COM.", "app.example.com"),
        ("*.example.com", "*.example.com"),
        ("bücher.example.com", "xn--bcher-kva.example.com"),
        ("*.bücher.example.com", "*.xn--bcher-kva.example.com"),
        ("_acme.example.com", "_acme.example.com"),
        ("xn--bcher-kva.example.com", "xn--bcher-kva.example.com"),
    ],
)
def test_hostnames_are_stored_lower_case_in_punycode(given, stored):
    assert normalise_hostname(given) == stored


@pytest.mark.parametrize(
    "given",
    [
        "",
        "  ",
        "localhost",
        "a.*.example.com",
        "*foo.example.com",
        "app.example.com:8080",
        "a..example.com",
        "x" * 64 + ".com",
    ],
)
def test_invalid_hostnames_are_refused(given):
    with pytest.raises(RouteError):
        normalise_hostname(given)


@pytest.mark.parametrize(
    ("hostname", "zone_id"),
    [
        ("app.example.com", "z-com"),
        ("example.com", "z-com"),
        ("api.dev.example.com", "z-dev"),
        ("dev.example.com", "z-dev"),
        ("*.dev.example.com", "z-dev"),
        ("www.example.net", "z-net"),
        ("www.example.org", None),
        ("notexample.com", None),
    ],
)
def test_the_longest_matching_zone_wins(hostname, zone_id):
    zone = match_zone(hostname, ZONES)
    assert (zone["id"] if zone else None) == zone_id


@pytest.mark.parametrize(
    ("content", "rtype", "expected"),
    [
        (TARGET, "CNAME", True),
        (TARGET.upper() + ".", "CNAME", True),
        (f"{OTHER}.cfargotunnel.com", "CNAME", False),
        (TARGET, "TXT", False),
    ],
)
def test_a_record_points_at_the_tunnel_only_as_a_cname_to_its_target(content, rtype, expected):
    assert points_at({"type": rtype, "content": content}, TUNNEL) is expected


def test_identifiers_are_recognised():
    assert is_uuid(TUNNEL)
    assert not is_uuid("web-tunnel")
    assert is_zone_id("023e105f4ecef8ad9ca31a8372d0c353")
    assert not is_zone_id("example.com")


def test_the_managed_comment_names_the_tunnel():
    assert managed_comment(TUNNEL, "web") == f"managed by tunnelops.cloudflare: tunnel=web ({TUNNEL})"
    assert managed_comment(TUNNEL) == f"managed by tunnelops.cloudflare: tunnel={TUNNEL}"


@pytest.mark.parametrize(
    ("records", "overwrite", "result", "deletes", "patches", "posts"),
    [
        pytest.param([], False, NEW, 0, 0, 1, id="nothing-there"),
        pytest.param([record("r1", "CNAME", TARGET)], False, UNCHANGED, 0, 0, 0, id="already-routed"),
        pytest.param([record("r1", "CNAME", TARGET.upper() + ".")], False, UNCHANGED, 0, 0, 0, id="case-and-dot"),
        pytest.param([record("r1", "CNAME", TARGET, proxied=False)], False, UPDATED, 0, 1, 0, id="unproxied"),
        pytest.param([record("r1", "A", "192.0.2.1")], True, UPDATED, 1, 0, 1, id="a-overwritten"),
        pytest.param(
            [record("r1", "A", "192.0.2.1"), record("r2", "AAAA", "2001:db8::1")], True, UPDATED, 2, 0, 1, id="a-aaaa"
        ),
        pytest.param([record("r1", "CNAME", "legacy.example.com")], True, UPDATED, 1, 0, 1, id="legacy-cname"),
        pytest.param([record("r1", "TXT", "v=spf1 -all")], False, NEW, 0, 0, 1, id="txt-is-no-conflict"),
        pytest.param([record("r1", "A", "192.0.2.1", name="other.example.com")], False, NEW, 0, 0, 1, id="other-name"),
    ],
)
def test_dns_present_plans(records, overwrite, result, deletes, patches, posts):
    plan = plan_dns_route("app.example.com", records, TUNNEL, overwrite=overwrite, comment="mark")

    assert (plan.result, len(plan.deletes), len(plan.patches), len(plan.posts)) == (result, deletes, patches, posts)
    assert plan.after["content"].lower().rstrip(".") == TARGET
    assert plan.after["proxied"] is True


def test_a_new_record_is_a_proxied_cname_with_automatic_ttl_and_the_comment():
    plan = plan_dns_route("app.example.com", [], TUNNEL, comment="mark")

    assert plan.posts == [
        {"type": "CNAME", "name": "app.example.com", "content": TARGET, "proxied": True, "ttl": 1, "comment": "mark"}
    ]


@pytest.mark.parametrize(
    "records",
    [
        [record("r1", "A", "192.0.2.1")],
        [record("r1", "AAAA", "2001:db8::1")],
        [record("r1", "CNAME", f"{OTHER}.cfargotunnel.com")],
    ],
)
def test_a_conflict_is_refused_naming_the_record(records):
    with pytest.raises(RouteError, match=r"r1.*overwrite=true"):
        plan_dns_route("app.example.com", records, TUNNEL)


@pytest.mark.parametrize(
    ("records", "result", "deletes", "left"),
    [
        pytest.param([record("r1", "CNAME", TARGET)], DELETED, [{"id": "r1"}], 0, id="ours"),
        pytest.param([record("r1", "A", "192.0.2.1")], UNCHANGED, [], 1, id="foreign-left"),
        pytest.param([record("r1", "CNAME", f"{OTHER}.cfargotunnel.com")], UNCHANGED, [], 1, id="other-tunnel"),
        pytest.param([], UNCHANGED, [], 0, id="nothing"),
    ],
)
def test_dns_absent_removes_only_our_record(records, result, deletes, left):
    plan = plan_dns_route("app.example.com", records, TUNNEL, state="absent")

    assert (plan.result, plan.deletes, len(plan.left)) == (result, deletes, left)


def _plan(name, ops):
    return DnsPlan(hostname=name, result=NEW, posts=[{"name": name}] * ops)


@pytest.mark.parametrize(
    ("sizes", "batch_size", "expected"),
    [
        ([1, 1, 1], 200, [[0, 1, 2]]),
        ([1, 1, 1], 2, [[0, 1], [2]]),
        ([2, 2, 1], 3, [[0], [1, 2]]),
        ([0, 1, 0], 200, [[1]]),
        ([0, 0], 200, []),
    ],
)
def test_batches_keep_each_hostname_whole_and_within_the_size(sizes, batch_size, expected):
    plans = [_plan(f"h{i}.example.com", n) for i, n in enumerate(sizes)]

    chunks = chunk_plans(plans, batch_size)

    assert [[plans.index(p) for p in chunk] for chunk in chunks] == expected


def test_one_hostname_needing_more_than_a_batch_is_refused():
    with pytest.raises(RouteError):
        chunk_plans([_plan("h.example.com", 3)], 2)


def test_a_batch_body_holds_only_non_empty_lists():
    plan = plan_dns_route("app.example.com", [record("r1", "A", "192.0.2.1")], TUNNEL, overwrite=True)

    body = batch_body([plan])

    assert set(body) == {"deletes", "posts"}
    assert body["deletes"] == [{"id": "r1"}]


FOREIGN_ORIGIN = {"name": "legacy", "address": "192.0.2.10", "enabled": True, "weight": 0.5}
OUR_ORIGIN = {"name": "web", "address": TARGET, "enabled": True, "weight": 1.0}


@pytest.mark.parametrize(
    ("pool", "weight", "enabled", "result", "origins"),
    [
        pytest.param(None, 1.0, True, NEW, [OUR_ORIGIN], id="pool-created"),
        pytest.param({"origins": [FOREIGN_ORIGIN]}, 1.0, True, UPDATED, [FOREIGN_ORIGIN, OUR_ORIGIN], id="added"),
        pytest.param({"origins": [FOREIGN_ORIGIN, OUR_ORIGIN]}, 1.0, True, UNCHANGED, None, id="present"),
        pytest.param(
            {"origins": [FOREIGN_ORIGIN, OUR_ORIGIN]},
            0.3,
            False,
            UPDATED,
            [FOREIGN_ORIGIN, dict(OUR_ORIGIN, weight=0.3, enabled=False)],
            id="weight-and-enabled",
        ),
    ],
)
def test_pool_present_keeps_other_origins(pool, weight, enabled, result, origins):
    assert plan_pool(pool, TUNNEL, origin_name="web", weight=weight, enabled=enabled) == (result, origins)


@pytest.mark.parametrize(
    ("pool", "result", "origins"),
    [
        ({"origins": [FOREIGN_ORIGIN, OUR_ORIGIN]}, UPDATED, [FOREIGN_ORIGIN]),
        ({"origins": [FOREIGN_ORIGIN]}, UNCHANGED, None),
        (None, UNCHANGED, None),
    ],
)
def test_pool_absent_removes_only_our_origin(pool, result, origins):
    assert plan_pool(pool, TUNNEL, state="absent") == (result, origins)


@pytest.mark.parametrize(
    ("load_balancer", "result", "body"),
    [
        (None, NEW, None),
        ({"name": "lb", "proxied": True, "default_pools": ["p1"]}, UNCHANGED, None),
        ({"name": "lb", "proxied": True, "default_pools": ["p0"]}, UPDATED, {"default_pools": ["p0", "p1"]}),
    ],
)
def test_load_balancer_plans(load_balancer, result, body):
    assert plan_load_balancer(load_balancer, "p1") == (result, body)


def test_an_unproxied_load_balancer_is_refused():
    with pytest.raises(RouteError, match="1004"):
        plan_load_balancer({"name": "lb", "proxied": False, "default_pools": ["p1"]}, "p1")


@pytest.mark.parametrize("name", ["web pool", "web.pool", "", "pöol"])
def test_invalid_pool_names_are_refused(name):
    with pytest.raises(RouteError):
        normalise_pool_name(name)


@pytest.mark.parametrize(
    ("given", "expected"), [("10.1.0.0/16", "10.1.0.0/16"), ("10.1.2.3/16", "10.1.0.0/16"), ("fd00::/64", "fd00::/64")]
)
def test_networks_are_normalised(given, expected):
    assert normalise_network(given) == expected


def test_a_network_that_is_no_cidr_is_refused():
    with pytest.raises(RouteError):
        normalise_network("10.1.0.0/33")


VNET = "f70ff985-a4ef-4643-bbbc-4a0ed4fc8415"


def ip_route(tunnel, vnet=VNET, comment="", network="10.1.0.0/16"):
    return {
        "id": f"route-{tunnel[:4]}",
        "network": network,
        "tunnel_id": tunnel,
        "virtual_network_id": vnet,
        "comment": comment,
    }


@pytest.mark.parametrize(
    ("routes", "state", "comment", "result"),
    [
        ([], "present", None, NEW),
        ([ip_route(TUNNEL)], "present", None, UNCHANGED),
        ([ip_route(TUNNEL)], "present", "new comment", UPDATED),
        ([ip_route(OTHER, vnet="another-vnet")], "present", None, NEW),
        ([ip_route(TUNNEL)], "absent", None, DELETED),
        ([ip_route(OTHER)], "absent", None, UNCHANGED),
        ([], "absent", None, UNCHANGED),
    ],
)
def test_ip_route_plans(routes, state, comment, result):
    assert (
        plan_ip_route(routes, "10.1.0.0/16", TUNNEL, state=state, virtual_network_id=VNET, comment=comment)[0] == result
    )


def test_a_network_held_by_another_tunnel_is_refused():
    with pytest.raises(RouteError, match="route-0a2d"):
        plan_ip_route([ip_route(OTHER)], "10.1.0.0/16", TUNNEL, virtual_network_id=VNET)
