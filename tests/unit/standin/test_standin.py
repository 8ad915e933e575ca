# Copyright (c) 2026, tunnelops maintainers
# SPDX-License-Identifier: GPL-3.0-or-later
"""Specification of the stand-in cloudflared (a test double): its CLI, its refusals, its life as a connector."""

from __future__ import annotations

import base64
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[3]
STANDIN = REPO / "tests" / "standin" / "cloudflared"
BUILD_DEB = REPO / "tests" / "standin" / "build-deb.sh"
ACCOUNT_ID = "9a7806061c88ada191ed06f989cc3dac"
SECRET = base64.b64encode(b"s" * 32).decode()
OTHER_SECRET = base64.b64encode(b"o" * 32).decode()
RULES = [
    {"hostname": "app.example.com", "service": "http://127.0.0.1:8080"},
    {"hostname": "*.example.com", "path": "^/api/", "service": "https://127.0.0.1:8443"},
    {"service": "http_status:404"},
]


@pytest.fixture
def home(tmp_path):
    path = tmp_path / "home"
    path.mkdir()
    return path


@pytest.fixture
def standin(tmp_path, home):
    """Run the double with an empty HOME and the emulator URL file under tmp_path."""

    def env(extra=None):
        values = {key: value for key, value in os.environ.items() if not key.startswith("TUNNEL_")}
        values.update(
            HOME=str(home),
            CLOUDFLARED_STANDIN_EMULATOR_URL_FILE=str(tmp_path / "emulator_url"),
            CLOUDFLARED_STANDIN_FAIL_START_FILE=str(tmp_path / "fail_start"),
        )
        values.pop("NOTIFY_SOCKET", None)
        values.update(extra or {})
        return values

    def run(*args, extra_env=None):
        return subprocess.run(
            [sys.executable, str(STANDIN), *args],
            env=env(extra_env),
            capture_output=True,
            text=True,
            timeout=30,
            check=False,
        )

    run.env = env
    return run


def write_config(path: Path, **config) -> Path:
    path.write_text(yaml.safe_dump(config, sort_keys=False))
    return path


def write_credentials(path: Path, tunnel_id: str, secret: str = SECRET, **extra) -> Path:
    data = {"AccountTag": ACCOUNT_ID, "TunnelSecret": secret, "TunnelID": tunnel_id, "Endpoint": "", **extra}
    path.write_text(json.dumps(data))
    return path


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.mark.parametrize("args", [["--version"], ["-v"], ["version"]])
def test_version_names_the_double(standin, args):
    run = standin(*args)

    assert (run.returncode, run.stdout) == (
        0,
        "cloudflared version 2026.8.2+standin (built 2026-08-20-0000 UTC) [test double]\n",
    )


def test_short_version_is_the_bare_version(standin):
    assert standin("version", "--short").stdout == "2026.8.2+standin\n"


def test_ingress_validate_accepts_valid_rules(standin, tmp_path):
    config = write_config(tmp_path / "c.yml", tunnel=str(uuid.uuid4()), ingress=RULES)

    run = standin("tunnel", "--config", str(config), "ingress", "validate")

    assert (run.returncode, run.stdout) == (0, f"Validating rules from {config}\nOK\n")


@pytest.mark.parametrize(
    ("ingress", "message"),
    [
        (None, "The config file doesn't contain any ingress rules"),
        (RULES[:1], "Rule #1: The last ingress rule must match all URLs"),
        ([{"service": "http://x"}, RULES[2]], "Rule #1 is matching the hostname '', but this will match every"),
        (
            [{"hostname": "a.example.com:80", "service": "http://x"}, RULES[2]],
            "Rule #1: Hostname cannot contain a port",
        ),
        (
            [{"hostname": "a.example.com", "service": "localhost:80"}, RULES[2]],
            "Rule #1: localhost:80 is an invalid address",
        ),
        ([{"service": "http_status:1000"}], "Rule #1: invalid HTTP status code: 1000"),
    ],
)
def test_ingress_validate_refuses_invalid_rules(standin, tmp_path, ingress, message):
    config = write_config(tmp_path / "c.yml", ingress=ingress)

    run = standin("tunnel", "--config", str(config), "ingress", "validate")

    assert run.returncode == 1
    assert run.stdout == f"Validating rules from {config}\n"
    assert run.stderr.startswith(f"Validation failed: {message}")


def test_ingress_validate_reads_json_from_the_command_line(standin):
    run = standin("tunnel", "ingress", "validate", "--json", json.dumps({"ingress": RULES}))

    assert (run.returncode, run.stdout) == (0, "Validating rules from cmdline flag --json\nOK\n")


def test_ingress_validate_without_any_config_fails(standin):
    assert standin("tunnel", "ingress", "validate").returncode == 1


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        (
            "https://app.example.com/",
            "Matched rule #0\n\thostname: app.example.com\n\tservice: http://127.0.0.1:8080\n",
        ),
        ("https://x.example.com/api/v1", "Matched rule #1\n\thostname: *.example.com\n\tpath: ^/api/\n"),
        ("https://x.example.com/web", "Matched rule #2\n\tservice: http_status:404\n"),
    ],
)
def test_ingress_rule_names_the_matching_rule(standin, tmp_path, url, expected):
    config = write_config(tmp_path / "c.yml", ingress=RULES)

    run = standin("tunnel", "--config", str(config), "ingress", "rule", url)

    assert run.returncode == 0
    assert run.stdout.startswith(f"Using rules from {config}\n")
    assert expected in run.stdout


TUNNEL = "6ff42ae2-765d-4adf-8112-31c55c1551ef"
OTHER_TUNNEL = "11111111-1111-4111-8111-111111111111"


@pytest.mark.parametrize(
    ("case", "message"),
    [
        ("no tunnel", '"cloudflared tunnel run" requires the ID or name of the tunnel to run'),
        ("missing credentials file", "Tunnel credentials file '/nonexistent.json' doesn't exist or is not a file"),
        ("no credentials anywhere", "tunnel credentials file not found"),
        ("credentials of another tunnel", f"belongs to tunnel {OTHER_TUNNEL}, not to tunnel {TUNNEL}"),
        ("short secret", "TunnelSecret must decode to at least 32 bytes"),
        ("cert.pem as credentials", "The tunnel credentials file should be .json but you gave a .pem"),
        ("credentials not json", "Invalid JSON when parsing tunnel credentials file"),
        ("invalid ingress", "Rule #1: The last ingress rule must match all URLs"),
        ("url with ingress", "You can't set the --url flag (or $TUNNEL_URL) when using multiple-origin ingress rules"),
        ("classic hostname", "Classic tunnels have been deprecated, please use Named Tunnels."),
        ("bad token", "Provided Tunnel token is not valid."),
        ("name without credentials", "web is not a tunnel UUID"),
    ],
)  # fmt: skip
def test_run_refuses_what_cloudflared_refuses(standin, tmp_path, case, message):
    credentials = write_credentials(tmp_path / f"{TUNNEL}.json", TUNNEL)
    config = {"tunnel": TUNNEL, "credentials-file": str(credentials), "ingress": RULES}
    args = []
    if case == "no tunnel":
        del config["tunnel"]
    elif case == "missing credentials file":
        config["credentials-file"] = "/nonexistent.json"
    elif case == "no credentials anywhere":
        del config["credentials-file"]
    elif case == "credentials of another tunnel":
        write_credentials(credentials, OTHER_TUNNEL)
    elif case == "short secret":
        write_credentials(credentials, TUNNEL, secret=base64.b64encode(b"short").decode())
    elif case == "cert.pem as credentials":
        config["credentials-file"] = str(tmp_path / "cert.pem")
        (tmp_path / "cert.pem").write_text("-----BEGIN ARGO TUNNEL TOKEN-----\n")
    elif case == "credentials not json":
        credentials.write_text("{not json")
    elif case == "invalid ingress":
        config["ingress"] = RULES[:1]
    elif case == "url with ingress":
        args = ["--url", "http://127.0.0.1:9"]
    elif case == "classic hostname":
        config = {"hostname": "app.example.com", "url": "http://127.0.0.1:8080"}
    elif case == "bad token":
        args = ["--token", "bm90IGEgdG9rZW4="]
    elif case == "name without credentials":
        config["tunnel"] = "web"
        del config["credentials-file"]
    path = write_config(tmp_path / "config.yml", **config)

    run = standin("--no-autoupdate", "--config", str(path), "tunnel", *args, "run")

    assert run.returncode == 1
    assert message in run.stderr


class Running:
    """A double started in the background, with a NOTIFY_SOCKET to see READY=1 arrive."""

    def __init__(self, standin, tmp_path, args, extra_env=None):
        self.metrics = f"127.0.0.1:{free_port()}"
        self.notify_path = tmp_path / "notify.sock"
        self.notify = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.notify.bind(str(self.notify_path))
        self.notify.settimeout(20)
        env = standin.env({"NOTIFY_SOCKET": str(self.notify_path), **(extra_env or {})})
        self.process = subprocess.Popen(
            [sys.executable, str(STANDIN), "--metrics", self.metrics, *args],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )

    def notifications(self) -> str:
        return self.notify.recv(1024).decode()

    def ready(self) -> tuple[int, dict]:
        try:
            with urllib.request.urlopen(f"http://{self.metrics}/ready", timeout=5) as response:
                return response.status, json.loads(response.read())
        except urllib.error.HTTPError as exc:
            return exc.code, json.loads(exc.read())

    def stop(self) -> tuple[int, str]:
        self.process.send_signal(signal.SIGTERM)
        stderr = self.process.communicate(timeout=20)[1]
        self.notify.close()
        return self.process.returncode, stderr

    def kill(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.communicate()
        self.notify.close()


@pytest.fixture
def running(standin, tmp_path):
    started = []

    def start(args, extra_env=None):
        started.append(Running(standin, tmp_path, args, extra_env))
        return started[-1]

    yield start
    for double in started:
        double.kill()


def create_tunnel(emu, name: str, secret: str = SECRET, config_src: str = "local") -> str:
    status, envelope, _headers = emu.api(
        "POST",
        f"/accounts/{ACCOUNT_ID}/cfd_tunnel",
        body={"name": name, "tunnel_secret": secret, "config_src": config_src},
    )
    assert status == 200, envelope
    return envelope["result"]["id"]


def connectors(emu, tunnel_id: str) -> list[dict]:
    tunnel = next(t for t in emu.state()["tunnels"] if t["id"] == tunnel_id)
    return tunnel["connectors"]


@pytest.fixture
def emulator_url(cfemu, tmp_path):
    (tmp_path / "emulator_url").write_text(cfemu.base_url.removesuffix("/client/v4") + "\n")
    return cfemu


def test_run_registers_a_connector_and_notifies_systemd(emulator_url, running, tmp_path):
    tunnel_id = create_tunnel(emulator_url, "standin-run")
    credentials = write_credentials(tmp_path / "creds.json", tunnel_id)
    config = write_config(
        tmp_path / "web.yml", tunnel=tunnel_id, **{"credentials-file": str(credentials)}, ingress=RULES
    )

    double = running(["--no-autoupdate", "--config", str(config), "tunnel", "run"])

    assert double.notifications() == "READY=1"
    status, ready = double.ready()
    assert (status, ready["status"], ready["readyConnections"]) == (200, 200, 2)
    [connector] = connectors(emulator_url, tunnel_id)
    assert connector["id"] == ready["connectorId"]
    assert connector["version"] == "2026.8.2+standin"
    assert sorted(conn["colo_name"] for conn in connector["conns"]) == ["AMS", "FRA"]


def test_sigterm_unregisters_and_exits_zero(emulator_url, running, tmp_path):
    tunnel_id = create_tunnel(emulator_url, "standin-stop")
    credentials = write_credentials(tmp_path / "creds.json", tunnel_id)
    double = running(["tunnel", "--credentials-file", str(credentials), "run", tunnel_id])
    assert double.notifications() == "READY=1"

    code, stderr = double.stop()

    assert code == 0
    assert "Unregistered tunnel connections" in stderr
    assert connectors(emulator_url, tunnel_id) == []


def test_credentials_are_found_by_uuid_in_the_default_directories(emulator_url, running, home):
    tunnel_id = create_tunnel(emulator_url, "standin-default-dir")
    (home / ".cloudflared").mkdir()
    write_credentials(home / ".cloudflared" / f"{tunnel_id}.json", tunnel_id)

    double = running(["tunnel", "run", tunnel_id])

    assert double.notifications() == "READY=1"
    assert len(connectors(emulator_url, tunnel_id)) == 1


def test_token_file_runs_a_remote_managed_tunnel(emulator_url, running, tmp_path):
    tunnel_id = create_tunnel(emulator_url, "standin-remote", config_src="cloudflare")
    envelope = emulator_url.api("GET", f"/accounts/{ACCOUNT_ID}/cfd_tunnel/{tunnel_id}/token")[1]
    token_file = tmp_path / "web.token"
    token_file.write_text(envelope["result"] + "\n")

    double = running(["tunnel", "run", "--token-file", str(token_file)])

    assert double.notifications() == "READY=1"
    assert len(connectors(emulator_url, tunnel_id)) == 1
    stderr = double.stop()[1]
    assert envelope["result"] not in stderr


@pytest.mark.parametrize(
    ("secret", "deleted", "message"),
    [
        (OTHER_SECRET, False, "Unauthorized: Invalid tunnel secret"),
        (SECRET, True, "Unauthorized: Tunnel not found"),
    ],
    ids=["wrong secret", "deleted tunnel"],
)
def test_run_is_refused_by_the_edge_for_bad_credentials(emulator_url, standin, tmp_path, secret, deleted, message):
    tunnel_id = create_tunnel(emulator_url, "standin-refused")
    if deleted:
        emulator_url.api("DELETE", f"/accounts/{ACCOUNT_ID}/cfd_tunnel/{tunnel_id}")
    credentials = write_credentials(tmp_path / "creds.json", tunnel_id, secret=secret)

    run = standin(
        "tunnel", "--metrics", f"127.0.0.1:{free_port()}", "--credentials-file", str(credentials), "run", tunnel_id
    )

    assert run.returncode == 1
    assert message in run.stderr


def test_without_emulator_url_it_runs_unregistered(standin, running, tmp_path):
    credentials = write_credentials(tmp_path / "creds.json", TUNNEL)

    double = running(["tunnel", "--credentials-file", str(credentials), "run", TUNNEL])

    assert double.notifications() == "READY=1"
    assert double.ready()[0] == 200
    code, stderr = double.stop()
    assert code == 0
    assert "running without registering a connector" in stderr


def test_ready_is_503_until_the_edge_is_reached(running, tmp_path):
    (tmp_path / "emulator_url").write_text(f"http://127.0.0.1:{free_port()}\n")
    credentials = write_credentials(tmp_path / "creds.json", TUNNEL)
    double = running(["tunnel", "--credentials-file", str(credentials), "run", TUNNEL])
    deadline = time.monotonic() + 15
    status = None
    while time.monotonic() < deadline:
        try:
            status, body = double.ready()
            break
        except OSError:
            time.sleep(0.2)

    assert (status, body["readyConnections"]) == (503, 0)
    assert double.stop()[0] == 0


def test_metrics_address_in_use_is_refused(standin, tmp_path):
    credentials = write_credentials(tmp_path / "creds.json", TUNNEL)
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        address = f"127.0.0.1:{busy.getsockname()[1]}"

        run = standin("tunnel", "--metrics", address, "--credentials-file", str(credentials), "run", TUNNEL)

    assert run.returncode == 1
    assert "Error opening metrics server listener" in run.stderr


@pytest.mark.skipif(shutil.which("dpkg-deb") is None, reason="dpkg-deb is needed to build the package")
def test_build_deb_makes_an_installable_package(tmp_path):
    built = subprocess.run(["sh", str(BUILD_DEB), str(tmp_path)], capture_output=True, text=True, check=True)
    deb = Path(built.stdout.strip())

    info = subprocess.run(["dpkg-deb", "--info", str(deb)], capture_output=True, text=True, check=True).stdout
    contents = subprocess.run(["dpkg-deb", "--contents", str(deb)], capture_output=True, text=True, check=True).stdout
    subprocess.run(["dpkg-deb", "--extract", str(deb), str(tmp_path / "root")], check=True)

    assert deb.name == "cloudflared_2026.8.2+standin_all.deb"
    for line in ("Package: cloudflared", "Version: 2026.8.2+standin", "Architecture: all", "Depends: python3"):
        assert line in info
    assert "TEST DOUBLE" in info
    assert "-rwxr-xr-x root/root" in next(
        line for line in contents.splitlines() if line.endswith("./usr/bin/cloudflared")
    )
    script = tmp_path / "root" / "usr" / "bin" / "cloudflared"
    assert script.read_text().startswith("#!/usr/bin/python3\n")
    shipped = tmp_path / "root" / "usr" / "lib" / "cloudflared-standin" / "_ingress.py"
    assert shipped.read_bytes() == (REPO / "plugins" / "module_utils" / "_ingress.py").read_bytes()
    version = subprocess.run(
        [sys.executable, str(tmp_path / "root" / "usr" / "bin" / "cloudflared"), "--version"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert "[test double]" in version.stdout
