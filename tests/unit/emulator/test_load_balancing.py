"""Account pools and zone load balancers, with the tunnel-origin rule (code 1004)."""

from __future__ import annotations

import pytest
from conftest import error, ok
from harness import ACCOUNT_ID, TOKEN_NOTUNNEL, TOKEN_READONLY, ZONES

POOLS = f"/accounts/{ACCOUNT_ID}/load_balancers/pools"
LBS = f"/zones/{ZONES['example.com']}/load_balancers"
TUNNEL_ORIGIN = {"name": "web", "address": "6ff42ae2-765d-4adf-8112-31c55c1551ef.cfargotunnel.com"}
PLAIN_ORIGIN = {"name": "plain", "address": "192.0.2.10"}


def make_pool(cfemu, name="web-pool", origins=(TUNNEL_ORIGIN,)):
    return ok(cfemu.api("POST", POOLS, body={"name": name, "origins": list(origins)}))


def test_pool_create_fills_origin_defaults(cfemu):
    pool = make_pool(cfemu, origins=[{**TUNNEL_ORIGIN, "header": {"Host": ["app.example.com"]}}])

    assert len(pool["id"]) == 32 and pool["name"] == "web-pool" and pool["enabled"] is True
    assert pool["origins"] == [{**TUNNEL_ORIGIN, "enabled": True, "weight": 1, "header": {"Host": ["app.example.com"]}}]
    assert [p["id"] for p in ok(cfemu.api("GET", POOLS))] == [pool["id"]]


@pytest.mark.parametrize(
    "body",
    [
        {"name": "bad name", "origins": [PLAIN_ORIGIN]},
        {"name": "pool.with.dots", "origins": [PLAIN_ORIGIN]},
        {"origins": [PLAIN_ORIGIN]},
        {"name": "p"},
        {"name": "p", "origins": []},
        {"name": "p", "origins": [{"name": "x"}]},
        {"name": "p", "origins": [{**PLAIN_ORIGIN, "weight": 1.5}]},
        {"name": "p", "origins": [{**PLAIN_ORIGIN, "enabled": "yes"}]},
        {"name": "p", "origins": [PLAIN_ORIGIN, PLAIN_ORIGIN]},
    ],
)
def test_invalid_pools_are_refused(cfemu, body):
    error(cfemu.api("POST", POOLS, body=body), 400, 1002)


def test_pool_names_are_unique_in_an_account(cfemu):
    make_pool(cfemu)

    error(cfemu.api("POST", POOLS, body={"name": "web-pool", "origins": [PLAIN_ORIGIN]}), 400, 1010)


def test_pool_patch_replaces_the_origins_and_put_replaces_everything(cfemu):
    pool = make_pool(cfemu)
    path = f"{POOLS}/{pool['id']}"

    patched = ok(cfemu.api("PATCH", path, body={"origins": [TUNNEL_ORIGIN, PLAIN_ORIGIN], "description": "two"}))
    put = ok(cfemu.api("PUT", path, body={"name": "renamed", "origins": [PLAIN_ORIGIN]}))

    assert [o["name"] for o in patched["origins"]] == ["web", "plain"] and patched["description"] == "two"
    assert (put["name"], put["description"], [o["name"] for o in put["origins"]]) == ("renamed", "", ["plain"])
    assert ok(cfemu.api("GET", path)) == put


def test_load_balancer_create_and_read(cfemu):
    pool = make_pool(cfemu)

    lb = ok(
        cfemu.api(
            "POST",
            LBS,
            body={"name": "lb", "default_pools": [pool["id"]], "fallback_pool": pool["id"], "proxied": True},
        )
    )

    assert (lb["name"], lb["proxied"], lb["default_pools"], lb["fallback_pool"]) == (
        "lb.example.com",
        True,
        [pool["id"]],
        pool["id"],
    )
    assert ok(cfemu.api("GET", f"{LBS}/{lb['id']}")) == lb
    assert [x["id"] for x in ok(cfemu.api("GET", LBS))] == [lb["id"]]


def test_a_tunnel_origin_behind_an_unproxied_load_balancer_is_refused_with_1004(cfemu):
    pool = make_pool(cfemu)

    body = {"name": "lb.example.com", "default_pools": [pool["id"]], "fallback_pool": pool["id"], "proxied": False}
    error(cfemu.api("POST", LBS, body=body), 400, 1004)


def test_adding_a_tunnel_origin_to_a_pool_of_an_unproxied_load_balancer_is_refused(cfemu):
    pool = make_pool(cfemu, origins=[PLAIN_ORIGIN])
    ok(cfemu.api("POST", LBS, body={"name": "lb", "default_pools": [pool["id"]], "fallback_pool": pool["id"]}))

    error(cfemu.api("PATCH", f"{POOLS}/{pool['id']}", body={"origins": [PLAIN_ORIGIN, TUNNEL_ORIGIN]}), 400, 1004)


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({"name": "lb.example.org"}, 9000),
        ({"name": "lb", "default_pools": []}, 1002),
        ({"name": "lb", "default_pools": ["0" * 32]}, 1002),
        ({"name": "lb", "fallback_pool": None}, 1002),
        ({"name": "lb", "steering_policy": "fastest"}, 1002),
    ],
)
def test_invalid_load_balancers_are_refused(cfemu, body, code):
    pool = make_pool(cfemu)
    full = {"default_pools": [pool["id"]], "fallback_pool": pool["id"], "proxied": True, **body}

    error(cfemu.api("POST", LBS, body=full), 400, code)


def test_load_balancer_names_are_unique_in_a_zone(cfemu):
    pool = make_pool(cfemu)
    body = {"name": "lb", "default_pools": [pool["id"]], "fallback_pool": pool["id"], "proxied": True}
    ok(cfemu.api("POST", LBS, body=body))

    error(cfemu.api("POST", LBS, body=body), 400, 1005)


def test_a_pool_in_use_cannot_be_deleted_until_its_load_balancer_is_gone(cfemu):
    pool = make_pool(cfemu)
    other = make_pool(cfemu, name="other")
    lb = ok(
        cfemu.api(
            "POST",
            LBS,
            body={"name": "lb", "default_pools": [pool["id"]], "fallback_pool": pool["id"], "proxied": True},
        )
    )

    error(cfemu.api("DELETE", f"{POOLS}/{pool['id']}"), 400, 1012)
    patched = ok(
        cfemu.api("PATCH", f"{LBS}/{lb['id']}", body={"default_pools": [other["id"]], "fallback_pool": other["id"]})
    )
    assert ok(cfemu.api("DELETE", f"{POOLS}/{pool['id']}")) == {"id": pool["id"]}
    assert ok(cfemu.api("DELETE", f"{LBS}/{lb['id']}")) == {"id": lb["id"]}
    assert patched["default_pools"] == [other["id"]]
    error(cfemu.api("GET", f"{LBS}/{lb['id']}"), 404, 1001)


def test_put_load_balancer_replaces_it(cfemu):
    pool = make_pool(cfemu)
    body = {"name": "lb", "default_pools": [pool["id"]], "fallback_pool": pool["id"], "proxied": True}
    lb = ok(cfemu.api("POST", LBS, body={**body, "description": "first"}))

    put = ok(cfemu.api("PUT", f"{LBS}/{lb['id']}", body=body))

    assert (put["id"], put["description"]) == (lb["id"], "")


def test_unknown_pool_is_a_404(cfemu):
    error(cfemu.api("GET", f"{POOLS}/{'0' * 32}"), 404, 1001)


@pytest.mark.parametrize(
    ("token", "method", "path"),
    [
        (TOKEN_READONLY, "GET", POOLS),
        (TOKEN_NOTUNNEL, "GET", POOLS),
        (TOKEN_NOTUNNEL, "GET", LBS),
    ],
)
def test_load_balancing_needs_its_own_permissions(cfemu, token, method, path):
    error(cfemu.api(method, path, token=token), 403, 10000)
