"""Bad input fails with one clear error that names the problem, and changes nothing in the account.
Every run is scanned for secrets at -vvvv (see conftest.play)."""

from __future__ import annotations

import base64
import os

import pytest
import requests
from reliability_support import ACCOUNT_ID, TOKEN_ALL, ZONE, ZONE_ID, comparable, fleet_view

CATCH_ALL = {"service": "http_status:404"}
APP = {"hostname": f"app.{ZONE}", "service": "http://localhost:8000"}

# Remote-managed ingress pushed through cf_tunnel: (ingress rules, words the error must contain).
BAD_INGRESS = {
    "no catch-all rule": ([APP], ["Rule #1", "last ingress rule must match all URLs"]),
    "catch-all in the middle": (
        [APP, CATCH_ALL, {"hostname": f"b.{ZONE}", "service": "http://localhost:8001"}, CATCH_ALL],
        ["Rule #2", "never be triggered"],
    ),
    "service without a scheme": (
        [{"hostname": f"app.{ZONE}", "service": "localhost:8000"}, CATCH_ALL],
        ["localhost:8000", "scheme"],
    ),
    "service with a path": (
        [{"hostname": f"app.{ZONE}", "service": "http://localhost:8000/app"}, CATCH_ALL],
        ["http://localhost:8000/app", "path"],
    ),
    "port in a hostname": (
        [{"hostname": f"app.{ZONE}:8443", "service": "http://localhost:8000"}, CATCH_ALL],
        ["Rule #1", "Hostname cannot contain a port"],
    ),
    "path regex that does not compile": (
        [{"hostname": f"app.{ZONE}", "path": "^/api/(v1", "service": "http://localhost:8000"}, CATCH_ALL],
        ["Rule #1", "invalid regex"],
    ),
}

# cf_tunnel_route against the tunnel "web": (route vars, API token, words the error must contain).
BAD_ROUTES = {
    "invalid hostname": ({"route_hostname": f"bad_name!.{ZONE}"}, TOKEN_ALL, [f"bad_name!.{ZONE}"]),
    "port in a route hostname": ({"route_hostname": f"app.{ZONE}:8443"}, TOKEN_ALL, [f"app.{ZONE}:8443"]),
    "hostname in no zone of the account": (
        {"route_hostname": "app.unknown-zone.org"},
        TOKEN_ALL,
        ["app.unknown-zone.org", "zone"],
    ),
    "unknown zone given": (
        {"route_hostname": f"app.{ZONE}", "route_zone": "unknown-zone.org"},
        TOKEN_ALL,
        ["unknown-zone.org"],
    ),
    "bad token": ({"route_hostname": f"app.{ZONE}"}, "cfemu-token-revoked-000000", ["10000"]),
    "token lacking DNS Write": ({"route_hostname": f"app.{ZONE}"}, "cfemu-token-readonly-77b2e0", ["DNS Write"]),
    "conflicting A record without overwrite": (
        {"route_hostname": f"legacy.{ZONE}"},
        TOKEN_ALL,
        [f"legacy.{ZONE}", "192.0.2.10"],
    ),
    "hostname routed to another tunnel": ({"route_hostname": f"taken.{ZONE}"}, TOKEN_ALL, [f"taken.{ZONE}"]),
    "the same hostname twice in the list form": (
        {"route_hostnames": [f"dup.{ZONE}", f"other.{ZONE}", f"dup.{ZONE}"]},
        TOKEN_ALL,
        [f"dup.{ZONE}"],
    ),
}


def api(emulator, method: str, path: str, body: dict | None = None) -> dict:
    answer = requests.request(
        method, f"{emulator.base_url}{path}", json=body, timeout=10, headers={"Authorization": f"Bearer {TOKEN_ALL}"}
    )
    answer.raise_for_status()
    return answer.json()["result"]


def create_tunnel(emulator, name: str) -> dict:
    secret = base64.b64encode(os.urandom(32)).decode()
    return api(emulator, "POST", f"/accounts/{ACCOUNT_ID}/cfd_tunnel", {"name": name, "tunnel_secret": secret})


def add_record(emulator, record: dict) -> dict:
    return api(emulator, "POST", f"/zones/{ZONE_ID}/dns_records", {"ttl": 1, "proxied": False, **record})


@pytest.fixture
def account(cfemu):
    """The emulator with a tunnel "web", an A record in the way, and a hostname already routed to tunnel "other"."""
    create_tunnel(cfemu, "web")
    other = create_tunnel(cfemu, "other")
    add_record(cfemu, {"type": "A", "name": f"legacy.{ZONE}", "content": "192.0.2.10"})
    add_record(
        cfemu, {"type": "CNAME", "name": f"taken.{ZONE}", "content": f"{other['id']}.cfargotunnel.com", "proxied": True}
    )
    return cfemu


def failure_text(output: str) -> str:
    """The part of the output from the first failure on; the error has to be there, not in a debug line."""
    position = output.find("FAILED!")
    assert position >= 0, "the run did not fail"
    return output[position:]


@pytest.mark.parametrize("ingress, words", BAD_INGRESS.values(), ids=BAD_INGRESS.keys())
def test_invalid_ingress_fails_naming_the_rule_and_changes_nothing(account, play, ingress, words):
    before = comparable(account.state())

    run = play(
        "tunnel.yml",
        account,
        extra_vars={"tunnel_name": "remote-web", "tunnel_config_src": "cloudflare", "tunnel_ingress": ingress},
    )

    assert run.rc != 0
    error = failure_text(run.output)
    assert all(word in error for word in words), f"error does not name the problem ({words})"
    assert comparable(account.state()) == before


@pytest.mark.parametrize("route_vars, token, words", BAD_ROUTES.values(), ids=BAD_ROUTES.keys())
def test_bad_route_fails_naming_the_problem_and_changes_nothing(account, play, route_vars, token, words):
    before = comparable(account.state())

    run = play("route.yml", account, extra_vars={"route_tunnel": "web", **route_vars}, token=token)

    assert run.rc != 0
    error = failure_text(run.output)
    assert all(word in error for word in words), f"error does not name the problem ({words})"
    assert comparable(account.state()) == before


def test_token_without_tunnel_permission_fails_naming_the_permission(account, play):
    before = comparable(account.state())

    run = play("tunnel.yml", account, extra_vars={"tunnel_name": "new-tunnel"}, token="cfemu-token-notunnel-0d5a13")

    assert run.rc != 0
    assert "Cloudflare Tunnel" in failure_text(run.output)
    assert comparable(account.state()) == before


def test_two_hosts_claiming_one_hostname_leave_one_owner_and_one_failure(account, play, fleet_inventory):
    hostname = f"shared.{ZONE}"

    run = play("claim.yml", account, fleet_inventory(2), extra_vars={"claim_hostname": hostname}, forks=2)

    assert len(run.failed_hosts) == 1, "exactly one of the two hosts must be refused"
    assert hostname in failure_text(run.output)
    view = fleet_view(account.state())
    winner = next(host for host in ("host-01", "host-02") if host not in run.failed_hosts)
    assert view["cnames"][hostname] == [(f"fleet-{winner}", True)], "the record must stay with the first owner"
