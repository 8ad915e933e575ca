"""The cloudflared role's data templates, rendered with Ansible's own templating as the role renders them."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest
import yaml
from ansible.parsing.dataloader import DataLoader
from ansible.template import Templar, trust_as_template

ROLE = Path(__file__).resolve().parents[3] / "roles" / "cloudflared"
TUNNEL_ID = "8fb675e6-a2c2-4eeb-b1cd-9996682a4ad7"
ACCOUNT = "9a7806061c88ada191ed06f989cc3dac"
SECRET = base64.b64encode(bytes(range(32))).decode()


def render(template: str, variables: dict):
    source = (ROLE / "templates" / template).read_text()
    return json.loads(Templar(loader=DataLoader(), variables=variables).template(trust_as_template(source)))


def b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


def credentials_file(**overrides) -> str:
    data = {"AccountTag": ACCOUNT, "TunnelSecret": SECRET, "TunnelID": TUNNEL_ID, "Endpoint": ""} | overrides
    return json.dumps({key: value for key, value in data.items() if value is not None})


def token_file(**overrides) -> str:
    data = {"a": ACCOUNT, "t": TUNNEL_ID, "s": SECRET} | overrides
    return b64(json.dumps({key: value for key, value in data.items() if value is not None})) + "\n"


def secret_ids(text: str, config_src: str) -> dict:
    slurped = {"results": [{"content": b64(text), "item": {"item": {"name": "web", "config_src": config_src}}}]}
    return render("secret_ids.json.j2", {"_cloudflared_secret_files": slurped})


@pytest.mark.parametrize(
    ("text", "config_src"),
    [
        (credentials_file(), "local"),
        (credentials_file(TunnelName="web"), "local"),
        (token_file(), "cloudflare"),
    ],
    ids=["credentials", "credentials-with-old-tunnelname", "token"],
)
def test_usable_secret_file_names_its_tunnel(text, config_src):
    assert secret_ids(text, config_src) == {"web": TUNNEL_ID}


@pytest.mark.parametrize(
    ("text", "config_src"),
    [
        ("", "local"),
        ('{"AccountTag": "' + ACCOUNT, "local"),
        (credentials_file(TunnelSecret=None), "local"),
        (credentials_file(TunnelSecret="c2hvcnQ="), "local"),
        (credentials_file(AccountTag=None), "local"),
        (credentials_file(TunnelID="not-a-uuid"), "local"),
        ("not base64 at all!", "cloudflare"),
        (b64("{}"), "cloudflare"),
        (token_file(s=None), "cloudflare"),
    ],
    ids=[
        "empty",
        "truncated-json",
        "no-secret",
        "short-secret",
        "no-account",
        "bad-tunnel-id",
        "token-not-base64",
        "token-empty-json",
        "token-no-secret",
    ],
)
def test_damaged_secret_file_is_reported_unusable(text, config_src):
    assert secret_ids(text, config_src) == {"web": ""}


def test_no_files_read_gives_no_ids():
    assert render("secret_ids.json.j2", {"_cloudflared_secret_files": {"results": []}}) == {}


def role_variables(**overrides) -> dict:
    variables = yaml.safe_load((ROLE / "defaults" / "main.yml").read_text())
    return variables | overrides


TWO_TUNNELS = [
    {"name": "web", "ingress": [{"service": "http_status:404"}]},
    {"name": "admin", "config_src": "cloudflare", "ingress": [{"service": "http_status:404"}], "routes": "none"},
]


def test_normalised_tunnels_get_every_key_with_its_default():
    tunnels = render("tunnels.json.j2", role_variables(cloudflared_tunnels=TWO_TUNNELS))
    assert [t["name"] for t in tunnels] == ["web", "admin"]
    assert tunnels[0] | {"ingress": None, "options": None} == {
        "name": "web",
        "state": "present",
        "config_src": "local",
        "ingress": None,
        "origin_request": {},
        "warp_routing": None,
        "routes": "dns",
        "hostnames": None,
        "route_overwrite": False,
        "lb_pool": "",
        "lb_hostname": "",
        "lb_weight": None,
        "delete_tunnel": False,
        "metrics": "127.0.0.1:20241",
        "options": None,
    }
    assert tunnels[1]["config_src"] == "cloudflare"
    assert tunnels[1]["routes"] == "none"


def test_each_tunnel_gets_the_next_metrics_port_unless_it_sets_one():
    tunnels = [*TWO_TUNNELS, {"name": "ops", "metrics": "127.0.0.1:9100", "ingress": []}]
    variables = role_variables(cloudflared_tunnels=tunnels, cloudflared_metrics_base_port=30000)
    rendered = render("tunnels.json.j2", variables)
    assert [t["metrics"] for t in rendered] == ["127.0.0.1:30000", "127.0.0.1:30001", "127.0.0.1:9100"]
    assert [t["options"]["metrics"] for t in rendered] == ["127.0.0.1:30000", "127.0.0.1:30001", "127.0.0.1:9100"]


def test_tunnel_options_override_global_options_and_self_update_stays_off():
    tunnels = [{"name": "web", "ingress": [], "options": {"loglevel": "debug", "retries": 9}}]
    variables = role_variables(cloudflared_tunnels=tunnels, cloudflared_options={"retries": 3, "protocol": "quic"})
    options = render("tunnels.json.j2", variables)[0]["options"]
    assert options["loglevel"] == "debug"
    assert options["retries"] == 9
    assert options["no-autoupdate"] is True


def test_tunnel_origin_request_is_merged_over_the_hosts():
    tunnels = [{"name": "web", "ingress": [], "origin_request": {"noTLSVerify": True}}]
    variables = role_variables(cloudflared_tunnels=tunnels, cloudflared_origin_request={"connectTimeout": "10s"})
    assert render("tunnels.json.j2", variables)[0]["origin_request"] == {"connectTimeout": "10s", "noTLSVerify": True}
