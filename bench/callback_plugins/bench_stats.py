# Copyright (c) 2026 tunnelops.cloudflare contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Benchmark-only callback: records per-host task results and timings as JSON for bench/bench.py."""

from __future__ import annotations

import json
import os
import time

from ansible.plugins.callback import CallbackBase

DOCUMENTATION = r"""
name: bench_stats
type: aggregate
short_description: Write per-host task outcomes and timings to a JSON file (benchmarks only)
description:
  - Writes the file named by the E(BENCH_STATS_FILE) environment variable when the playbook ends.
  - Not part of the collection; used by C(bench/bench.py).
"""


class CallbackModule(CallbackBase):
    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = "aggregate"
    CALLBACK_NAME = "bench_stats"
    CALLBACK_NEEDS_ENABLED = True

    def __init__(self):
        super().__init__()
        self._started = {}
        self._last_item = {}
        self._tasks = []
        self._failed_hosts = set()
        self._messages = {}

    def _key(self, result):
        return (result._host.get_name(), result._task._uuid)

    def v2_runner_on_start(self, host, task):
        now = time.monotonic()
        self._started[(host.get_name(), task._uuid)] = now
        self._last_item[(host.get_name(), task._uuid)] = now

    def _finish(self, result, status):
        key = self._key(result)
        started = self._started.pop(key, None)
        self._last_item.pop(key, None)
        self._tasks.append(
            {
                "host": key[0],
                "task": result._task.get_name(),
                "status": status,
                "seconds": None if started is None else time.monotonic() - started,
            }
        )
        if status in ("failed", "unreachable"):
            self._failed_hosts.add(key[0])
            self._messages[key[0]] = str(result._result.get("msg", ""))[:500]

    def v2_runner_on_ok(self, result):
        self._finish(result, "changed" if result._result.get("changed") else "ok")

    def v2_runner_on_failed(self, result, ignore_errors=False):
        self._finish(result, "ignored" if ignore_errors else "failed")

    def v2_runner_on_skipped(self, result):
        self._finish(result, "skipped")

    def v2_runner_on_unreachable(self, result):
        self._finish(result, "unreachable")

    def v2_runner_item_on_ok(self, result):
        # Loop items run one after another in the same worker, so the gap between two item
        # results is the duration of one module run.
        key = self._key(result)
        now = time.monotonic()
        last = self._last_item.get(key, now)
        self._last_item[key] = now
        self._tasks.append({"host": key[0], "task": result._task.get_name(), "status": "item", "seconds": now - last})

    def v2_playbook_on_stats(self, stats):
        path = os.environ.get("BENCH_STATS_FILE")
        if not path:
            return
        with open(path, "w", encoding="utf-8") as handle:
            json.dump(
                {"tasks": self._tasks, "failed_hosts": sorted(self._failed_hosts), "messages": self._messages}, handle
            )
