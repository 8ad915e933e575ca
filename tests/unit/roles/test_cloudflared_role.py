"""Static checks of the cloudflared role: its variables, their documentation and its templates."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

ROLE = Path(__file__).resolve().parents[3] / "roles" / "cloudflared"


def _load(relative: str):
    return yaml.safe_load((ROLE / relative).read_text())


def _spec_options() -> dict:
    return _load("meta/argument_specs.yml")["argument_specs"]["main"]["options"]


def _defaults() -> dict:
    return _load("defaults/main.yml")


def test_every_default_is_documented_in_argument_specs():
    assert sorted(_defaults()) == sorted(_spec_options())


@pytest.mark.parametrize("name", sorted(_load("defaults/main.yml")))
def test_argument_spec_default_matches_defaults_file(name):
    option = _spec_options()[name]
    if name == "cloudflared_binary_url":
        # The real default is a template over the version and architecture; the spec shows its shape.
        assert "VERSION" in option["default"] and "ARCH" in option["default"]
        return
    assert option.get("default") == _defaults()[name]


@pytest.mark.parametrize("name", sorted(_load("meta/argument_specs.yml")["argument_specs"]["main"]["options"]))
def test_every_option_has_a_type_and_description(name):
    option = _spec_options()[name]
    assert option.get("type") and option.get("description")


def test_every_tunnel_option_has_a_type_and_description():
    tunnel_options = _spec_options()["cloudflared_tunnels"]["options"]
    assert tunnel_options
    for name, option in tunnel_options.items():
        assert option.get("type") and option.get("description"), name


def test_public_variables_are_prefixed_and_internal_ones_are_private():
    assert all(name.startswith("cloudflared_") for name in _defaults())
    assert all(name.startswith("_cloudflared_") for name in _load("vars/main.yml"))


def test_secret_options_are_marked_no_log():
    options = _spec_options()
    assert options["cloudflared_api_token"]["no_log"] is True
    assert options["cloudflared_api_key"]["no_log"] is True


@pytest.mark.parametrize(
    "directive",
    [
        "NoNewPrivileges=true",
        "ProtectSystem=strict",
        "ProtectHome=true",
        "PrivateTmp=true",
        "CapabilityBoundingSet=",
        "AmbientCapabilities=",
        "Type=notify",
        "Restart=on-failure",
        "MemoryDenyWriteExecute=true",
    ],
)
def test_unit_template_is_hardened(directive):
    unit = (ROLE / "templates" / "cloudflared@.service.j2").read_text()
    assert re.search(rf"^{re.escape(directive)}$", unit, re.MULTILINE)


def test_unit_never_puts_a_token_on_the_command_line():
    unit = (ROLE / "templates" / "cloudflared@.service.j2").read_text()
    exec_start = next(line for line in unit.splitlines() if line.startswith("ExecStart="))
    assert "--token " not in exec_start and "--token-file" not in exec_start


def _tasks(path: Path) -> list[dict]:
    found = []
    for task in yaml.safe_load(path.read_text()) or []:
        found.append(task)
        for key in ("block", "rescue", "always"):
            found.extend(task.get(key, []))
    return found


TASK_FILES = sorted(p.name for p in (ROLE / "tasks").glob("*.yml"))


@pytest.mark.parametrize("task_file", TASK_FILES)
def test_tasks_that_handle_secrets_are_no_log(task_file):
    for task in _tasks(ROLE / "tasks" / task_file):
        module_args = task.get("tunnelops.cloudflare.cf_tunnel") or {}
        if any(module_args.get(key) for key in ("return_credentials", "return_token")) or "slurp" in str(task):
            assert task.get("no_log") is True, task.get("name")
        if "ansible.builtin.copy" in task and "content" in task["ansible.builtin.copy"]:
            assert task.get("no_log") is True, task.get("name")


@pytest.mark.parametrize("task_file", TASK_FILES)
def test_tasks_are_named_with_a_capital_letter(task_file):
    for task in _tasks(ROLE / "tasks" / task_file):
        assert task.get("name", "")[:1].isupper(), task
