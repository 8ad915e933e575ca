# Copyright (c) 2026, tunnelops maintainers
# SPDX-License-Identifier: GPL-3.0-or-later
"""Specification of the ingress filters, called directly and through a real ansible-playbook run."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from ansible.errors import AnsibleFilterError
from ansible_collections.tunnelops.cloudflare.plugins.filter.ingress import FilterModule

REPO = Path(__file__).resolve().parents[4]
FILTERS = FilterModule().filters()
RULES = [
    {"hostname": "app.example.com", "service": "http://127.0.0.1:8080", "originRequest": {"connectTimeout": "90s"}},
    {"hostname": "*.example.com", "service": "https://127.0.0.1:8443"},
    {"service": "http_status:404"},
]
TUNNEL_ID = "6ff42ae2-765d-4adf-8112-31c55c1551ef"


def test_every_filter_has_a_documentation_sidecar():
    for name in FILTERS:
        doc = yaml.safe_load((REPO / "plugins" / "filter" / f"{name}.yml").read_text())
        assert doc["DOCUMENTATION"]["name"] == name
        assert {"EXAMPLES", "RETURN"} <= set(doc)


def test_cf_ingress_validate_returns_normalised_rules():
    assert FILTERS["cf_ingress_validate"](RULES)[0]["originRequest"] == {"connectTimeout": 90}


@pytest.mark.parametrize(
    ("name", "args", "message"),
    [
        (
            "cf_ingress_validate",
            (RULES[:1],),
            "cf_ingress_validate: Rule #1: The last ingress rule must match all URLs",
        ),
        ("cf_ingress_validate", (RULES, {"bogus": 1}), "cf_ingress_validate: originRequest has an unknown key 'bogus'"),
        ("cf_local_config", (RULES, TUNNEL_ID, "/c.json", None, {"url": "x"}), "cf_local_config: option url belongs"),
        ("cf_remote_config", ([{"service": "x"}],), "cf_remote_config: Rule #1: x is an invalid address"),
        ("cf_origin_request_yaml", ({"tlsTimeout": "soon"},), "cf_origin_request_yaml: originRequest.tlsTimeout"),
        ("cf_origin_request_api", ({"noTLSVerify": 3},), "cf_origin_request_api: originRequest.noTLSVerify must be"),
        ("cf_ingress_hostnames", ([{"hostname": "a:1"}],), "cf_ingress_hostnames: Hostname cannot contain a port"),
        ("cf_global_options", ({"hostname": "a.example.com"},), "cf_global_options: option hostname belongs to legacy"),
    ],
)
def test_filters_fail_with_the_ingress_message(name, args, message):
    with pytest.raises(AnsibleFilterError) as caught:
        FILTERS[name](*args)

    assert str(caught.value).startswith(message)


def test_cf_local_config_builds_config_yml():
    config = FILTERS["cf_local_config"](
        RULES, TUNNEL_ID, f"/etc/cloudflared/{TUNNEL_ID}.json", options={"loglevel": "info"}
    )

    assert config["tunnel"] == TUNNEL_ID
    assert config["loglevel"] == "info"
    assert config["ingress"][0]["originRequest"] == {"connectTimeout": "1m30s"}


def test_cf_remote_config_uses_seconds():
    assert FILTERS["cf_remote_config"](RULES, {"tlsTimeout": "1m"}, True)["originRequest"] == {"tlsTimeout": 60}


def test_origin_request_filters_convert_durations_both_ways():
    assert FILTERS["cf_origin_request_yaml"]({"keepAliveTimeout": 90}) == {"keepAliveTimeout": "1m30s"}
    assert FILTERS["cf_origin_request_api"]({"keepAliveTimeout": "1m30s"}) == {"keepAliveTimeout": 90}


def test_cf_ingress_hostnames_lists_routable_names():
    assert FILTERS["cf_ingress_hostnames"](RULES) == ["app.example.com"]
    assert FILTERS["cf_ingress_hostnames"](RULES, include_wildcards=True) == ["app.example.com", "*.example.com"]


PLAYBOOK = """
- name: Use the ingress filters
  hosts: localhost
  gather_facts: false
  vars:
    rules: {rules}
  tasks:
    - name: Render config.yml
      ansible.builtin.copy:
        content: "{{{{ rules | tunnelops.cloudflare.cf_local_config('{tunnel}', '/etc/cloudflared/{tunnel}.json',
          options={{'no_autoupdate': true}}) | ansible.builtin.to_nice_yaml }}}}"
        dest: "{out}/config.yml"
        mode: "0600"
    - name: Validate broken rules
      ansible.builtin.debug:
        msg: "{{{{ rules[:1] | tunnelops.cloudflare.cf_ingress_validate }}}}"
"""


@pytest.fixture
def playbook_env():
    env = dict(os.environ)
    env.update(
        ANSIBLE_COLLECTIONS_PATH=str(REPO / ".build" / "collections"),
        ANSIBLE_CONFIG=str(REPO / "ansible.cfg"),
        PATH=f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}",
        ANSIBLE_NOCOLOR="1",
    )
    return env


def test_filters_work_in_a_real_playbook(tmp_path, playbook_env):
    playbook = tmp_path / "play.yml"
    playbook.write_text(PLAYBOOK.format(rules=json.dumps(RULES), tunnel=TUNNEL_ID, out=tmp_path))

    run = subprocess.run(
        [
            str(Path(sys.executable).parent / "ansible-playbook"),
            *("-i", "localhost,", "-c", "local", "-e", f"ansible_python_interpreter={sys.executable}"),
            str(playbook),
        ],
        env=playbook_env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )

    written = yaml.safe_load((tmp_path / "config.yml").read_text())
    assert written["ingress"][0]["originRequest"] == {"connectTimeout": "1m30s"}
    assert written["no-autoupdate"] is True
    assert run.returncode == 2
    assert "cf_ingress_validate: Rule #1: The last ingress rule must match all URLs" in run.stdout


def test_cf_global_options_gives_flag_names_and_go_durations():
    options = {"edge_ip_version": "6", "grace_period": 45, "loglevel": None}

    assert FILTERS["cf_global_options"](options) == {"edge-ip-version": "6", "grace-period": "45s"}
