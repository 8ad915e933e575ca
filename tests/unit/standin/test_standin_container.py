# Copyright (c) 2026, tunnelops maintainers
# SPDX-License-Identifier: GPL-3.0-or-later
"""The stand-in cloudflared's package in a real systemd container: installs with apt, runs as a hardened
Type=notify unit, registers with the API emulator on the host and unregisters when the unit stops.

Needs rootful podman and the image that scripts/build-image.sh builds; skipped without them.
"""

from __future__ import annotations

import base64
import json
import os
import shutil
import socket
import subprocess
import time
import urllib.request
import uuid
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[3]
IMAGE = os.environ.get("TUNNELOPS_TEST_IMAGE", "localhost/tunnelops-debian12:latest")
ACCOUNT_ID = "9a7806061c88ada191ed06f989cc3dac"


def _image_present() -> bool:
    if shutil.which("podman") is None or os.geteuid() != 0:
        return False
    return subprocess.run(["podman", "image", "exists", IMAGE], check=False).returncode == 0


pytestmark = pytest.mark.skipif(not _image_present(), reason=f"needs rootful podman and the image {IMAGE}")

UNIT = """[Unit]
Description=stand-in cloudflared test %i

[Service]
Type=notify
User=cloudflared
Group=cloudflared
ExecStart=/usr/local/bin/cloudflared --no-autoupdate --config /etc/cloudflared/%i.yml tunnel run
TimeoutStartSec=30
Restart=on-failure
NoNewPrivileges=true
CapabilityBoundingSet=
AmbientCapabilities=
ProtectSystem=strict
ProtectHome=true
ReadOnlyPaths=/etc/cloudflared
PrivateTmp=true
PrivateDevices=true
ProtectKernelTunables=true
ProtectKernelModules=true
ProtectKernelLogs=true
ProtectControlGroups=true
ProtectClock=true
ProtectHostname=true
RestrictNamespaces=true
RestrictRealtime=true
RestrictSUIDSGID=true
LockPersonality=true
MemoryDenyWriteExecute=true
SystemCallArchitectures=native
RestrictAddressFamilies=AF_INET AF_INET6 AF_UNIX AF_NETLINK
UMask=0077
"""


class Container:
    def __init__(self, name: str) -> None:
        self.name = name

    def run(self, *command: str, check: bool = True, user: str | None = None) -> subprocess.CompletedProcess:
        prefix = ["podman", "exec"] + (["--user", user] if user else []) + [self.name]
        return subprocess.run([*prefix, *command], capture_output=True, text=True, timeout=300, check=check)

    def put(self, path: str, content: str, mode: str = "0644", owner: str = "root:root") -> None:
        subprocess.run(
            ["podman", "exec", "-i", self.name, "sh", "-c", f'mkdir -p "$(dirname {path})" && cat > {path}'],
            input=content,
            text=True,
            check=True,
            timeout=60,
        )
        self.run("chmod", mode, path)
        self.run("chown", owner, path)


@pytest.fixture
def container():
    name = f"tunnelops-standin-{uuid.uuid4().hex[:8]}"
    subprocess.run(
        ["podman", "run", "-d", "--name", name, "--network", "host", IMAGE, "/sbin/init"],
        capture_output=True,
        check=True,
        timeout=120,
    )
    box = Container(name)
    try:
        deadline = time.monotonic() + 60
        while box.run("systemctl", "is-system-running", check=False).stdout.strip() not in ("running", "degraded"):
            if time.monotonic() > deadline:
                pytest.fail("the container's systemd did not come up")
            time.sleep(0.5)
        yield box
    finally:
        subprocess.run(["podman", "rm", "-f", "-t", "0", name], capture_output=True, check=False, timeout=120)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def live_connectors(emu, tunnel_id: str) -> list[dict]:
    return next(t for t in emu.state()["tunnels"] if t["id"] == tunnel_id)["connectors"]


def test_package_runs_as_a_hardened_notify_unit(container, cfemu, tmp_path):
    built = subprocess.run(
        ["sh", str(REPO / "tests" / "standin" / "build-deb.sh"), str(tmp_path)],
        capture_output=True,
        text=True,
        check=True,
    )
    deb = Path(built.stdout.strip())
    subprocess.run(["podman", "cp", str(deb), f"{container.name}:/tmp/{deb.name}"], check=True, timeout=60)
    install = container.run("apt-get", "install", "-y", "--no-install-recommends", f"/tmp/{deb.name}", check=False)
    assert install.returncode == 0, install.stdout + install.stderr
    assert container.run("cloudflared", "--version").stdout.startswith("cloudflared version 2026.8.2+standin")
    assert container.run("test", "-f", "/usr/local/etc/cloudflared/.installedFromPackageManager").returncode == 0

    status, envelope, _headers = cfemu.api("POST", f"/accounts/{ACCOUNT_ID}/cfd_tunnel", body={"name": "standin-box"})
    assert status == 200, envelope
    token = cfemu.api("GET", f"/accounts/{ACCOUNT_ID}/cfd_tunnel/{envelope['result']['id']}/token")[1]
    secret = json.loads(base64.b64decode(token["result"]))["s"]
    tunnel_id = envelope["result"]["id"]
    metrics = f"127.0.0.1:{free_port()}"
    container.run("useradd", "--system", "--shell", "/usr/sbin/nologin", "--home-dir", "/nonexistent", "cloudflared")
    container.put("/etc/cloudflared-standin/emulator_url", cfemu.base_url.removesuffix("/client/v4") + "\n")
    credentials = {"AccountTag": ACCOUNT_ID, "TunnelSecret": secret, "TunnelID": tunnel_id, "Endpoint": ""}
    container.put(f"/etc/cloudflared/{tunnel_id}.json", json.dumps(credentials), "0400", "cloudflared:cloudflared")
    config = (
        f"tunnel: {tunnel_id}\ncredentials-file: /etc/cloudflared/{tunnel_id}.json\nmetrics: {metrics}\n"
        "no-autoupdate: true\ningress:\n  - hostname: app.example.com\n    service: http://127.0.0.1:8080\n"
        "  - service: http_status:404\n"
    )
    container.put("/etc/cloudflared/web.yml", config, "0640", "root:cloudflared")
    container.put("/etc/systemd/system/standin-test@.service", UNIT)
    container.run("chmod", "0750", "/etc/cloudflared")
    container.run("chgrp", "cloudflared", "/etc/cloudflared")

    validate = container.run("cloudflared", "tunnel", "--config", "/etc/cloudflared/web.yml", "ingress", "validate",
                             user="cloudflared")  # fmt: skip
    assert validate.stdout == "Validating rules from /etc/cloudflared/web.yml\nOK\n"

    container.run("systemctl", "daemon-reload")
    start = container.run("systemctl", "start", "standin-test@web", check=False)
    journal = container.run("journalctl", "-u", "standin-test@web", "--no-pager", check=False).stdout
    assert start.returncode == 0, journal

    with urllib.request.urlopen(f"http://{metrics}/ready", timeout=10) as response:
        ready = json.loads(response.read())
    [connector] = live_connectors(cfemu, tunnel_id)
    assert (ready["readyConnections"], ready["connectorId"]) == (2, connector["id"])
    assert container.run("systemctl", "is-active", "standin-test@web").stdout.strip() == "active"
    assert secret not in journal

    container.run("systemctl", "stop", "standin-test@web")

    assert live_connectors(cfemu, tunnel_id) == []
    assert "inactive" in container.run("systemctl", "is-active", "standin-test@web", check=False).stdout
