"""cf_tunnel_route run by the real ansible-playbook against the Cloudflare API emulator.

Every case checks the emulator's state before and after, and counts requests from the emulator's log.
"""

from __future__ import annotations

import base64
import os
import subprocess
from pathlib import Path

import pytest
from harness import ACCOUNT_ID, SECRETS, TOKEN_ALL, ZONES

REPO_ROOT = Path(__file__).resolve().parents[2]
PLAYBOOK = "cf_tunnel_route_run.yml"
TASK = "Manage the route"
EXAMPLE_COM = ZONES["example.com"]
DEV = ZONES["dev.example.com"]
POOLS = f"/accounts/{ACCOUNT_ID}/load_balancers/pools"


def api(emu, method, path, body=None, query=None):
    status, envelope, _ignored = emu.api(method, path, query=query, body=body)
    if status >= 300:
        raise AssertionError(f"set-up request {method} {path} failed: {status} {envelope}")
    return envelope["result"]


def create_tunnel(emu, name: str) -> str:
    secret = base64.b64encode(os.urandom(32)).decode()
    return api(emu, "POST", f"/accounts/{ACCOUNT_ID}/cfd_tunnel", {"name": name, "tunnel_secret": secret})["id"]


def add_record(emu, zone_id: str, rtype: str, name: str, content: str, proxied: bool = False) -> dict:
    body = {"type": rtype, "name": name, "content": content, "proxied": proxied, "ttl": 1}
    return api(emu, "POST", f"/zones/{zone_id}/dns_records", body)


def records_at(emu, name: str) -> list[dict]:
    return sorted(
        (
            {k: r.get(k) for k in ("id", "type", "content", "proxied")}
            for r in emu.state()["dns_records"]
            if r["name"] == name
        ),
        key=lambda r: r["id"],
    )


def target(tunnel_id: str) -> str:
    return f"{tunnel_id}.cfargotunnel.com"


@pytest.fixture
def route(cfemu, ansible_playbook):
    """Run the module once; returns (PlaybookResult, the task's result). The request log starts empty."""

    def run(check=False, diff=False, **options):
        cfemu.clear_requests()
        extra_vars = {f"route_{key}": value for key, value in options.items()}
        result = ansible_playbook(PLAYBOOK, extra_vars=extra_vars, check=check, diff=diff, env=cfemu.env())
        return result, result.task_result(TASK)

    return run


@pytest.fixture
def tunnel(cfemu):
    return create_tunnel(cfemu, "web-01")


def test_a_new_hostname_check_then_real_then_idempotent(cfemu, route, tunnel):
    _ignored, checked = route(tunnel=tunnel, hostname="app.example.com", check=True)
    assert (checked["changed"], checked["route"]["result"]) == (True, "new")
    assert cfemu.writes() == []
    assert records_at(cfemu, "app.example.com") == []

    _ignored, created = route(tunnel=tunnel, hostname="app.example.com")
    assert (created["changed"], created["route"]["result"]) == (True, "new")
    record = created["route"]["record"]
    assert (record["type"], record["content"], record["proxied"], record["ttl"]) == ("CNAME", target(tunnel), True, 1)
    assert record["comment"] == f"managed by tunnelops.cloudflare: tunnel={tunnel}"
    assert [r["content"] for r in records_at(cfemu, "app.example.com")] == [target(tunnel)]

    _ignored, again = route(tunnel=tunnel, hostname="app.example.com")
    assert (again["changed"], again["route"]["result"]) == (False, "unchanged")
    assert cfemu.writes() == []


@pytest.mark.parametrize(
    ("options", "by_name", "expected"),
    [
        pytest.param({}, False, 2, id="uuid"),
        pytest.param({"zone": EXAMPLE_COM}, False, 1, id="uuid-and-zone-id"),
        pytest.param({"zone": "example.com"}, False, 2, id="uuid-and-zone-name"),
        pytest.param({}, True, 3, id="tunnel-name"),
    ],
)
def test_an_already_routed_hostname_costs_at_most_two_requests(cfemu, route, tunnel, options, by_name, expected):
    add_record(cfemu, EXAMPLE_COM, "CNAME", "app.example.com", target(tunnel), proxied=True)

    _ignored, result = route(tunnel="web-01" if by_name else tunnel, hostname="app.example.com", **options)

    assert result["changed"] is False
    assert len(cfemu.requests()) == expected


def test_an_unproxied_cname_to_the_tunnel_is_made_proxied(cfemu, route, tunnel):
    record = add_record(cfemu, EXAMPLE_COM, "CNAME", "app.example.com", target(tunnel), proxied=False)

    _ignored, result = route(tunnel=tunnel, hostname="app.example.com")

    assert result["route"]["result"] == "updated"
    assert records_at(cfemu, "app.example.com") == [
        {"id": record["id"], "type": "CNAME", "content": target(tunnel), "proxied": True}
    ]


@pytest.mark.parametrize(
    ("rtype", "content"),
    [("A", "192.0.2.80"), ("AAAA", "2001:db8::80"), ("CNAME", "legacy-tunnel.example.net")],
)
def test_a_conflicting_record_is_refused_and_left_as_it_was(cfemu, route, tunnel, rtype, content):
    existing = add_record(cfemu, EXAMPLE_COM, rtype, "app.example.com", content)
    before = records_at(cfemu, "app.example.com")

    run, result = route(tunnel=tunnel, hostname="app.example.com")

    assert run.rc != 0
    assert existing["id"] in result["msg"]
    assert content in result["msg"]
    assert cfemu.writes() == []
    assert records_at(cfemu, "app.example.com") == before


def test_overwrite_replaces_the_legacy_record_in_one_batch(cfemu, route, tunnel):
    old = add_record(cfemu, EXAMPLE_COM, "CNAME", "app.example.com", "legacy-tunnel.example.net", proxied=True)

    _ignored, result = route(tunnel=tunnel, hostname="app.example.com", overwrite=True)

    writes = cfemu.writes()
    assert [(w["method"], w["path"]) for w in writes] == [("POST", f"/zones/{EXAMPLE_COM}/dns_records/batch")]
    assert (result["route"]["result"], result["route"]["replaced"][0]["id"]) == ("updated", old["id"])
    assert [(r["type"], r["content"]) for r in records_at(cfemu, "app.example.com")] == [("CNAME", target(tunnel))]


def test_overwrite_legacy_replaces_only_a_record_a_legacy_tunnel_left(cfemu, route, tunnel):
    add_record(cfemu, EXAMPLE_COM, "AAAA", "legacy.example.com", "100::", proxied=True)
    user_record = add_record(cfemu, EXAMPLE_COM, "A", "mine.example.com", "192.0.2.44")

    _ignored, replaced = route(tunnel=tunnel, hostname="legacy.example.com", overwrite_legacy=True)
    run, refused = route(tunnel=tunnel, hostname="mine.example.com", overwrite_legacy=True)

    assert replaced["route"]["result"] == "updated"
    assert [(r["type"], r["content"]) for r in records_at(cfemu, "legacy.example.com")] == [("CNAME", target(tunnel))]
    assert run.rc != 0
    assert user_record["id"] in refused["msg"]
    assert cfemu.writes() == []
    assert [r["id"] for r in records_at(cfemu, "mine.example.com")] == [user_record["id"]]


def test_absent_removes_our_record_and_leaves_others(cfemu, route, tunnel):
    add_record(cfemu, EXAMPLE_COM, "CNAME", "app.example.com", target(tunnel), proxied=True)
    foreign = add_record(cfemu, EXAMPLE_COM, "A", "other.example.com", "192.0.2.7")

    _ignored, ours = route(tunnel=tunnel, hostname="app.example.com", state="absent")
    _ignored, theirs = route(tunnel=tunnel, hostname="other.example.com", state="absent")

    assert (ours["changed"], ours["route"]["result"]) == (True, "deleted")
    assert records_at(cfemu, "app.example.com") == []
    assert (theirs["changed"], theirs["route"]["left"][0]["id"]) == (False, foreign["id"])
    assert any(foreign["id"] in warning for warning in theirs.get("warnings", []))
    assert records_at(cfemu, "other.example.com") == [
        {"id": foreign["id"], "type": "A", "content": "192.0.2.7", "proxied": False}
    ]


@pytest.mark.parametrize(
    ("given", "stored", "zone"),
    [
        ("*.example.com", "*.example.com", "example.com"),
        ("bücher.example.com", "xn--bcher-kva.example.com", "example.com"),
        ("*.bücher.dev.example.com", "*.xn--bcher-kva.dev.example.com", "dev.example.com"),
    ],
)
def test_wildcard_and_idn_names_are_routed_in_punycode(cfemu, route, tunnel, given, stored, zone):
    _ignored, created = route(tunnel=tunnel, hostname=given)
    _ignored, again = route(tunnel=tunnel, hostname=given)

    assert (created["route"]["result"], created["route"]["hostname"], created["route"]["zone"]) == ("new", stored, zone)
    assert [r["content"] for r in records_at(cfemu, stored)] == [target(tunnel)]
    assert again["changed"] is False


def test_a_hostname_outside_the_accounts_zones_fails_without_writing(cfemu, route, tunnel):
    run, result = route(tunnel=tunnel, hostname="app.example.org")

    assert run.rc != 0
    assert "no zone" in result["msg"]
    assert cfemu.writes() == []


def test_the_list_form_reads_each_zone_once_and_writes_in_batches(cfemu, route, tunnel):
    names = [f"h{i:02d}.example.com" for i in range(50)] + ["api.dev.example.com", "web.dev.example.com"]
    add_record(cfemu, EXAMPLE_COM, "CNAME", "h00.example.com", target(tunnel), proxied=True)

    _ignored, result = route(tunnel=tunnel, hostnames=names, batch_size=20)

    methods = [(r["method"], r["path"]) for r in cfemu.requests()]
    assert methods.count(("GET", "/zones")) == 1
    assert methods.count(("GET", f"/zones/{EXAMPLE_COM}/dns_records")) == 1
    assert methods.count(("GET", f"/zones/{DEV}/dns_records")) == 1
    # 49 new names in example.com in batches of 20, the two dev.example.com names in one batch.
    assert methods.count(("POST", f"/zones/{EXAMPLE_COM}/dns_records/batch")) == 3
    assert methods.count(("POST", f"/zones/{DEV}/dns_records/batch")) == 1
    assert len(methods) == 7
    assert [r["result"] for r in result["routes"]] == ["unchanged"] + ["new"] * 51
    assert all(records_at(cfemu, name) for name in names)

    _ignored, again = route(tunnel=tunnel, hostnames=names)
    assert again["changed"] is False
    assert len(cfemu.requests()) == 3


@pytest.mark.parametrize(("by_name", "first", "second"), [(False, 3, 2), (True, 4, 3)])
def test_fifty_new_hostnames_of_one_zone_cost_a_constant_number_of_requests(
    cfemu, route, tunnel, by_name, first, second
):
    names = [f"n{i:02d}.example.com" for i in range(50)]

    _ignored, created = route(tunnel="web-01" if by_name else tunnel, hostnames=names)
    first_log = cfemu.requests()
    _ignored, again = route(tunnel="web-01" if by_name else tunnel, hostnames=names)

    assert (len(first_log), len(cfemu.requests())) == (first, second)
    assert [(r["method"], r["path"]) for r in first_log if r["method"] != "GET"] == [
        ("POST", f"/zones/{EXAMPLE_COM}/dns_records/batch")
    ]
    assert (created["changed"], again["changed"], cfemu.writes()) == (True, False, [])
    assert sum(1 for r in cfemu.state()["dns_records"] if r["name"] in names) == 50


def test_the_list_form_refuses_duplicates_before_any_request(cfemu, route, tunnel):
    run, result = route(tunnel=tunnel, hostnames=["a.example.com", "A.Example.com."])

    assert run.rc != 0
    assert "more than once" in result["msg"]
    assert cfemu.requests() == []


def test_the_list_form_writes_nothing_when_one_hostname_conflicts(cfemu, route, tunnel):
    add_record(cfemu, EXAMPLE_COM, "A", "b.example.com", "192.0.2.9")

    run, result = route(tunnel=tunnel, hostnames=["a.example.com", "b.example.com", "c.example.com"])

    assert run.rc != 0
    assert "b.example.com" in result["msg"]
    assert cfemu.writes() == []


def test_a_refused_batch_leaves_the_zone_as_it_was(cfemu, route, tunnel):
    old = add_record(cfemu, EXAMPLE_COM, "A", "app.example.com", "192.0.2.80")
    cfemu.fault("POST", f"/zones/{EXAMPLE_COM}/dns_records/batch", status=500)

    run, result = route(tunnel=tunnel, hostnames=["app.example.com", "new.example.com"], overwrite=True)

    assert run.rc != 0
    assert "Nothing was written" in result["msg"]
    assert records_at(cfemu, "app.example.com") == [
        {"id": old["id"], "type": "A", "content": "192.0.2.80", "proxied": False}
    ]
    assert records_at(cfemu, "new.example.com") == []


def test_check_mode_with_diff_shows_the_replacement_without_writing(cfemu, route, tunnel):
    old = add_record(cfemu, EXAMPLE_COM, "A", "app.example.com", "192.0.2.80")

    _ignored, result = route(tunnel=tunnel, hostname="app.example.com", overwrite=True, check=True, diff=True)

    assert result["changed"] is True
    assert [r["id"] for r in result["diff"]["before"]["app.example.com"]] == [old["id"]]
    assert [r["content"] for r in result["diff"]["after"]["app.example.com"]] == [target(tunnel)]
    assert cfemu.writes() == []


def foreign_pool(emu) -> dict:
    origin = {"name": "legacy-host", "address": "192.0.2.10", "enabled": True, "weight": 0.5}
    return api(emu, "POST", POOLS, {"name": "web-pool", "origins": [origin]})


def test_lb_keeps_foreign_origins_and_creates_then_reuses_the_load_balancer(cfemu, route, tunnel):
    pool = foreign_pool(cfemu)
    second = create_tunnel(cfemu, "web-02")

    _ignored, checked = route(tunnel=tunnel, type="lb", hostname="lb.example.com", pool="web-pool", check=True)
    assert (checked["route"]["pool"], checked["route"]["load_balancer"]) == ("updated", "new")
    assert [o["address"] for o in checked["diff"]["before"]["pool"]["origins"]] == ["192.0.2.10"]
    assert [o["address"] for o in checked["diff"]["after"]["pool"]["origins"]] == ["192.0.2.10", target(tunnel)]
    assert (checked["diff"]["before"]["load_balancer"], checked["diff"]["after"]["load_balancer"]["proxied"]) == (
        None,
        True,
    )
    assert cfemu.writes() == []

    _ignored, first = route(tunnel=tunnel, type="lb", hostname="lb.example.com", pool="web-pool")
    _ignored, other = route(tunnel=second, type="lb", hostname="lb.example.com", pool="web-pool", weight=0.25)
    _ignored, again = route(tunnel=tunnel, type="lb", hostname="lb.example.com", pool="web-pool")

    assert (first["route"]["pool"], first["route"]["load_balancer"]) == ("updated", "new")
    assert (other["route"]["pool"], other["route"]["load_balancer"]) == ("updated", "unchanged")
    assert (again["changed"], cfemu.writes()) == (False, [])
    state = cfemu.state()
    origins = next(p for p in state["pools"] if p["id"] == pool["id"])["origins"]
    assert [(o["address"], o["weight"]) for o in origins] == [
        ("192.0.2.10", 0.5),
        (target(tunnel), 1.0),
        (target(second), 0.25),
    ]
    balancers = [b for b in state["load_balancers"] if b["name"] == "lb.example.com"]
    assert [(b["default_pools"], b["fallback_pool"], b["proxied"]) for b in balancers] == [
        ([pool["id"]], pool["id"], True)
    ]


def test_lb_creates_a_missing_pool_and_absent_removes_only_our_origin(cfemu, route, tunnel):
    pool = foreign_pool(cfemu)

    _ignored, created = route(tunnel=tunnel, type="lb", hostname="new-lb.example.com", pool="fresh-pool")
    route(tunnel=tunnel, type="lb", hostname="lb.example.com", pool="web-pool")
    _ignored, removed = route(tunnel=tunnel, type="lb", hostname="lb.example.com", pool="web-pool", state="absent")

    assert (created["route"]["pool"], created["route"]["load_balancer"]) == ("new", "new")
    assert [o["address"] for o in created["route"]["origins"]] == [target(tunnel)]
    assert (removed["route"]["result"], removed["route"]["pool"]) == ("deleted", "updated")
    origins = next(p for p in cfemu.state()["pools"] if p["id"] == pool["id"])["origins"]
    assert [o["address"] for o in origins] == ["192.0.2.10"]


def test_hosts_adding_their_tunnels_to_one_pool_at_once_keep_every_origin(cfemu, ansible_playbook, tmp_path):
    tunnels = {f"host{i}": create_tunnel(cfemu, f"race-{i}") for i in range(6)}
    inventory = tmp_path / "hosts.ini"
    inventory.write_text(
        "".join(f"{host} ansible_connection=local route_tunnel={tunnel}\n" for host, tunnel in tunnels.items())
    )

    run = ansible_playbook(
        "cf_tunnel_route_pool_race.yml", inventory=str(inventory), env=cfemu.env(), extra_args=["--forks", "6"]
    )

    assert run.rc == 0, run.output
    pools = [p for p in cfemu.state()["pools"] if p["name"] == "shared-pool"]
    assert len(pools) == 1
    assert sorted(o["address"] for o in pools[0]["origins"]) == sorted(target(t) for t in tunnels.values())


def test_lb_refuses_an_unproxied_load_balancer_before_writing(cfemu, route, tunnel):
    pool = foreign_pool(cfemu)
    body = {"name": "plain.example.com", "default_pools": [pool["id"]], "fallback_pool": pool["id"], "proxied": False}
    api(cfemu, "POST", f"/zones/{EXAMPLE_COM}/load_balancers", body)
    pools_before = cfemu.state()["pools"]

    run, result = route(tunnel=tunnel, type="lb", hostname="plain.example.com", pool="web-pool")

    assert run.rc != 0
    assert "1004" in result["msg"]
    assert cfemu.writes() == []
    assert cfemu.state()["pools"] == pools_before


def test_a_private_network_route_check_then_real_then_idempotent_then_absent(cfemu, route, tunnel):
    _ignored, checked = route(tunnel=tunnel, type="ip", network="10.20.0.0/16", comment="office LAN", check=True)
    assert (checked["changed"], cfemu.writes()) == (True, [])
    assert checked["diff"] == {
        "before": {"10.20.0.0/16": None},
        "after": {
            "10.20.0.0/16": {
                "id": None,
                "network": "10.20.0.0/16",
                "tunnel_id": tunnel,
                "virtual_network_id": None,
                "comment": "office LAN",
            }
        },
    }

    _ignored, created = route(tunnel=tunnel, type="ip", network="10.20.0.0/16", comment="office LAN")
    _ignored, again = route(tunnel=tunnel, type="ip", network="10.20.0.0/16", comment="office LAN")
    routes = [r for r in cfemu.state()["routes"] if not r.get("deleted_at")]

    assert created["route"]["result"] == "new"
    assert [(r["network"], r["tunnel_id"], r["comment"]) for r in routes] == [("10.20.0.0/16", tunnel, "office LAN")]
    assert (again["changed"], cfemu.writes()) == (False, [])

    _ignored, removed = route(tunnel=tunnel, type="ip", network="10.20.0.0/16", state="absent")
    assert removed["route"]["result"] == "deleted"
    assert [r for r in cfemu.state()["routes"] if not r.get("deleted_at")] == []


def test_a_network_routed_to_another_tunnel_is_refused(cfemu, route, tunnel):
    other = create_tunnel(cfemu, "web-02")
    existing = api(
        cfemu, "POST", f"/accounts/{ACCOUNT_ID}/teamnet/routes", {"network": "10.30.0.0/16", "tunnel_id": other}
    )

    run, result = route(tunnel=tunnel, type="ip", network="10.30.0.0/16")

    assert run.rc != 0
    assert existing["id"] in result["msg"]
    assert cfemu.writes() == []


def test_no_secret_reaches_the_output_at_full_verbosity(cfemu, ansible_playbook, tunnel):
    add_record(cfemu, EXAMPLE_COM, "A", "app.example.com", "192.0.2.80")
    extra = {"route_tunnel": "web-01", "route_hostname": "app.example.com", "route_overwrite": True}

    result = ansible_playbook(PLAYBOOK, extra_vars=extra, verbosity=4, diff=True, env=cfemu.env())

    assert result.rc == 0, result.output
    assert "cfargotunnel.com" in result.output
    for secret in (*SECRETS, TOKEN_ALL):
        assert secret not in result.output


def test_ansible_doc_renders_the_module():
    env = dict(
        os.environ,
        PATH=f"{REPO_ROOT / '.venv' / 'bin'}{os.pathsep}{os.environ.get('PATH', '')}",
        ANSIBLE_CONFIG=str(REPO_ROOT / "ansible.cfg"),
        ANSIBLE_COLLECTIONS_PATH=str(REPO_ROOT / ".build" / "collections"),
    )

    doc = subprocess.run(
        ["ansible-doc", "tunnelops.cloudflare.cf_tunnel_route"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )

    assert doc.returncode == 0, doc.stderr
    assert "overwrite_legacy" in doc.stdout
    assert "ERROR" not in doc.stderr
