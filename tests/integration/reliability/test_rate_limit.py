"""A fleet whose workers share a saturated rate limit finishes without a failed host: every 429 is answered by
waiting at least as long as Retry-After says and trying again, and 429s do not use up a request's attempts.

When a 429 still counted as one of a request's five attempts, this test failed with 4 of its 8 hosts."""

from __future__ import annotations

import json

from reliability_support import assert_fleet_state, comparable

HOSTS = 8
# Two requests a second for eight workers: most requests of the run are answered 429 at least once, and some of
# them several times in a row, which is what used up the five attempts of a request before 429s were queued.
RATE_LIMIT = "2/1"
# The emulator announces Retry-After in whole seconds, at least 1.
LEAST_RETRY_AFTER = 1.0


def request_key(entry: dict) -> tuple:
    return entry["method"], entry["path"], json.dumps(entry["query"]), json.dumps(entry.get("body"))


def retry_gaps(log: list[dict]) -> list[float]:
    """Seconds between each 429 and the next identical request, which is its retry.

    Only requests that name one host are matched: each host's requests are made one after another, so the next
    identical one is the retry. A zone lookup looks the same from every host."""
    gaps = []
    for position, entry in enumerate(log):
        if entry["status"] != 429 or "host-" not in json.dumps([entry["path"], entry["query"], entry.get("body")]):
            continue
        again = next((later for later in log[position + 1 :] if request_key(later) == request_key(entry)), None)
        if again is not None:
            gaps.append(again["time"] - entry["time"])
    return gaps


def test_fleet_sharing_a_saturated_rate_limit_finishes_without_failed_hosts(cfemu_factory, play, fleet_inventory):
    emulator = cfemu_factory(rate_limit=RATE_LIMIT)
    before = comparable(emulator.state())

    run = play("fleet.yml", emulator, fleet_inventory(HOSTS), forks=HOSTS)

    log = emulator.requests()
    limited = sum(1 for entry in log if entry["status"] == 429)
    gaps = retry_gaps(log)
    assert limited > 0, "the limit was never reached"
    assert not run.failed_hosts, f"hosts failed under the rate limit: {run.failed_hosts}"
    assert gaps, "no retry of a rate-limited request was seen"
    assert min(gaps) >= LEAST_RETRY_AFTER, f"a request was retried {min(gaps):.2f} s after its 429"
    assert_fleet_state(before, comparable(emulator.state()), HOSTS)
    print(f"FIGURES requests={len(log)} limited={limited} least_wait={min(gaps):.2f} seconds={run.seconds:.1f}")
