"""Helpers for integration tests that drive the real ansible-playbook.

Fixture ``ansible_playbook`` returns ``run_playbook`` (and ``ansible_env`` returns ``playbook_env(extra=None)``, the
environment for other ansible-* commands):

    result = ansible_playbook("tests/integration/playbooks/x.yml", extra_vars={...}, check=False, diff=False,
                              verbosity=0, env={...}, inventory=None, timeout=300)
    result.rc, result.stdout, result.stderr, result.output (stdout + stderr)
    result.results                 -> every task result, in order: {task, host, status, result}
    result.task_results("Task name") -> the result dicts of the tasks with that name

Results come from the test callback tests/integration/callback_plugins/result_capture.py, which runs beside the
normal stdout callback and sees results after no_log censoring; stdout stays what a user sees.

``extra_vars`` are written to a temporary JSON file passed with ``-e @file`` so that secrets never appear on a
command line. The collection is found through ``.build/collections`` (see tests/conftest.py).
"""

from __future__ import annotations

import json
import os
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
VENV_BIN = REPO_ROOT / ".venv" / "bin"
COLLECTIONS_PATH = REPO_ROOT / ".build" / "collections"
PLAYBOOK_DIR = Path(__file__).resolve().parent / "playbooks"


@dataclass
class PlaybookResult:
    rc: int
    stdout: str
    stderr: str
    args: list = field(default_factory=list)
    results: list = field(default_factory=list)

    @property
    def output(self) -> str:
        return self.stdout + self.stderr

    def task_results(self, task_name: str) -> list:
        """Result dicts of every task with this name (one per host and loop), in order."""
        return [entry["result"] for entry in self.results if entry["task"] == task_name]

    def task_result(self, task_name: str) -> dict:
        """The single result of the task with this name; fails the test when there is not exactly one."""
        found = self.task_results(task_name)
        if len(found) != 1:
            raise AssertionError(f"expected one result for task {task_name!r}, found {len(found)}:\n{self.output}")
        return found[0]


def playbook_env(extra: dict | None = None) -> dict:
    """Environment for ansible-playbook: this checkout's collections, the venv first on PATH, no stray config."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ANSIBLE_", "CLOUDFLARE_"))}
    env.update(
        {
            "PATH": f"{VENV_BIN}{os.pathsep}{os.environ.get('PATH', '')}",
            "ANSIBLE_CONFIG": str(REPO_ROOT / "ansible.cfg"),
            "ANSIBLE_COLLECTIONS_PATH": str(COLLECTIONS_PATH),
            "ANSIBLE_ROLES_PATH": str(REPO_ROOT / "roles"),
            "ANSIBLE_NOCOLOR": "1",
            "ANSIBLE_FORCE_COLOR": "0",
            "ANSIBLE_RETRY_FILES_ENABLED": "0",
            "ANSIBLE_LOCALHOST_WARNING": "0",
            "ANSIBLE_INVENTORY_UNPARSED_WARNING": "0",
            "ANSIBLE_PYTHON_INTERPRETER": str(VENV_BIN / "python"),
            "PYTHONDONTWRITEBYTECODE": "1",
        }
    )
    env.update(extra or {})
    return env


def run_playbook(
    playbook,
    extra_vars: dict | None = None,
    check: bool = False,
    diff: bool = False,
    verbosity: int = 0,
    env: dict | None = None,
    inventory: str | None = None,
    extra_args: list | None = None,
    timeout: int = 300,
) -> PlaybookResult:
    playbook = Path(playbook)
    if not playbook.is_absolute():
        playbook = (PLAYBOOK_DIR / playbook) if (PLAYBOOK_DIR / playbook).exists() else (REPO_ROOT / playbook)
    run_env = playbook_env(env)
    run_env["ANSIBLE_CALLBACK_PLUGINS"] = str(Path(__file__).resolve().parent / "callback_plugins")
    with tempfile.TemporaryDirectory(prefix="tunnelops-play-") as tmp:
        args = [str(VENV_BIN / "ansible-playbook"), str(playbook)]
        args += ["-i", inventory] if inventory else ["-i", "localhost,", "-c", "local"]
        if extra_vars:
            vars_file = Path(tmp) / "extra_vars.json"
            vars_file.write_text(json.dumps(extra_vars))
            args += ["-e", f"@{vars_file}"]
        if check:
            args.append("--check")
        if diff:
            args.append("--diff")
        if verbosity:
            args.append("-" + "v" * verbosity)
        args += extra_args or []
        run_env.setdefault("ANSIBLE_LOCAL_TEMP", str(Path(tmp) / "local"))
        results_file = Path(tmp) / "results.jsonl"
        run_env["TUNNELOPS_RESULTS_FILE"] = str(results_file)
        proc = subprocess.run(
            args, cwd=REPO_ROOT, env=run_env, capture_output=True, text=True, timeout=timeout, check=False
        )
        lines = results_file.read_text().splitlines() if results_file.exists() else []
    return PlaybookResult(proc.returncode, proc.stdout, proc.stderr, args, [json.loads(line) for line in lines])


@pytest.fixture
def ansible_playbook():
    return run_playbook


@pytest.fixture
def ansible_env():
    """playbook_env(): the environment ansible-playbook runs with, for other ansible-* commands."""
    return playbook_env
