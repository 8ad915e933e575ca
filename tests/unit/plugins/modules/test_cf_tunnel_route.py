"""Specification of the cf_tunnel_route module, against FakeCloudflareAPI (a test double of the HTTP API)."""

from __future__ import annotations

import pytest
import yaml
from ansible_collections.tunnelops.cloudflare.plugins.modules import cf_tunnel_route
from ansible_collections.tunnelops.cloudflare.tests.unit.plugins.conftest import ACCOUNT_ID, AUTH_ARGS

TUNNEL = "c1744f8b-faa1-48a4-9e5c-02ac921467fa"
TARGET = f"{TUNNEL}.cfargotunnel.com"
ZONE_ID = "023e105f4ecef8ad9ca31a8372d0c353"
ZONES = [
    {"id": ZONE_ID, "name": "example.com"},
    {"id": "b1946ac92492d2347c6235b4d2611184", "name": "dev.example.com"},
]
RECORDS = f"/zones/{ZONE_ID}/dns_records"


def record(rid, rtype, content, name="app.example.com", proxied=True):
    return {"id": rid, "type": rtype, "name": name, "content": content, "proxied": proxied, "ttl": 1}


@pytest.fixture
def run(run_module):
    def run_route(check_mode=False, **args):
        return run_module(cf_tunnel_route, dict(AUTH_ARGS, tunnel=TUNNEL, **args), check_mode=check_mode)

    return run_route


@pytest.fixture
def zones(fake_api):
    fake_api.add("GET", "/zones", fake_api.ok(ZONES, result_info={"page": 1, "total_pages": 1}))
    return fake_api


def test_the_documented_options_are_the_argument_spec():
    documented = yaml.safe_load(cf_tunnel_route.DOCUMENTATION)["options"]
    yaml.safe_load(cf_tunnel_route.EXAMPLES)
    yaml.safe_load(cf_tunnel_route.RETURN)

    assert set(documented) == set(cf_tunnel_route.ROUTE_OPTIONS)
    for name, spec in cf_tunnel_route.ROUTE_OPTIONS.items():
        assert documented[name]["type"] == spec["type"], name
        assert documented[name].get("default") == spec.get("default"), name
        assert all(isinstance(line, str) for line in documented[name]["description"]), name


def test_an_already_routed_hostname_with_a_zone_id_costs_one_request(fake_api, run):
    fake_api.add("GET", RECORDS, fake_api.ok([record("r1", "CNAME", TARGET)]))

    result = run(hostname="app.example.com", zone=ZONE_ID)

    assert (result["changed"], result["route"]["result"]) == (False, "unchanged")
    assert [(c["method"], c["path"], c["query"].get("name")) for c in fake_api.calls] == [
        ("GET", RECORDS, "app.example.com")
    ]


def test_a_new_hostname_gets_a_proxied_cname_with_the_managed_comment(zones, run):
    zones.add("GET", RECORDS, zones.ok([]))
    zones.add("POST", RECORDS, lambda call: zones.ok(dict(call["body"], id="new1")))

    result = run(hostname="App.Example.com")

    assert result["route"]["result"] == "new"
    assert zones.writes()[0]["body"] == {
        "type": "CNAME",
        "name": "app.example.com",
        "content": TARGET,
        "proxied": True,
        "ttl": 1,
        "comment": f"managed by tunnelops.cloudflare: tunnel={TUNNEL}",
    }
    assert result["route"]["record"]["id"] == "new1"


def test_check_mode_predicts_a_new_record_without_writing(zones, run):
    zones.add("GET", RECORDS, zones.ok([]))

    result = run(hostname="app.example.com", check_mode=True)

    assert (result["changed"], result["route"]["result"], result["route"]["record"]["id"]) == (True, "new", None)
    assert zones.writes() == []


def test_a_conflict_fails_naming_the_record_and_writes_nothing(zones, run):
    zones.add("GET", RECORDS, zones.ok([record("a1", "A", "192.0.2.1")]))

    result = run(hostname="app.example.com")

    assert result["failed"] is True
    assert "a1" in result["msg"]
    assert "192.0.2.1" in result["msg"]
    assert zones.writes() == []


def test_overwrite_replaces_the_conflict_in_one_batch(zones, run):
    zones.add("GET", RECORDS, zones.ok([record("a1", "A", "192.0.2.1")]))
    zones.add("POST", f"{RECORDS}/batch", lambda call: zones.ok({"posts": [dict(call["body"]["posts"][0], id="c1")]}))

    result = run(hostname="app.example.com", overwrite=True)

    writes = zones.writes()
    assert len(writes) == 1
    assert writes[0]["body"]["deletes"] == [{"id": "a1"}]
    assert writes[0]["body"]["posts"][0]["content"] == TARGET
    assert (result["route"]["result"], result["route"]["replaced"][0]["id"]) == ("updated", "a1")


def test_the_list_form_reads_the_zone_once_and_writes_one_batch(zones, run):
    zones.add("GET", RECORDS, zones.ok([record("r1", "CNAME", TARGET, name="a.example.com")]))
    zones.add(
        "POST",
        f"{RECORDS}/batch",
        lambda call: zones.ok({"posts": [dict(p, id=f"id-{p['name']}") for p in call["body"]["posts"]]}),
    )

    result = run(hostnames=["a.example.com", "b.example.com", {"hostname": "c.example.com"}])

    assert [r["result"] for r in result["routes"]] == ["unchanged", "new", "new"]
    assert [(c["method"], c["path"]) for c in zones.calls] == [
        ("GET", "/zones"),
        ("GET", RECORDS),
        ("POST", f"{RECORDS}/batch"),
    ]
    assert "name" not in zones.calls[1]["query"]


def test_a_failed_batch_names_what_other_zones_already_got(zones, run):
    dev_records = "/zones/b1946ac92492d2347c6235b4d2611184/dns_records"
    zones.add("GET", RECORDS, zones.ok([]))
    zones.add("GET", dev_records, zones.ok([]))
    zones.add("POST", f"{RECORDS}/batch", lambda call: zones.ok({"posts": call["body"]["posts"]}))
    zones.add("POST", f"{dev_records}/batch", zones.error(500, 1000, "internal error"))

    result = run(hostnames=["a.example.com", "b.example.com", "a.dev.example.com", "b.dev.example.com"])

    assert result["failed"] is True
    assert "Already written: a.example.com, b.example.com." in result["msg"]
    assert "internal error" in result["msg"]


def test_an_empty_list_form_changes_nothing(fake_api, run):
    result = run(hostnames=[])

    assert (result["changed"], result["routes"], fake_api.calls) == (False, [], [])


def test_the_list_form_splits_writes_by_batch_size(zones, run):
    zones.add("GET", RECORDS, zones.ok([]))
    zones.add("POST", f"{RECORDS}/batch", lambda call: zones.ok({"posts": call["body"]["posts"]}))

    run(hostnames=[f"h{i}.example.com" for i in range(5)], batch_size=2)

    assert [len(c["body"]["posts"]) for c in zones.writes()] == [2, 2, 1]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ({"hostnames": ["a.example.com", "A.example.com."]}, "more than once"),
        ({"hostname": "app.example.org"}, "no zone"),
        ({"hostname": "a.*.example.com"}, "wildcard"),
        ({"hostnames": [{"hostname": "a.example.com", "zone_name": "x"}]}, "dict with hostname and zone"),
        ({"hostname": "app.example.com", "zone": "dev.example.com"}, "not inside the given zone"),
        ({"hostname": "app.example.com", "zone": "example.org"}, "zone example.org is not a zone of account"),
    ],
)
def test_invalid_routes_fail_without_writing(zones, run, args, message):
    result = run(**args)

    assert result["failed"] is True
    assert message in result["msg"]
    assert zones.writes() == []


def test_absent_deletes_our_record_only(zones, run):
    zones.add("GET", RECORDS, zones.ok([record("r1", "CNAME", TARGET)]))
    zones.add("DELETE", f"{RECORDS}/r1", zones.ok({"id": "r1"}))

    result = run(hostname="app.example.com", state="absent")

    assert [(c["method"], c["path"]) for c in zones.writes()] == [("DELETE", f"{RECORDS}/r1")]
    assert (result["changed"], result["route"]["result"], result["route"]["record"]) == (True, "deleted", None)


def test_absent_leaves_a_foreign_record_with_a_warning(zones, run, monkeypatch):
    warnings = []
    monkeypatch.setattr(cf_tunnel_route.AnsibleModule, "warn", lambda self, message: warnings.append(message))
    zones.add("GET", RECORDS, zones.ok([record("a1", "A", "192.0.2.1")]))

    result = run(hostname="app.example.com", state="absent")

    assert (result["changed"], result["route"]["left"][0]["id"]) == (False, "a1")
    assert any("a1" in warning for warning in warnings)
    assert zones.writes() == []


def test_a_tunnel_name_is_looked_up_once(zones, run_module):
    zones.add("GET", f"/accounts/{ACCOUNT_ID}/cfd_tunnel", zones.ok([{"id": TUNNEL, "name": "web"}]))
    zones.add("GET", RECORDS, zones.ok([record("r1", "CNAME", TARGET)]))

    result = run_module(cf_tunnel_route, dict(AUTH_ARGS, tunnel="web", hostname="app.example.com"))

    assert result["tunnel"] == {"id": TUNNEL, "name": "web"}
    assert zones.calls[0]["query"]["name"] == "web"
    assert len(zones.calls) == 3


def test_an_unknown_tunnel_name_fails(zones, run_module):
    zones.add("GET", f"/accounts/{ACCOUNT_ID}/cfd_tunnel", zones.ok([]))

    result = run_module(cf_tunnel_route, dict(AUTH_ARGS, tunnel="nope", hostname="app.example.com"))

    assert result["failed"] is True
    assert "does not exist" in result["msg"]


POOLS = f"/accounts/{ACCOUNT_ID}/load_balancers/pools"
LBS = f"/zones/{ZONE_ID}/load_balancers"
FOREIGN = {"name": "legacy", "address": "192.0.2.10", "enabled": True, "weight": 1}


def test_lb_adds_our_origin_beside_foreign_ones_and_creates_the_balancer(zones, run):
    zones.add("GET", POOLS, zones.ok([{"id": "p1", "name": "web", "origins": [FOREIGN]}]))
    zones.add("PATCH", f"{POOLS}/p1", lambda call: zones.ok(dict(call["body"], id="p1", name="web")))
    zones.add("GET", LBS, zones.ok([]))
    zones.add("POST", LBS, lambda call: zones.ok(dict(call["body"], id="lb1")))

    result = run(type="lb", hostname="lb.example.com", pool="web", weight=0.5)

    patch, create = zones.writes()
    assert patch["body"]["origins"][0] == FOREIGN
    assert patch["body"]["origins"][1]["address"] == TARGET
    assert patch["body"]["origins"][1]["weight"] == 0.5
    assert create["body"] == {
        "name": "lb.example.com",
        "default_pools": ["p1"],
        "fallback_pool": "p1",
        "proxied": True,
    }
    assert (result["route"]["pool"], result["route"]["load_balancer"]) == ("updated", "new")


def test_lb_refuses_an_unproxied_balancer_before_writing(zones, run):
    zones.add("GET", POOLS, zones.ok([]))
    zones.add("GET", LBS, zones.ok([{"id": "lb1", "name": "lb.example.com", "proxied": False, "default_pools": []}]))

    result = run(type="lb", hostname="lb.example.com", pool="web")

    assert result["failed"] is True
    assert "1004" in result["msg"]
    assert zones.writes() == []


ROUTES = f"/accounts/{ACCOUNT_ID}/teamnet/routes"


def test_ip_creates_a_missing_route(fake_api, run):
    fake_api.add("GET", ROUTES, fake_api.ok([]))
    fake_api.add("POST", ROUTES, lambda call: fake_api.ok(dict(call["body"], id="rt1")))

    result = run(type="ip", network="10.1.2.3/16", comment="office")

    assert fake_api.writes()[0]["body"] == {"network": "10.1.0.0/16", "tunnel_id": TUNNEL, "comment": "office"}
    assert (result["route"]["result"], result["route"]["ip_route"]["id"]) == ("new", "rt1")


def test_ip_refuses_a_network_routed_to_another_tunnel(fake_api, run):
    other = {"id": "rt9", "network": "10.1.0.0/16", "tunnel_id": "0a2d2f26-5f7e-4bd5-a7ad-59b7e0f1a0f0"}
    fake_api.add("GET", ROUTES, fake_api.ok([dict(other, virtual_network_id="v1")]))
    fake_api.add(
        "GET",
        f"/accounts/{ACCOUNT_ID}/teamnet/virtual_networks",
        fake_api.ok([{"id": "v1", "is_default_network": True}]),
    )

    result = run(type="ip", network="10.1.0.0/16")

    assert result["failed"] is True
    assert "rt9" in result["msg"]
    assert fake_api.writes() == []
