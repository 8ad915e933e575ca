"""cf_tunnel and cf_tunnel_info through the real ansible-playbook, against the Cloudflare API emulator.

Every run happens at -vvvv and its whole output is scanned for the API tokens, the tunnel secrets and the tunnel
tokens involved: none may appear. Request counts and writes are read from the emulator's request log.
"""

from __future__ import annotations

import base64
import json
import subprocess
import threading
import time
from pathlib import Path

import pytest
from harness import ACCOUNT_ID, SECRETS, TOKEN_READONLY

REPO_ROOT = Path(__file__).resolve().parents[2]

TUNNELS = f"/accounts/{ACCOUNT_ID}/cfd_tunnel"
GIVEN_SECRET = base64.b64encode(bytes(range(100, 132))).decode()
OTHER_SECRET = base64.b64encode(bytes(range(150, 182))).decode()


class Runner:
    """Runs the test playbooks at -vvvv and checks every run's output for every secret seen so far."""

    def __init__(self, emulator, secrets_dir: Path, run_playbook):
        self.emu = emulator
        self.run_playbook = run_playbook
        self.dir = secrets_dir
        self.secrets = set(SECRETS) | {GIVEN_SECRET, OTHER_SECRET}

    def run(self, playbook: str, token: str | None = None, check: bool = False, inventory=None, **extra_vars):
        self.emu.clear_requests()
        for leftover in self.dir.iterdir():
            leftover.unlink()
        env = self.emu.env(token) if token else self.emu.env()
        extra_vars.setdefault("secrets_dir", str(self.dir))
        result = self.run_playbook(
            playbook,
            extra_vars=extra_vars,
            env=env,
            check=check,
            diff=True,
            verbosity=4,
            inventory=inventory,
            extra_args=["--forks", "4"],
        )
        result.requests = self.emu.requests()
        result.writes = [r for r in result.requests if r["method"] != "GET"]
        result.api_requests_to_connections = [r for r in result.requests if r["path"].endswith("/connections")]
        result.saved = self.saved()
        self.learn_secrets(result.saved)
        leaked = sorted(s for s in self.secrets if s in result.output)
        assert leaked == [], f"secrets in the output of {playbook}"
        return result

    def tunnel(self, check: bool = False, token: str | None = None, **options):
        return self.run("cf_tunnel_run.yml", token=token, check=check, **options)

    def info(self, check: bool = False, **options):
        return self.run("cf_tunnel_info_run.yml", check=check, **options)

    def saved(self) -> dict:
        saved = {}
        for name in ("credentials.json", "result.json", "token"):
            path = self.dir / name
            if path.exists():
                text = path.read_text()
                saved[name] = text if name == "token" else json.loads(text)
        return saved

    def learn_secrets(self, saved: dict):
        if "credentials.json" in saved:
            self.secrets.add(saved["credentials.json"]["TunnelSecret"])
        if "token" in saved:
            self.secrets.add(saved["token"])
            self.secrets.add(json.loads(base64.b64decode(saved["token"]))["s"])


@pytest.fixture
def runner(cfemu, tmp_path, ansible_playbook):
    secrets_dir = tmp_path / "out"
    secrets_dir.mkdir()
    return Runner(cfemu, secrets_dir, ansible_playbook)


def live_tunnels(emu, name: str) -> list:
    status, envelope, _headers = emu.api("GET", TUNNELS, query={"name": name, "is_deleted": "false"})
    assert status == 200
    return envelope["result"]


def create_directly(emu, name: str, config_src: str = "local") -> str:
    status, envelope, _headers = emu.api(
        "POST", TUNNELS, body={"name": name, "tunnel_secret": OTHER_SECRET, "config_src": config_src}
    )
    assert status == 200
    emu.clear_requests()
    return envelope["result"]["id"]


def module_result(result, task: str = "Run cf_tunnel") -> dict:
    return result.task_result(task)


# Failures first


def test_a_bad_token_fails_with_cloudflares_answer(runner):
    result = runner.tunnel(token="cfemu-token-wrong-000000", tunnel_name="web-bad")

    assert result.rc == 2
    msg = module_result(result)["msg"]
    assert msg.startswith("Failed to look up tunnel 'web-bad': Cloudflare answered HTTP 403, code 10000")
    assert "Cloudflare does not accept the API token" in msg
    assert [r["path"] for r in result.requests] == [TUNNELS, "/user/tokens/verify"]


def test_a_read_only_token_cannot_create_and_says_which_permission_is_missing(runner):
    result = runner.tunnel(token=TOKEN_READONLY, tunnel_name="web-ro")

    assert result.rc == 2
    msg = module_result(result)["msg"]
    assert msg.startswith("Failed to create tunnel 'web-ro': Cloudflare answered HTTP 403, code 10000")
    assert "The API token lacks a permission: this needs 'Cloudflare Tunnel Write' (account)" in msg
    assert [r["status"] for r in result.writes] == [403]
    assert live_tunnels(runner.emu, "web-ro") == []


def test_a_uuid_as_name_is_refused_before_any_request(runner):
    result = runner.tunnel(tunnel_name="6ff42ae2-765d-4adf-8112-31c55c1551ef")

    assert result.rc == 2
    assert "you cannot use UUIDs as tunnel names" in module_result(result)["msg"]
    assert result.requests == []


def test_deleting_a_tunnel_with_connected_connectors_fails_naming_them(runner):
    tunnel_id = create_directly(runner.emu, "web-busy")
    connector = runner.emu.add_connector(tunnel_id, origin_ip="192.0.2.44")

    result = runner.tunnel(tunnel_name="web-busy", tunnel_state="absent")

    assert result.rc == 2
    msg = module_result(result)["msg"]
    assert f"still has 1 connected connector(s): {connector} (192.0.2.44, 1xAMS, 1xFRA)" in msg
    assert result.writes == []
    assert len(live_tunnels(runner.emu, "web-busy")) == 1


def test_invalid_ingress_is_refused_before_any_request(runner):
    rules = [{"service": "http_status:404"}, {"hostname": "app.example.com", "service": "http://localhost:80"}]

    result = runner.tunnel(tunnel_name="web-bad-ingress", config_src="cloudflare", ingress=rules)

    assert result.rc == 2
    assert "Invalid ingress for tunnel 'web-bad-ingress'" in module_result(result)["msg"]
    assert result.requests == []


def test_config_src_mismatch_with_an_existing_tunnel_fails(runner):
    create_directly(runner.emu, "web-remote", config_src="cloudflare")

    result = runner.tunnel(tunnel_name="web-remote")

    assert result.rc == 2
    assert "has config_src=cloudflare, the task asks for config_src=local" in module_result(result)["msg"]
    assert result.writes == []


# Lifecycle: check -> real -> idempotent -> rotate -> absent


def test_create_check_mode_predicts_without_writing(runner):
    result = runner.tunnel(check=True, tunnel_name="web-life")

    assert result.rc == 0
    saved = result.saved["result.json"]
    assert saved["changed"] is True
    assert (saved["tunnel"]["name"], saved["tunnel"]["id"]) == ("web-life", None)
    assert saved["diff"]["before"] == {"name": "web-life", "state": "absent"}
    assert result.writes == []
    assert live_tunnels(runner.emu, "web-life") == []


def test_lifecycle_create_idempotent_rotate_delete(runner):
    created = runner.tunnel(tunnel_name="web-life", tunnel_secret=GIVEN_SECRET, return_credentials=True)
    assert created.rc == 0
    tunnel = created.saved["result.json"]["tunnel"]
    assert created.saved["result.json"]["changed"] is True
    assert [(r["method"], r["path"]) for r in created.requests] == [("GET", TUNNELS), ("POST", TUNNELS)]
    assert created.saved["credentials.json"] == {
        "AccountTag": ACCOUNT_ID,
        "TunnelSecret": GIVEN_SECRET,
        "TunnelID": tunnel["id"],
        "Endpoint": "",
    }

    again = runner.tunnel(tunnel_name="web-life")
    assert again.rc == 0
    assert module_result(again)["changed"] is False
    assert module_result(again)["tunnel"]["id"] == tunnel["id"]
    assert (len(again.requests), again.writes) == (1, [])

    rotated = runner.tunnel(tunnel_name="web-life", rotate_secret=True, return_credentials=True)
    assert rotated.rc == 0
    assert rotated.saved["result.json"]["changed"] is True
    assert rotated.saved["result.json"]["diff"]["after"]["tunnel_secret"] == "<new secret>"
    assert [r["method"] for r in rotated.writes] == ["PATCH"]
    new_secret = rotated.saved["credentials.json"]["TunnelSecret"]
    assert new_secret != GIVEN_SECRET
    assert base64.b64decode(new_secret) and len(base64.b64decode(new_secret)) == 32

    repaired = runner.tunnel(tunnel_name="web-life", return_credentials=True)
    assert repaired.saved["credentials.json"]["TunnelSecret"] == new_secret

    check_delete = runner.tunnel(check=True, tunnel_name="web-life", tunnel_state="absent")
    assert check_delete.rc == 0
    assert module_result(check_delete)["changed"] is True
    assert check_delete.writes == []

    deleted = runner.tunnel(tunnel_name="web-life", tunnel_state="absent")
    assert deleted.rc == 0
    assert module_result(deleted)["changed"] is True
    assert [(r["method"], r["query"]) for r in deleted.writes] == [("DELETE", {})]
    assert live_tunnels(runner.emu, "web-life") == []

    gone = runner.tunnel(tunnel_name="web-life", tunnel_state="absent")
    assert (module_result(gone)["changed"], module_result(gone)["tunnel"]) == (False, {})
    assert (len(gone.requests), gone.writes) == (1, [])


def test_lost_credentials_are_rebuilt_equal_to_the_ones_from_create(runner):
    created = runner.tunnel(tunnel_name="web-lost", return_credentials=True)
    original = created.saved["credentials.json"]

    repaired = runner.tunnel(tunnel_name="web-lost", return_credentials=True)

    assert repaired.saved["credentials.json"] == original
    assert repaired.saved["result.json"]["changed"] is False
    assert [r["path"] for r in repaired.requests] == [TUNNELS, f"{TUNNELS}/{original['TunnelID']}/token"]
    assert repaired.writes == []


def test_a_given_secret_for_an_existing_tunnel_is_ignored_with_a_warning(runner):
    create_directly(runner.emu, "web-keep")

    result = runner.tunnel(tunnel_name="web-keep", tunnel_secret=GIVEN_SECRET)

    assert module_result(result)["changed"] is False
    assert any("tunnel_secret is ignored" in w for w in module_result(result)["warnings"])
    assert result.writes == []


def test_force_deletes_a_connected_tunnel_with_cascade(runner):
    tunnel_id = create_directly(runner.emu, "web-force")
    runner.emu.add_connector(tunnel_id)

    result = runner.tunnel(tunnel_name="web-force", tunnel_state="absent", force=True)

    assert result.rc == 0
    assert [(r["method"], r["path"], r["query"]) for r in result.writes] == [
        ("DELETE", f"{TUNNELS}/{tunnel_id}", {"cascade": ["true"]})
    ]
    assert live_tunnels(runner.emu, "web-force") == []


# Remote-managed tunnels

RULES = [
    {"hostname": "shop.example.com", "service": "http://localhost:8080"},
    {
        "hostname": "api.example.com",
        "path": "^/v1/",
        "service": "https://localhost:8443",
        "originRequest": {"noTLSVerify": True},
    },
    {"service": "http_status:404"},
]


def test_remote_config_is_pushed_once_and_then_left_alone(runner):
    created = runner.tunnel(
        tunnel_name="shop",
        config_src="cloudflare",
        ingress=RULES,
        origin_request={"connectTimeout": "30s"},
        return_token=True,
    )
    assert created.rc == 0
    tunnel_id = created.saved["result.json"]["tunnel"]["id"]
    assert [r["method"] for r in created.writes] == ["POST", "PUT"]
    pushed = runner.emu.api("GET", f"{TUNNELS}/{tunnel_id}/configurations")[1]["result"]["config"]
    assert pushed["originRequest"] == {"connectTimeout": 30}
    token = json.loads(base64.b64decode(created.saved["token"]))
    assert (token["a"], token["t"]) == (ACCOUNT_ID, tunnel_id)

    again = runner.tunnel(
        tunnel_name="shop", config_src="cloudflare", ingress=RULES, origin_request={"connectTimeout": 30}
    )
    assert module_result(again)["changed"] is False
    assert [r["method"] for r in again.requests] == ["GET", "GET"]
    assert again.writes == []

    changed = runner.tunnel(tunnel_name="shop", config_src="cloudflare", ingress=RULES[1:])
    assert module_result(changed)["changed"] is True
    assert [r["method"] for r in changed.writes] == ["PUT"]
    assert module_result(changed)["config"]["version"] > created.saved["result.json"]["config"]["version"]


def test_remote_config_check_mode_writes_nothing(runner):
    create_directly(runner.emu, "shop-check", config_src="cloudflare")

    result = runner.tunnel(check=True, tunnel_name="shop-check", config_src="cloudflare", ingress=RULES)

    assert module_result(result)["changed"] is True
    assert module_result(result)["diff"]["after"]["config"]["ingress"][0]["hostname"] == "shop.example.com"
    assert result.writes == []


# cf_tunnel_info


def test_info_on_a_missing_tunnel_says_it_does_not_exist(runner):
    result = runner.info(tunnel_name="nothing-here")

    info = module_result(result, "Run cf_tunnel_info")
    assert (result.rc, info["exists"], info["tunnel"], info["tunnels"]) == (0, False, {}, [])
    assert len(result.requests) == 1


def test_info_by_name_shows_connectors_in_two_requests(runner):
    tunnel_id = create_directly(runner.emu, "web-info")
    runner.emu.add_connector(tunnel_id, client_id=None, colos=("AMS", "AMS", "FRA"), origin_ip="192.0.2.7")

    result = runner.info(tunnel_name="web-info", check=True)

    info = module_result(result, "Run cf_tunnel_info")
    assert info["exists"] is True
    connector = info["tunnel"]["connectors"][0]
    assert (connector["origin_ip"], connector["edge"], connector["arch"]) == (
        "192.0.2.7",
        "2xAMS, 1xFRA",
        "linux_amd64",
    )
    assert [c["colo"] for c in info["tunnel"]["connections"]] == ["AMS", "AMS", "FRA"]
    assert len(result.requests) == 2


def test_info_lists_tunnels_by_prefix(runner):
    for name in ("fleet-a", "fleet-b", "other"):
        create_directly(runner.emu, name)

    result = runner.info(name_prefix="fleet-", include_connectors=False)

    info = module_result(result, "Run cf_tunnel_info")
    assert sorted(t["name"] for t in info["tunnels"]) == ["fleet-a", "fleet-b"]
    assert len(result.requests) == 1


def connect_after_first_look(emu, tunnel_id: str, client_id: str) -> threading.Thread:
    """Bring a connector up only after the module has looked at the connectors once, so that it must wait."""

    def watch():
        deadline = time.monotonic() + 240
        while time.monotonic() < deadline:
            if emu.api_requests("GET", f"/{tunnel_id}/connections$"):
                emu.add_connector(tunnel_id, client_id=client_id)
                return
            time.sleep(0.2)

    thread = threading.Thread(target=watch, daemon=True)
    thread.start()
    return thread


def test_wait_returns_once_the_connector_comes_up(runner):
    tunnel_id = create_directly(runner.emu, "web-wait")
    connector = "5b0fc1a5-7e2b-4d0b-9f3e-0c3c2d7c9a11"
    watcher = connect_after_first_look(runner.emu, tunnel_id, connector)

    result = runner.info(tunnel_name="web-wait", wait={"connector_id": connector, "state": "healthy", "interval": 1})
    watcher.join(timeout=5)

    info = module_result(result, "Run cf_tunnel_info")
    assert result.rc == 0
    assert connector in info["tunnel"]["connected_connector_ids"]
    assert info["tunnel"]["status"] == "healthy"
    assert len(result.api_requests_to_connections) >= 2


def test_wait_times_out_with_what_it_saw_last(runner):
    tunnel_id = create_directly(runner.emu, "web-slow")
    connector = runner.emu.add_connector(tunnel_id, origin_ip="192.0.2.9")

    started = time.monotonic()
    result = runner.info(tunnel_name="web-slow", wait={"min_connectors": 2, "timeout": 2, "interval": 1})

    assert result.rc == 2
    msg = module_result(result, "Run cf_tunnel_info")["msg"]
    assert "1 connected connector(s), fewer than 2" in msg
    assert f"{connector} (192.0.2.9: 1xAMS, 1xFRA)" in msg
    assert time.monotonic() - started < 60


# Documentation


@pytest.mark.parametrize("module", ["cf_tunnel", "cf_tunnel_info"])
def test_ansible_doc_renders_the_module_with_examples(module, ansible_env):
    proc = subprocess.run(
        [str(REPO_ROOT / ".venv" / "bin" / "ansible-doc"), f"tunnelops.cloudflare.{module}"],
        cwd=REPO_ROOT,
        env=ansible_env(),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )

    assert proc.returncode == 0, proc.stderr
    assert "EXAMPLES:" in proc.stdout
    assert f"tunnelops.cloudflare.{module}:" in proc.stdout
    assert "ERROR" not in proc.stderr


def test_replicas_asking_at_once_share_one_tunnel_and_its_credentials(runner, tmp_path):
    inventory = tmp_path / "replicas.ini"
    hosts = [f"replica{i}" for i in range(4)]
    inventory.write_text("[replicas]\n" + "".join(f"{h} ansible_connection=local\n" for h in hosts))

    result = runner.run("cf_tunnel_replicas.yml", tunnel_name="web-shared", inventory=str(inventory))

    assert result.rc == 0, result.output[-2000:]
    created = [r for r in result.writes if r["method"] == "POST" and r["status"] == 200]
    assert len(created) == 1
    assert len(live_tunnels(runner.emu, "web-shared")) == 1
    files = [json.loads((runner.dir / f"{h}.json").read_text()) for h in hosts]
    assert all(f == files[0] for f in files)
    runner.secrets.add(files[0]["TunnelSecret"])
    assert files[0]["TunnelSecret"] not in result.output
