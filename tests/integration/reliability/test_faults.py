"""A fleet run survives API faults: after the run and at most one re-run the account holds exactly the intended
tunnels and routes, nothing twice and nothing left over. Every run is scanned for secrets at -vvvv."""

from __future__ import annotations

import pytest
from reliability_support import assert_fleet_state, comparable

HOSTS = 10
ANY = "*"

# Each case: the faults injected before the run (kwargs of Emulator.fault) and extra vars for the playbook.
FAULTS = {
    "429 burst with Retry-After 1": ([{"method": "*", "path": ANY, "status": 429, "retry_after": 1, "count": 12}], {}),
    "5xx burst on reads and writes": (
        [
            {"method": "GET", "path": ANY, "status": 502, "count": 6},
            {"method": "POST", "path": ANY, "status": 500, "count": 3},
        ],
        {},
    ),
    "dropped connections": ([{"method": "*", "path": ANY, "drop": True, "count": 6}], {}),
    "slow answers past the timeout": (
        [{"method": "*", "path": ANY, "delay_ms": 3000, "count": 4}],
        {"fleet_request_timeout": 1},
    ),
}


@pytest.mark.parametrize("faults, extra_vars", FAULTS.values(), ids=FAULTS.keys())
def test_fleet_run_reaches_exactly_the_intended_state_despite_faults(cfemu, play, fleet_inventory, faults, extra_vars):
    inventory = fleet_inventory(HOSTS)
    before = comparable(cfemu.state())
    for fault in faults:
        cfemu.fault(**fault)

    run = play("fleet.yml", cfemu, inventory, extra_vars=extra_vars)
    if run.failed_hosts:
        run = play("fleet.yml", cfemu, inventory, extra_vars=extra_vars)

    assert run.rc == 0 and not run.failed_hosts, f"hosts still failing after one re-run: {run.failed_hosts}"
    assert_fleet_state(before, comparable(cfemu.state()), HOSTS)


def test_fleet_run_answers_429_bursts_without_failing_a_host(cfemu, play, fleet_inventory):
    cfemu.fault(method="*", path=ANY, status=429, retry_after=1, count=12)

    run = play("fleet.yml", cfemu, fleet_inventory(HOSTS))

    assert run.rc == 0 and not run.failed_hosts
    assert sum(1 for entry in cfemu.requests() if entry["status"] == 429) == 12


LB_FAULTS = {
    "5xx on pool writes": [{"method": "*", "path": "*/load_balancers/pools*", "status": 503, "count": 4}],
    "dropped pool writes": [{"method": "PUT", "path": "*/load_balancers/pools/*", "drop": True, "count": 2}],
}


@pytest.mark.parametrize("faults", LB_FAULTS.values(), ids=LB_FAULTS.keys())
def test_load_balancer_fleet_leaves_no_stale_or_duplicate_origins(cfemu, play, fleet_inventory, faults):
    inventory = fleet_inventory(HOSTS)
    before = comparable(cfemu.state())
    for fault in faults:
        cfemu.fault(**fault)

    run = play("fleet.yml", cfemu, inventory, extra_vars={"fleet_route_type": "lb"})
    if run.failed_hosts:
        run = play("fleet.yml", cfemu, inventory, extra_vars={"fleet_route_type": "lb"})

    assert run.rc == 0 and not run.failed_hosts, f"hosts still failing after one re-run: {run.failed_hosts}"
    assert_fleet_state(before, comparable(cfemu.state()), HOSTS, lb=True)
