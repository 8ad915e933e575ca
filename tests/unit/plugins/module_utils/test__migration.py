"""The migration plan: legacy tunnels of one host in, named tunnels, routes and leftovers out."""

from __future__ import annotations

import pytest
from ansible_collections.tunnelops.cloudflare.plugins.module_utils._migration import (
    MigrationPlanError,
    migration_plan,
    route_conflicts,
)


def legacy(hostname, service="http://localhost:8000", lb_pool=None, unit="cloudflared.service", **extra):
    entry = {
        "hostname": hostname,
        "service": service,
        "lb_pool": lb_pool,
        "unit": unit,
        "config_file": "/etc/cloudflared/config.yml",
        "translatable": True,
        "problems": [],
        "ingress": [{"hostname": hostname, "service": service}, {"service": "http_status:404"}],
        "options": {},
        "retire": {
            "unit": unit,
            "unit_file": f"/etc/systemd/system/{unit}",
            "update_units": [],
            "config_files": ["/etc/cloudflared/config.yml"],
            "env_files": [],
            "cert_pem": ["/etc/cloudflared/cert.pem"],
        },
    }
    entry.update(extra)
    return entry


def test_plain_legacy_tunnels_become_rules_of_one_dns_routed_tunnel():
    plan = migration_plan(
        {"legacy": [legacy("a.example.com"), legacy("b.example.com", "https://localhost:8443", unit="other.service")]},
        "web-01",
    )

    assert [tunnel["name"] for tunnel in plan["tunnels"]] == ["web-01"]
    assert plan["tunnels"][0]["ingress"] == [
        {"hostname": "a.example.com", "service": "http://localhost:8000"},
        {"hostname": "b.example.com", "service": "https://localhost:8443"},
        {"service": "http_status:404"},
    ]
    assert plan["tunnels"][0]["routes"] == "none"
    assert plan["routes"] == [{"tunnel": "web-01", "type": "dns", "hostnames": ["a.example.com", "b.example.com"]}]


@pytest.mark.parametrize(
    ("pool_names", "expected_name"),
    [({}, "web-pool"), ({"web-pool": "web-replicas"}, "web-replicas")],
)
def test_pool_replicas_share_a_tunnel_named_after_the_pool(pool_names, expected_name):
    plan = migration_plan({"legacy": [legacy("lb.example.com", lb_pool="web-pool")]}, "host-2", pool_names)

    assert [tunnel["name"] for tunnel in plan["tunnels"]] == [expected_name]
    assert plan["routes"] == [{"tunnel": expected_name, "type": "lb", "hostname": "lb.example.com", "pool": "web-pool"}]


def test_origin_request_of_a_rule_is_kept():
    rule = {"hostname": "a.example.com", "service": "https://localhost", "originRequest": {"noTLSVerify": True}}
    plan = migration_plan({"legacy": [legacy("a.example.com", ingress=[rule, {"service": "http_status:404"}])]}, "h")

    assert plan["tunnels"][0]["ingress"][0] == rule


def test_metrics_address_is_not_carried_and_differing_options_are_noted():
    entries = [
        legacy("a.example.com", options={"metrics": "localhost:2000", "loglevel": "debug"}),
        legacy("b.example.com", unit="b.service", options={"loglevel": "info"}),
    ]
    plan = migration_plan({"legacy": entries}, "h")

    assert plan["tunnels"][0]["options"] == {"loglevel": "debug"}
    assert plan["notes"] == ["b.example.com: option loglevel='info' differs from 'debug'; the first is kept"]


def test_leftovers_are_collected_once_and_cert_pem_only_when_legacy_exists():
    plan = migration_plan({"legacy": [legacy("a.example.com")], "cert_pem": ["/root/.cloudflared/cert.pem"]}, "h")
    nothing = migration_plan({"legacy": [], "cert_pem": ["/root/.cloudflared/cert.pem"]}, "h")

    assert plan["retire"] == {
        "units": ["cloudflared.service"],
        "unit_files": ["/etc/systemd/system/cloudflared.service"],
        "update_units": [],
        "files": ["/etc/cloudflared/config.yml"],
        "cert_pem": ["/etc/cloudflared/cert.pem", "/root/.cloudflared/cert.pem"],
    }
    assert nothing["tunnels"] == [] and nothing["routes"] == [] and nothing["retire"]["cert_pem"] == []


def test_the_plan_names_the_legacy_unit_or_config_file_of_each_hostname():
    plan = migration_plan({"legacy": [legacy("a.example.com"), legacy("b.example.com", unit=None)]}, "h")

    assert plan["sources"] == {"a.example.com": "cloudflared.service", "b.example.com": "/etc/cloudflared/config.yml"}


def test_a_sysv_init_script_is_stopped_as_its_service_and_retired_like_a_unit_file():
    entry = legacy("a.example.com", unit=None)
    entry["retire"].update(unit=None, unit_file=None, init_script="/etc/init.d/cloudflared")

    plan = migration_plan({"legacy": [entry]}, "h")

    assert plan["retire"]["units"] == ["cloudflared.service"]
    assert plan["retire"]["unit_files"] == ["/etc/init.d/cloudflared"]


@pytest.mark.parametrize(
    ("entries", "tunnel_name", "pools", "message"),
    [
        (
            [legacy("a.example.com", translatable=False, problems=["cloudflared.service: unknown flag --foo"])],
            "h",
            {},
            "cannot be translated: cloudflared.service: unknown flag --foo",
        ),
        (
            [legacy("a.example.com"), legacy("A.example.com", unit="second.service")],
            "h",
            {},
            "hostname a.example.com is served by both cloudflared.service and second.service",
        ),
        (
            [legacy("a.example.com"), legacy("lb.example.com", lb_pool="p", unit="b.service")],
            "h",
            {"p": "h"},
            "would share the name h",
        ),
        (
            [legacy("a.example.com:8080", ingress=[{"hostname": "a.example.com:8080", "service": "http://x"}])],
            "h",
            {},
            "Hostname cannot contain a port",
        ),
    ],
    ids=["untranslatable", "duplicate-hostname", "pool-name-clash", "invalid-ingress"],
)
def test_a_plan_that_would_need_a_guess_is_refused(entries, tunnel_name, pools, message):
    with pytest.raises(MigrationPlanError, match=message):
        migration_plan({"legacy": entries}, tunnel_name, pools)


def test_route_conflicts_name_hostnames_claimed_for_different_tunnels_only():
    plans = [
        {"routes": [{"tunnel": "web-01", "type": "dns", "hostnames": ["app.example.com", "a.example.com"]}]},
        {"routes": [{"tunnel": "web-02", "type": "dns", "hostnames": ["App.example.com"]}]},
        {"routes": [{"tunnel": "pool", "type": "lb", "hostname": "lb.example.com", "pool": "p"}]},
        {"routes": [{"tunnel": "pool", "type": "lb", "hostname": "lb.example.com", "pool": "p"}]},
    ]

    assert route_conflicts(plans) == {"app.example.com": ["web-01", "web-02"]}
