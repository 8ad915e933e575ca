# Copyright (c) 2026 tunnelops.cloudflare contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Benchmarks of tunnelops.cloudflare against the API emulator.

Three benchmarks, each printing a short table and one line of key ratios:

- ``fleet``: the API side of a fleet rollout (bench/playbooks/fleet.yml) against the same job written with
  ansible.builtin.uri (bench/playbooks/fleet_uri.yml), for N hosts (BENCH_SIZES, default "50 200"), forks 20,
  emulator latency 40 ms: API requests from the emulator's log and wall time, first run and idempotent re-run,
  each from a reset emulator, and a check that both reach the same end state.
- ``overhead``: one cf_tunnel_info against one uri GET, BENCH_REPEAT (default 20) times each, median.
- ``ratelimit``: bench/playbooks/migrate_api.yml for BENCH_RATE_HOSTS (default 1000) hosts against the emulator's
  rate limit: Cloudflare's 1200 requests per 300 s scaled down in time to BENCH_RATE_BUDGET (default 1200) requests
  per BENCH_RATE_WINDOW (default 60) seconds, five times Cloudflare's sustained rate, so that the run takes minutes.

Usage: bench/run.sh [fleet] [overhead] [ratelimit]   (all three when none is named)
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
BENCH = REPO / "bench"
PLAYBOOKS = BENCH / "playbooks"
VENV_BIN = REPO / ".venv" / "bin"
sys.path.insert(0, str(REPO / "tests" / "emulator"))

from harness import Emulator

ACCOUNT_ID = "9a7806061c88ada191ed06f989cc3dac"
ZONE_ID = "023e105f4ecef8ad9ca31a8372d0c353"
ZONE = "example.com"
TOKEN = "cfemu-token-all-4f1c9a"
TUNNEL_SUFFIX = ".cfargotunnel.com"


def _link_collection() -> Path:
    # Same layout as tests/conftest.py: the collections path holds a symlink back to this checkout.
    collections = REPO / ".build" / "collections"
    link = collections / "ansible_collections" / "tunnelops" / "cloudflare"
    link.parent.mkdir(parents=True, exist_ok=True)
    if not link.exists():
        link.symlink_to(os.path.relpath(REPO, link.parent))
    return collections


def write_inventory(directory: Path, hosts: int) -> Path:
    path = directory / f"fleet-{hosts}.ini"
    names = "\n".join(f"host-{index:04d}" for index in range(1, hosts + 1))
    path.write_text(f"[fleet]\n{names}\n", encoding="utf-8")
    return path


def run_playbook(
    emulator: Emulator, playbook: str, inventory: Path | None, forks: int, extra_vars: dict, workdir: Path
) -> dict:
    """Run one playbook against the emulator; return wall time, rc, failed hosts and per-task timings."""
    stats_file = workdir / "stats.json"
    stats_file.unlink(missing_ok=True)
    env = dict(os.environ)
    env.update(
        {
            "PATH": f"{VENV_BIN}:{env.get('PATH', '')}",
            "ANSIBLE_CONFIG": str(REPO / "ansible.cfg"),
            "ANSIBLE_COLLECTIONS_PATH": str(_link_collection()),
            "ANSIBLE_CALLBACK_PLUGINS": str(BENCH / "callback_plugins"),
            "ANSIBLE_CALLBACKS_ENABLED": "bench_stats",
            "ANSIBLE_STDOUT_CALLBACK": "ansible.builtin.null",
            "ANSIBLE_HOST_KEY_CHECKING": "False",
            "ANSIBLE_LOCALHOST_WARNING": "False",
            "ANSIBLE_INVENTORY_UNPARSED_WARNING": "False",
            "BENCH_STATS_FILE": str(stats_file),
            "CLOUDFLARE_API_TOKEN": TOKEN,
            "CLOUDFLARE_ACCOUNT_ID": ACCOUNT_ID,
            "CLOUDFLARE_BASE_URL": emulator.base_url,
        }
    )
    command = [
        str(VENV_BIN / "ansible-playbook"),
        str(PLAYBOOKS / playbook),
        "--forks",
        str(forks),
        "-e",
        json.dumps(extra_vars),
    ]
    if inventory is not None:
        command += ["-i", str(inventory)]
    started = time.monotonic()
    proc = subprocess.run(command, env=env, capture_output=True, text=True, cwd=workdir, check=False)
    seconds = time.monotonic() - started
    stats = json.loads(stats_file.read_text(encoding="utf-8")) if stats_file.exists() else {}
    return {
        "seconds": seconds,
        "rc": proc.returncode,
        "stderr": proc.stderr[-2000:],
        "failed_hosts": stats.get("failed_hosts", ["<no stats>"]),
        "messages": stats.get("messages", {}),
        "tasks": stats.get("tasks", []),
    }


def api_log(emulator: Emulator) -> list[dict]:
    return emulator.requests()


def fleet_state(emulator: Emulator, prefix: str) -> dict:
    """End state of a fleet run in comparable form: tunnel names and CNAME name -> tunnel name."""
    state = emulator.state()
    tunnels = {t["id"]: t["name"] for t in state["tunnels"] if t["name"].startswith(prefix) and not t.get("deleted_at")}
    records = {}
    for record in state["dns_records"]:
        if record["type"] == "CNAME" and record["content"].endswith(TUNNEL_SUFFIX):
            target = record["content"][: -len(TUNNEL_SUFFIX)]
            records[record["name"]] = (tunnels.get(target, "<unknown tunnel>"), record.get("proxied"))
    return {"tunnels": sorted(tunnels.values()), "cnames": records}


def _fail(result: dict, what: str) -> None:
    if result["rc"] != 0 or result["failed_hosts"]:
        sample = dict(list(result["messages"].items())[:3])
        raise SystemExit(
            f"{what} failed (rc {result['rc']}, failed hosts {len(result['failed_hosts'])}): "
            f"{sample or result['stderr']}"
        )


def bench_fleet(sizes: list[int], forks: int, workdir: Path) -> list[tuple[str, float]]:
    print(f"\n== fleet rollout, API side: emulator latency 40 ms, forks {forks} ==")
    header = f"{'hosts':>5}  {'playbook':<10} {'run':<8} {'requests':>8} {'writes':>6} {'wall s':>7}"
    print(header)
    print("-" * len(header))
    ratios: list[tuple[str, float]] = []
    with Emulator(latency_ms=40) as emulator:
        for hosts in sizes:
            inventory = write_inventory(workdir, hosts)
            figures = {}
            states = {}
            for label, playbook in (("baseline", "fleet_uri.yml"), ("ours", "fleet.yml")):
                emulator.reset()
                prefix = f"bench-{label}-"
                before = len(api_log(emulator))
                for run in ("first", "re-run"):
                    result = run_playbook(emulator, playbook, inventory, forks, {"fleet_prefix": prefix}, workdir)
                    _fail(result, f"{playbook} {run} with {hosts} hosts")
                    log = api_log(emulator)[before:]
                    before += len(log)
                    writes = sum(1 for entry in log if entry["method"] != "GET")
                    figures[(label, run)] = (len(log), result["seconds"])
                    print(f"{hosts:>5}  {label:<10} {run:<8} {len(log):>8} {writes:>6} {result['seconds']:>7.1f}")
                state = fleet_state(emulator, prefix)
                cnames = state["cnames"].items()
                states[label] = {
                    "tunnels": [name[len(prefix) :] for name in state["tunnels"]],
                    "cnames": {name: (tunnel[len(prefix) :], proxied) for name, (tunnel, proxied) in cnames},
                }
            same = states["baseline"] == states["ours"] and len(states["ours"]["tunnels"]) == hosts
            if not same:
                raise SystemExit(f"end states differ for {hosts} hosts: {states}")
            print(f"{hosts:>5}  end state identical: {hosts} tunnels, {len(states['ours']['cnames'])} proxied CNAMEs")
            for run in ("first", "re-run"):
                req = figures[("ours", run)][0] / figures[("baseline", run)][0]
                wall = figures[("ours", run)][1] / figures[("baseline", run)][1]
                print(f"{hosts:>5}  ours/baseline {run:<8} requests {req:.2f}  wall {wall:.2f}")
                ratios += [(f"N={hosts} {run} requests", req), (f"N={hosts} {run} wall", wall)]
    return ratios


def bench_overhead(repeat: int, workdir: Path) -> list[tuple[str, float]]:
    print(f"\n== per-task overhead: {repeat} runs each, emulator latency 40 ms ==")
    with Emulator(latency_ms=40) as emulator:
        inventory = write_inventory(workdir, 1)
        result = run_playbook(emulator, "fleet.yml", inventory, 1, {"fleet_prefix": "overhead-"}, workdir)
        _fail(result, "overhead set-up")
        tunnel_id = next(t["id"] for t in emulator.state()["tunnels"] if t["name"].startswith("overhead-"))
        before = len(api_log(emulator))
        result = run_playbook(
            emulator, "overhead.yml", None, 1, {"overhead_tunnel_id": tunnel_id, "overhead_repeat": repeat}, workdir
        )
        _fail(result, "overhead playbook")
        log = api_log(emulator)[before:]
    items = {}
    for entry in result["tasks"]:
        if entry["status"] == "item":
            items.setdefault(entry["task"], []).append(entry["seconds"])
    info = next(s for task, s in items.items() if "cf_tunnel_info" in task)
    uri = next(s for task, s in items.items() if "uri" in task)
    paths = Counter(entry["path"].rsplit("/", 1)[-1] for entry in log)
    print(f"{'task':<22} {'runs':>4} {'median s':>9} {'min s':>6} {'max s':>6}")
    for label, values in (("cf_tunnel_info", info), ("ansible.builtin.uri GET", uri)):
        print(f"{label:<22} {len(values):>4} {statistics.median(values):>9.3f} {min(values):>6.3f} {max(values):>6.3f}")
    print(f"API requests during the two loops: {len(log)} ({dict(paths)})")
    ratio = statistics.median(info) / statistics.median(uri)
    print(f"cf_tunnel_info/uri median ratio {ratio:.2f}")
    return [("cf_tunnel_info/uri per task", ratio)]


def _same_request(one: dict, other: dict) -> bool:
    return (one["method"], one["path"], one["query"], one.get("body")) == (
        other["method"],
        other["path"],
        other["query"],
        other.get("body"),
    )


def bench_ratelimit(hosts: int, budget: int, window: int, forks: int, workdir: Path) -> list[tuple[str, float]]:
    print(
        f"\n== rate limit: {hosts} hosts, forks {forks}, limit {budget} requests per {window} s "
        f"(Cloudflare's 1200/300 s at {budget / window / 4:g}x its rate) =="
    )
    with Emulator(latency_ms=40, rate_limit=f"{budget}/{window}") as emulator:
        inventory = write_inventory(workdir, hosts)
        result = run_playbook(emulator, "migrate_api.yml", inventory, forks, {"fleet_prefix": "migrate-"}, workdir)
        log = api_log(emulator)
        state = fleet_state(emulator, "migrate-")
    limited = [entry for entry in log if entry["status"] == 429]
    served = [entry for entry in log if entry["status"] != 429]
    elapsed = result["seconds"]
    allowed = budget * elapsed / window
    # The busiest window shows the client stayed within the budget the emulator enforces.
    times = sorted(entry["time"] for entry in served)
    busiest, start = 0, 0
    for end, moment in enumerate(times):
        while moment - times[start] >= window:
            start += 1
        busiest = max(busiest, end - start + 1)
    waits = [entry["seconds"] for entry in result["tasks"] if entry["status"] in ("ok", "changed")]
    # A retried request repeats method, path, query and body: the gap after its 429 is how long the client
    # waited. Only requests that name one host are matched; a zone lookup looks the same from every host.
    retry_gaps = []
    for position, entry in enumerate(log):
        if entry["status"] == 429 and "host-" in json.dumps([entry["path"], entry["query"], entry.get("body")]):
            again = next((later for later in log[position + 1 :] if _same_request(later, entry)), None)
            if again is not None:
                retry_gaps.append(again["time"] - entry["time"])
    print(f"{'failed hosts':<36} {len(result['failed_hosts'])}")
    print(f"{'tunnels / proxied CNAMEs at the end':<36} {len(state['tunnels'])} / {len(state['cnames'])}")
    print(f"{'wall time s':<36} {elapsed:.1f}")
    print(f"{'API requests served (non-429)':<36} {len(served)}")
    print(f"{'429 answers':<36} {len(limited)}")
    print(f"{f'busiest {window}-s window, served':<36} {busiest} of {budget}")
    print(f"{'longest single task s':<36} {max(waits or [0]):.1f}")
    if retry_gaps:
        print(
            f"{'wait before retrying a 429, s':<36} "
            f"min {min(retry_gaps):.2f}, median {statistics.median(retry_gaps):.2f} ({len(retry_gaps)} retries)"
        )
    print(f"{'budget used (served / allowed)':<36} {len(served)} / {allowed:.0f} = {len(served) / allowed:.0%}")
    if result["failed_hosts"]:
        print(f"failures: {dict(list(result['messages'].items())[:3])}")
    return [
        ("rate-limit failed hosts", float(len(result["failed_hosts"]))),
        ("rate-limit 429s", float(len(limited))),
        ("rate-limit budget used", len(served) / allowed),
    ]


def main(argv: list[str]) -> int:
    wanted = argv or ["fleet", "overhead", "ratelimit"]
    sizes = [int(size) for size in os.environ.get("BENCH_SIZES", "50 200").replace(",", " ").split()]
    forks = int(os.environ.get("BENCH_FORKS", "20"))
    ratios: list[tuple[str, float]] = []
    with tempfile.TemporaryDirectory(prefix="tunnelops-bench-") as tmp:
        workdir = Path(tmp)
        if "fleet" in wanted:
            ratios += bench_fleet(sizes, forks, workdir)
        if "overhead" in wanted:
            ratios += bench_overhead(int(os.environ.get("BENCH_REPEAT", "20")), workdir)
        if "ratelimit" in wanted:
            ratios += bench_ratelimit(
                int(os.environ.get("BENCH_RATE_HOSTS", "1000")),
                int(os.environ.get("BENCH_RATE_BUDGET", "1200")),
                int(os.environ.get("BENCH_RATE_WINDOW", "60")),
                forks,
                workdir,
            )
    print("\nkey ratios: " + "; ".join(f"{name} {value:.2f}" for name, value in ratios))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
