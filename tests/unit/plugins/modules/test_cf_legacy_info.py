"""Specification of the cf_legacy_info module: options, check mode, and a real ansible-playbook run."""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from ansible_collections.tunnelops.cloudflare.plugins.modules import cf_legacy_info

REPO_ROOT = Path(__file__).resolve().parents[4]
FIXTURES = REPO_ROOT / "tests" / "unit" / "fixtures" / "legacy"
API_KEY_IN_FIXTURE = "cfsecret-apikey-5d1e77"

PLAYBOOK = """
- name: Discover legacy tunnels in a fixture tree
  hosts: localhost
  gather_facts: false
  tasks:
    - name: Discover legacy tunnels
      tunnelops.cloudflare.cf_legacy_info:
        root: "{{ fixture_root }}"
      register: found

    - name: Show what was found
      ansible.builtin.debug:
        var: found
"""


def _integration_runner():
    # The integration conftest holds the shared ansible-playbook runner; load it by path from this unit test.
    name = "tunnelops_integration_conftest"
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(name, REPO_ROOT / "tests" / "integration" / "conftest.py")
        sys.modules[name] = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(sys.modules[name])
    return sys.modules[name].run_playbook


@pytest.mark.parametrize("check_mode", [False, True], ids=["normal", "check"])
def test_module_reports_legacy_tunnel_without_change(run_module, check_mode):
    result = run_module(cf_legacy_info, {"root": str(FIXTURES / "lb_pool")}, check_mode=check_mode)

    assert (result["changed"], result["status"], result["plan_ok"]) == (False, "legacy", True)
    assert [(t["hostname"], t["service"], t["lb_pool"]) for t in result["legacy"]] == [
        ("lb.example.com", "http://localhost:8080", "web-pool")
    ]


def test_documentation_matches_the_argument_spec():
    options = yaml.safe_load(cf_legacy_info.DOCUMENTATION)["options"]

    documented = {name: (o["type"], o.get("elements"), o.get("default")) for name, o in options.items()}
    in_code = {
        name: (o["type"], o.get("elements"), o.get("default")) for name, o in cf_legacy_info.ARGUMENT_SPEC.items()
    }
    assert documented == in_code


def test_documented_return_keys_match_a_real_result(run_module):
    result = run_module(cf_legacy_info, {"root": str(FIXTURES / "template_instances")})
    documented = yaml.safe_load(cf_legacy_info.RETURN)

    assert set(documented) == set(result) - {"changed"}
    for key in ("legacy", "named"):
        assert set(documented[key]["contains"]) == set(result[key][0])
    assert set(documented["legacy"]["contains"]["retire"]["contains"]) == set(result["legacy"][0]["retire"])


def test_missing_root_fails_with_a_message(run_module, tmp_path):
    result = run_module(cf_legacy_info, {"root": str(tmp_path / "absent")})

    assert (result["failed"], result["msg"]) == (True, f"root {tmp_path / 'absent'} is not a directory")


@pytest.mark.parametrize(
    ("include_environment", "service"), [(False, "http://localhost:8000"), (True, "http://localhost:7000")]
)
def test_include_environment_applies_the_module_environment(run_module, monkeypatch, include_environment, service):
    monkeypatch.setenv("TUNNEL_URL", "http://localhost:7000")

    result = run_module(
        cf_legacy_info, {"root": str(FIXTURES / "config_only"), "include_environment": include_environment}
    )

    assert result["legacy"][0]["service"] == service


def test_config_paths_adds_a_config_file_outside_the_default_directories(run_module, tmp_path):
    config = tmp_path / "srv" / "tunnel.yml"
    config.parent.mkdir()
    config.write_text("hostname: extra.example.com\nurl: http://localhost:6000\n")

    result = run_module(cf_legacy_info, {"root": str(tmp_path), "config_paths": ["/srv/tunnel.yml"]})

    assert [(t["config_file"], t["hostname"]) for t in result["legacy"]] == [("/srv/tunnel.yml", "extra.example.com")]


def _bare_python(directory):
    """A Python with the standard library only, like a managed host without python3-yaml."""
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(directory)], check=True)
    python = directory / "bin" / "python"
    probe = subprocess.run([str(python), "-c", "import yaml"], capture_output=True, check=False)
    assert probe.returncode != 0, "the bare interpreter unexpectedly has PyYAML"
    return python


@pytest.mark.parametrize(
    ("check", "bare", "parser"),
    [(False, False, "pyyaml"), (True, False, "pyyaml"), (False, True, "builtin")],
    ids=["normal", "check", "host-without-pyyaml"],
)
def test_module_runs_through_ansible_playbook_and_keeps_host_secrets_out(tmp_path, check, bare, parser):
    playbook = tmp_path / "discover.yml"
    playbook.write_text(PLAYBOOK)
    extra_vars = {"fixture_root": str(FIXTURES / "unknown_flags")}
    if bare:
        extra_vars["ansible_python_interpreter"] = str(_bare_python(tmp_path / "bare"))

    result = _integration_runner()(playbook, extra_vars=extra_vars, check=check, verbosity=4)

    assert result.rc == 0, result.output
    found = result.task_result("Discover legacy tunnels")
    assert (found["changed"], found["status"], found["plan_ok"], found["yaml_parser"]) == (
        False,
        "legacy",
        False,
        parser,
    )
    assert "cloudflared.service: unknown flag --frobnicate" in found["problems"]
    assert found["legacy"][0]["ingress"] == [
        {"hostname": "odd.example.com", "service": "http://localhost:8000"},
        {"service": "http_status:404"},
    ]
    assert API_KEY_IN_FIXTURE not in result.output
    assert API_KEY_IN_FIXTURE not in json.dumps(result.results)
