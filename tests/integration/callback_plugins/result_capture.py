# Copyright (c) 2026 tunnelops maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Test helper callback: records every task result as JSON lines in $TUNNELOPS_RESULTS_FILE.

It runs beside the normal stdout callback, so the human output (which tests scan for secrets) is unchanged.
It sees results after Ansible's no_log censoring, like any callback.
"""

from __future__ import annotations

DOCUMENTATION = r"""
name: result_capture
type: notification
short_description: Record task results for the integration tests
description:
  - Appends one JSON line per task result to the file named by the environment variable E(TUNNELOPS_RESULTS_FILE).
options: {}
"""

import json
import os

from ansible.plugins.callback import CallbackBase


class CallbackModule(CallbackBase):
    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = "notification"
    CALLBACK_NAME = "result_capture"
    CALLBACK_NEEDS_ENABLED = False

    def _record(self, result, status):
        path = os.environ.get("TUNNELOPS_RESULTS_FILE")
        if not path:
            return
        entry = {
            "task": result.task_name,
            "host": result._host.get_name(),
            "status": status,
            "result": result._result,
        }
        with open(path, "a", encoding="utf-8") as handle:
            handle.write(json.dumps(entry, default=str) + "\n")

    def v2_runner_on_ok(self, result):
        self._record(result, "ok")

    def v2_runner_on_failed(self, result, ignore_errors=False):
        self._record(result, "failed")

    def v2_runner_on_skipped(self, result):
        self._record(result, "skipped")
