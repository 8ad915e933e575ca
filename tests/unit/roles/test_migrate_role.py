"""Static checks of the migrate role: its variables, their documentation, and the playbook that runs it."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[3]
ROLE = ROOT / "roles" / "migrate"
PLAYBOOK = ROOT / "playbooks" / "migrate.yml"


def _load(path: Path):
    return yaml.safe_load(path.read_text())


SPECS = _load(ROLE / "meta" / "argument_specs.yml")["argument_specs"]
DEFAULTS = _load(ROLE / "defaults" / "main.yml")


def _included_task_files() -> list[str]:
    plays = _load(PLAYBOOK)
    return [
        task["ansible.builtin.include_role"]["tasks_from"]
        for play in plays
        for task in play.get("tasks", [])
        if "ansible.builtin.include_role" in task
    ]


@pytest.mark.parametrize("entry_point", sorted(SPECS))
def test_every_entry_point_documents_every_default(entry_point):
    assert sorted(SPECS[entry_point]["options"]) == sorted(DEFAULTS)


@pytest.mark.parametrize("name", sorted(DEFAULTS))
def test_argument_spec_default_matches_defaults_file(name):
    option = SPECS["main"]["options"][name]
    assert option.get("type") and option.get("description")
    if name == "migrate_tunnel_name":
        # A template over the inventory hostname; the description says what it gives.
        assert "default" not in option and "inventory hostname" in " ".join(option["description"])
        return
    assert option.get("default") == DEFAULTS[name]


def test_public_variables_are_prefixed_and_internal_ones_are_private():
    assert all(name.startswith("migrate_") for name in DEFAULTS)
    assert all(name.startswith("_migrate_") for name in _load(ROLE / "vars" / "main.yml"))


def test_the_playbook_calls_each_task_file_through_its_entry_point_in_order():
    assert _included_task_files() == ["discover.yml", "cutover.yml", "report.yml"]
    for task_file in _included_task_files():
        assert (ROLE / "tasks" / task_file).is_file()
        assert Path(task_file).stem in SPECS


def test_the_dns_overwrite_choices_are_the_ones_the_switch_understands():
    switch = (ROLE / "tasks" / "switch.yml").read_text()
    choices = SPECS["main"]["options"]["migrate_dns_overwrite"]["choices"]
    assert choices == ["legacy", "always", "never"]
    assert "migrate_dns_overwrite == 'always'" in switch and "migrate_dns_overwrite == 'legacy'" in switch
