"""Helpers of the reliability suite: secrets in use and the scan for them, the play recap, and readers of the
emulator state that say what a fleet run left behind."""

from __future__ import annotations

import base64
import json
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import requests

ACCOUNT_ID = "9a7806061c88ada191ed06f989cc3dac"
ZONE = "example.com"
ZONE_ID = "023e105f4ecef8ad9ca31a8372d0c353"
TOKEN_ALL = "cfemu-token-all-4f1c9a"
TUNNEL_SUFFIX = ".cfargotunnel.com"
PLAYBOOKS = Path(__file__).resolve().parent / "playbooks"
FLEET_PREFIX = "fleet-"
POOL = "fleet-pool"
LB_HOSTNAME = f"lb.{ZONE}"


@dataclass
class Run:
    """One ansible-playbook run: its result plus the per-host outcome read from the play recap."""

    rc: int
    output: str
    recap: dict
    seconds: float

    @property
    def failed_hosts(self) -> list[str]:
        return sorted(host for host, counts in self.recap.items() if counts["failed"] or counts["unreachable"])


def parse_recap(output: str) -> dict:
    recap = {}
    in_recap = False
    for line in output.splitlines():
        if line.startswith("PLAY RECAP"):
            in_recap = True
            continue
        if in_recap and ":" in line and "ok=" in line:
            host, _ignored, counts = line.partition(":")
            recap[host.strip()] = {k: int(v) for k, v in (pair.split("=") for pair in counts.split())}
    return recap


def secrets_in(emulator, tokens: tuple[str, ...]) -> set[str]:
    """Every secret a run could leak: the API tokens it used, each tunnel's secret and its tunnel token.

    The secrets are read from the emulator (state and the token endpoint), never from the run's output."""
    found = {t for t in tokens if t}
    state = emulator.state()
    for tunnel in state["tunnels"]:
        if tunnel.get("tunnel_secret"):
            found.add(tunnel["tunnel_secret"])
        if tunnel.get("deleted_at"):
            continue
        answer = requests.get(
            f"{emulator.base_url}/accounts/{ACCOUNT_ID}/cfd_tunnel/{tunnel['id']}/token",
            headers={"Authorization": f"Bearer {TOKEN_ALL}"},
            timeout=10,
        )
        if answer.ok:
            token = answer.json()["result"]
            found.add(token)
            # The secret also travels inside the token; catch its raw form as well as the base64 one.
            decoded = json.loads(base64.b64decode(token))
            found.add(decoded["s"])
    return found


def assert_no_secrets(output: str, secrets: set[str]) -> None:
    leaked = sorted(s for s in secrets if s in output)
    assert not leaked, f"{len(leaked)} secret(s) reached the output at -vvvv (first chars: {[s[:6] for s in leaked]})"


def comparable(state: dict) -> dict:
    """Emulator state without the clock, for before/after comparisons."""
    return {key: value for key, value in state.items() if key != "time"}


def fleet_view(state: dict, prefix: str = FLEET_PREFIX) -> dict:
    """What a fleet run left: live tunnels by name (with a count), tunnel CNAMEs by name, and other records."""
    live = [t for t in state["tunnels"] if t["name"].startswith(prefix) and not t.get("deleted_at")]
    names = Counter(t["name"] for t in live)
    ids = {t["id"]: t["name"] for t in live}
    cnames: dict[str, list] = {}
    for record in state["dns_records"]:
        if record["type"] == "CNAME" and record["content"].lower().endswith(TUNNEL_SUFFIX):
            target = ids.get(record["content"].lower()[: -len(TUNNEL_SUFFIX)], "<not a live fleet tunnel>")
            cnames.setdefault(record["name"], []).append((target, record["proxied"]))
    return {"tunnels": names, "ids": ids, "cnames": cnames}


def intended_fleet(hosts: int) -> dict:
    """The one correct outcome of the fleet playbook for ``hosts`` hosts."""
    names = [f"host-{index:02d}" for index in range(1, hosts + 1)]
    return {
        "tunnels": Counter(f"{FLEET_PREFIX}{name}" for name in names),
        "cnames": {f"{name}.{ZONE}": [(f"{FLEET_PREFIX}{name}", True)] for name in names},
    }


def assert_fleet_state(before: dict, after: dict, hosts: int, lb: bool = False) -> None:
    """The fleet's tunnels and routes exist exactly once each, and nothing else in the account changed."""
    view = fleet_view(after)
    intended = intended_fleet(hosts)
    assert view["tunnels"] == intended["tunnels"], "duplicate or missing tunnels"
    if lb:
        assert view["cnames"] == {}, "the load-balancer fleet must not create CNAMEs"
    else:
        assert view["cnames"] == intended["cnames"], "duplicate, missing or misdirected CNAMEs"

    seed_records = {r["id"]: r for r in before["dns_records"]}
    other = {r["id"]: r for r in after["dns_records"] if r["name"] not in intended["cnames"]}
    assert other == seed_records, "records outside the fleet changed, or orphan records were left"

    if lb:
        pools = [p for p in after["pools"] if p["name"] == POOL]
        assert len(pools) == 1, f"expected one pool {POOL}, found {len(pools)}"
        addresses = Counter(o["address"].lower() for o in pools[0]["origins"])
        wanted = Counter(f"{tunnel_id}{TUNNEL_SUFFIX}" for tunnel_id in view["ids"])
        assert addresses == wanted, "the pool has stale, duplicate or missing origins"
        balancers = [b for b in after["load_balancers"] if b["name"] == LB_HOSTNAME]
        assert len(balancers) == 1
        assert balancers[0]["default_pools"] == [pools[0]["id"]]
    else:
        assert after["pools"] == before["pools"]
        assert after["load_balancers"] == before["load_balancers"]
