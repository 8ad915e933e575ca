from __future__ import annotations

import pytest
from ansible_collections.tunnelops.cloudflare.plugins.modules import cf_tunnel_info

ACCOUNT = "9a7806061c88ada191ed06f989cc3dac"
BASE_URL = "https://api.cloudflare.test/client/v4"
TUNNELS = f"/accounts/{ACCOUNT}/cfd_tunnel"
TUNNEL_ID = "6ff42ae2-765d-4adf-8112-31c55c1551ef"
ONE = f"{TUNNELS}/{TUNNEL_ID}"


def tunnel(name="web", status="healthy", config_src="local", connections=None):
    return {
        "id": TUNNEL_ID,
        "name": name,
        "status": status,
        "created_at": "2026-11-03T10:12:44Z",
        "deleted_at": None,
        "config_src": config_src,
        "connections": connections or [],
    }


def connector(client_id, colos=("AMS", "FRA"), pending=False):
    conns = [
        {"colo_name": c, "id": f"{client_id}-{c}", "origin_ip": "192.0.2.5", "is_pending_reconnect": pending}
        for c in colos
    ]
    return {
        "id": client_id,
        "version": "2026.8.2",
        "arch": "linux_amd64",
        "run_at": "2026-11-03T10:13:00Z",
        "conns": conns,
    }


def args(**options):
    return {"api_token": "unit-token", "account_id": ACCOUNT, "base_url": BASE_URL, **options}


class Clock:
    """Stands in for time.monotonic and time.sleep: sleeping moves the clock."""

    def __init__(self):
        self.now = 1000.0
        self.sleeps = []

    def monotonic(self):
        return self.now

    def sleep(self, seconds):
        self.sleeps.append(seconds)
        self.now += seconds


@pytest.fixture
def clock(monkeypatch):
    clock = Clock()
    monkeypatch.setattr(cf_tunnel_info.time, "monotonic", clock.monotonic)
    monkeypatch.setattr(cf_tunnel_info.time, "sleep", clock.sleep)
    return clock


def test_a_missing_tunnel_is_not_a_failure(run_module, fake_api):
    fake_api.add("GET", TUNNELS, fake_api.ok([]))

    result = run_module(cf_tunnel_info, args(name="web"))

    assert (result["exists"], result["tunnel"], result["tunnels"], result["changed"]) == (False, {}, [], False)
    assert len(fake_api.calls) == 1


@pytest.mark.parametrize("check_mode", [False, True], ids=["normal", "check-mode"])
def test_one_tunnel_by_name_costs_two_requests(run_module, fake_api, check_mode):
    fake_api.add("GET", TUNNELS, fake_api.ok([tunnel()]))
    fake_api.add("GET", ONE + "/connections", fake_api.ok([connector("c1", ("FRA", "AMS", "AMS")), connector("c2")]))

    result = run_module(cf_tunnel_info, args(name="web"), check_mode=check_mode)

    assert result["exists"] is True
    assert [c["edge"] for c in result["tunnel"]["connectors"]] == ["2xAMS, 1xFRA", "1xAMS, 1xFRA"]
    assert len(result["tunnel"]["connections"]) == 5
    assert result["tunnel"]["connected_connector_ids"] == ["c1", "c2"]
    assert result["tunnels"] == [result["tunnel"]]
    assert [c["path"] for c in fake_api.calls] == [TUNNELS, ONE + "/connections"]


def test_without_connectors_the_tunnel_objects_connections_are_used(run_module, fake_api):
    conns = [{"colo_name": "AMS", "id": "x", "client_id": "c9", "origin_ip": "192.0.2.9"}]
    fake_api.add("GET", TUNNELS, fake_api.ok([tunnel(connections=conns)]))

    result = run_module(cf_tunnel_info, args(name="web", include_connectors=False))

    assert result["tunnel"]["connectors"] == []
    assert result["tunnel"]["connections"][0]["client_id"] == "c9"
    assert result["tunnel"]["connected_connector_ids"] == ["c9"]
    assert len(fake_api.calls) == 1


@pytest.mark.parametrize("options", [{"tunnel_id": TUNNEL_ID}, {"name": TUNNEL_ID}], ids=["tunnel_id", "uuid-as-name"])
def test_a_tunnel_id_is_looked_up_with_the_uuid_filter(run_module, fake_api, options):
    fake_api.add("GET", TUNNELS, fake_api.ok([tunnel()]))

    run_module(cf_tunnel_info, args(include_connectors=False, **options))

    assert fake_api.calls[0]["query"] == {"uuid": TUNNEL_ID, "is_deleted": "false", "per_page": 2}


@pytest.mark.parametrize(
    ("options", "query"),
    [
        ({}, {"is_deleted": "false"}),
        ({"include_deleted": True}, {}),
        (
            {"name_prefix": "web-", "exclude_prefix": "web-old", "status": "down"},
            {
                "is_deleted": "false",
                "include_prefix": "web-",
                "exclude_prefix": "web-old",
                "status": "down",
            },
        ),
    ],
    ids=["live", "with-deleted", "filters"],
)
def test_listing_passes_filters_to_cloudflare(run_module, fake_api, options, query):
    fake_api.add("GET", TUNNELS, fake_api.ok([tunnel(), dict(tunnel(), id="other", name="web-2")]))

    result = run_module(cf_tunnel_info, args(include_connectors=False, **options))

    assert [t["name"] for t in result["tunnels"]] == ["web", "web-2"]
    assert fake_api.calls[0]["query"] == dict(query, page=1, per_page=1000)
    assert "exists" not in result


@pytest.mark.parametrize(("config_src", "requests"), [("cloudflare", 2), ("local", 1)])
def test_include_config_reads_remote_configuration_only(run_module, fake_api, config_src, requests):
    fake_api.add("GET", TUNNELS, fake_api.ok([tunnel(config_src=config_src)]))
    fake_api.add("GET", ONE + "/configurations", fake_api.ok({"version": 3, "config": {"ingress": []}}))

    result = run_module(cf_tunnel_info, args(name="web", include_connectors=False, include_config=True))

    expected = {"version": 3, "config": {"ingress": []}} if config_src == "cloudflare" else None
    assert result["tunnel"]["config"] == expected
    assert len(fake_api.calls) == requests


def test_a_forbidden_lookup_names_the_read_permission(run_module, fake_api):
    fake_api.add("GET", TUNNELS, fake_api.error(403, 10000, "Authentication error"))
    fake_api.add("GET", "/user/tokens/verify", fake_api.ok({"id": "t1", "status": "active"}))

    result = run_module(cf_tunnel_info, args(name="web"))

    assert result["msg"].startswith("Failed to look up tunnel 'web': Cloudflare answered HTTP 403, code 10000")
    assert "'Cloudflare Tunnel Read' (account)" in result["msg"]


# wait


@pytest.mark.parametrize(
    ("wait", "answers"),
    [
        ({}, [[], [connector("c1")]]),
        (
            {"min_connectors": 2},
            [[connector("c1")], [connector("c1"), connector("c2", pending=True)], [connector("c1"), connector("c2")]],
        ),
        ({"connector_id": "c2"}, [[connector("c1")], [connector("c1"), connector("c2")]]),
    ],
    ids=["connected", "min-connectors", "connector-id"],
)
def test_wait_polls_until_the_condition_holds(run_module, fake_api, clock, wait, answers):
    fake_api.add("GET", TUNNELS, fake_api.ok([tunnel()]))
    fake_api.add("GET", ONE + "/connections", *[fake_api.ok(a) for a in answers])

    result = run_module(cf_tunnel_info, args(name="web", wait=dict(wait, interval=2)))

    assert result.get("failed") is None, result.get("msg")
    assert clock.sleeps == [2.0] * (len(answers) - 1)
    assert result["waited"] == 2.0 * (len(answers) - 1)


def test_wait_for_healthy_also_waits_for_the_status(run_module, fake_api, clock):
    fake_api.add("GET", TUNNELS, fake_api.ok([tunnel(status="degraded")]), fake_api.ok([tunnel(status="healthy")]))
    fake_api.add("GET", ONE + "/connections", fake_api.ok([connector("c1")]))

    result = run_module(cf_tunnel_info, args(name="web", wait={"state": "healthy"}))

    assert result["tunnel"]["status"] == "healthy"
    assert len(clock.sleeps) == 1


def test_wait_times_out_with_what_it_saw_last(run_module, fake_api, clock):
    fake_api.add("GET", TUNNELS, fake_api.ok([tunnel(status="degraded")]))
    fake_api.add("GET", ONE + "/connections", fake_api.ok([connector("c1", ("AMS",))]))

    result = run_module(cf_tunnel_info, args(name="web", wait={"state": "healthy", "min_connectors": 2, "timeout": 10}))

    assert result["failed"] is True
    assert result["msg"] == (
        f"Timed out after 10.0s waiting for tunnel 'web' ({TUNNEL_ID}): status is degraded, not healthy; "
        "1 connected connector(s), fewer than 2. Last seen: status degraded, connectors: c1 (192.0.2.5: 1xAMS)."
    )
    assert clock.sleeps == [2.0] * 5


def test_wait_for_a_missing_tunnel_fails(run_module, fake_api, clock):
    fake_api.add("GET", TUNNELS, fake_api.ok([]))

    result = run_module(cf_tunnel_info, args(name="web", wait={}))

    assert (result["failed"], result["exists"]) == (True, False)
    assert "does not exist" in result["msg"]


def test_wait_needs_one_tunnel(run_module, fake_api):
    result = run_module(cf_tunnel_info, args(wait={}))

    assert result["msg"] == "wait needs name or tunnel_id: it waits for one tunnel."
    assert fake_api.calls == []
