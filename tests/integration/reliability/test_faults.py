"""A fleet run survives API faults: after the run and at most one re-run the account holds exactly the intended
tunnels and routes, nothing twice and nothing left over. Every run is scanned for secrets at -vvvv."""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest
import requests
from reliability_support import assert_fleet_state, comparable

HOSTS = 10
ANY = "*"


@dataclass
class Case:
    faults: list  # keyword arguments of Emulator.fault, injected before the first run
    extra_vars: dict = field(default_factory=dict)
    rerun_allowed: bool = True  # False: the faults must be absorbed by retries, no host may fail


CASES = {
    # A 429 means nothing was done, so every method is retried after Retry-After: no host may fail.
    "429 burst with Retry-After 1": Case(
        [{"method": "*", "path": ANY, "status": 429, "retry_after": 1, "count": 12}], rerun_allowed=False
    ),
    "5xx burst on reads and writes": Case(
        [
            {"method": "GET", "path": ANY, "status": 502, "count": 6},
            {"method": "POST", "path": ANY, "status": 500, "count": 3},
        ]
    ),
    "dropped connections": Case([{"method": "*", "path": ANY, "drop": True, "count": 6}]),
    # The emulator carries out a slow request after the client has given up: a create may have happened unseen.
    "slow answers past the timeout": Case(
        [
            {"method": "GET", "path": ANY, "delay_ms": 3000, "count": 3},
            {"method": "POST", "path": "*/cfd_tunnel", "delay_ms": 3000, "count": 2},
            {"method": "POST", "path": "*/dns_records*", "delay_ms": 3000, "count": 2},
        ],
        {"fleet_request_timeout": 1},
    ),
    "load balancer: 5xx and dropped pool writes": Case(
        [
            {"method": "*", "path": "*/load_balancers/pools*", "status": 503, "count": 3},
            {"method": "PATCH", "path": "*/load_balancers/pools/*", "drop": True, "count": 2},
        ],
        {"fleet_route_type": "lb"},
    ),
}


@pytest.mark.parametrize("case", CASES.values(), ids=CASES.keys())
def test_fleet_run_reaches_exactly_the_intended_state_despite_faults(cfemu, play, fleet_inventory, case):
    inventory = fleet_inventory(HOSTS)
    before = comparable(cfemu.state())
    for fault in case.faults:
        cfemu.fault(**fault)

    runs = [play("fleet.yml", cfemu, inventory, extra_vars=case.extra_vars)]
    if runs[0].failed_hosts and case.rerun_allowed:
        runs.append(play("fleet.yml", cfemu, inventory, extra_vars=case.extra_vars))

    log = cfemu.requests()
    assert requests.get(f"{cfemu.control_url}/faults", timeout=10).json() == [], "not every injected fault was hit"
    assert runs[-1].rc == 0 and not runs[-1].failed_hosts, f"hosts still failing: {runs[-1].failed_hosts}"
    assert_fleet_state(before, comparable(cfemu.state()), HOSTS, lb=case.extra_vars.get("fleet_route_type") == "lb")
    print(
        f"FIGURES runs={len(runs)} failed_first={len(runs[0].failed_hosts)} requests={len(log)} "
        f"seconds={sum(run.seconds for run in runs):.1f}"
    )
