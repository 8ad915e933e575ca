"""Fixtures of the reliability suite: a fleet inventory and playbook runs at -vvvv that are always scanned for
secrets."""

from __future__ import annotations

import time

import pytest
from reliability_support import ACCOUNT_ID, PLAYBOOKS, TOKEN_ALL, Run, assert_no_secrets, parse_recap, secrets_in


@pytest.fixture
def fleet_inventory(tmp_path):
    def write(hosts: int) -> str:
        path = tmp_path / f"fleet-{hosts}.ini"
        names = "\n".join(f"host-{index:02d}" for index in range(1, hosts + 1))
        path.write_text(f"[fleet]\n{names}\n", encoding="utf-8")
        return str(path)

    return write


@pytest.fixture
def play(ansible_playbook):
    """Run a playbook of this suite at -vvvv against an emulator; scan the output for every secret in use.

    ``emulator`` gives the API; ``token`` the API token the run authenticates with. The scan happens after every
    run, so each scenario of the suite is also a secrets test."""

    def run(
        playbook: str,
        emulator,
        inventory: str | None = None,
        extra_vars: dict | None = None,
        token: str = TOKEN_ALL,
        forks: int = 5,
        timeout: int = 240,
    ) -> Run:
        env = {
            "CLOUDFLARE_API_TOKEN": token,
            "CLOUDFLARE_ACCOUNT_ID": ACCOUNT_ID,
            "CLOUDFLARE_BASE_URL": emulator.base_url,
        }
        started = time.monotonic()
        result = ansible_playbook(
            PLAYBOOKS / playbook,
            extra_vars=extra_vars,
            verbosity=4,
            env=env,
            inventory=inventory,
            extra_args=["--forks", str(forks)],
            timeout=timeout,
        )
        seconds = time.monotonic() - started
        assert_no_secrets(result.output, secrets_in(emulator, (token, TOKEN_ALL)))
        return Run(result.rc, result.output, parse_recap(result.output), seconds)

    return run
