"""The stand-in cloudflared's fail-start knob: a named tunnel that cannot come up, for the migration's safety net."""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
import uuid
from pathlib import Path

STANDIN = Path(__file__).resolve().parents[2] / "standin" / "cloudflared"


def test_fail_start_file_makes_run_exit_with_its_message_before_registering(tmp_path):
    tunnel_id = str(uuid.uuid4())
    credentials = tmp_path / f"{tunnel_id}.json"
    secret = base64.b64encode(os.urandom(32)).decode()
    credentials.write_text(json.dumps({"AccountTag": "a" * 32, "TunnelSecret": secret, "TunnelID": tunnel_id}))
    config = tmp_path / "config.yml"
    config.write_text(f"tunnel: {tunnel_id}\ncredentials-file: {credentials}\ningress:\n  - service: http_status:404\n")
    knob = tmp_path / "fail_start"
    knob.write_text("failed to dial to edge with quic: timeout: no recent network activity\n")
    env = {key: value for key, value in os.environ.items() if not key.startswith("TUNNEL_")}
    env.update(
        HOME=str(tmp_path),
        CLOUDFLARED_STANDIN_FAIL_START_FILE=str(knob),
        CLOUDFLARED_STANDIN_EMULATOR_URL_FILE=str(tmp_path / "no-emulator"),
    )

    run = subprocess.run(
        [sys.executable, str(STANDIN), "tunnel", "--config", str(config), "--metrics", "127.0.0.1:0", "run"],
        env=env,
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )

    assert run.returncode == 1
    assert "failed to dial to edge with quic: timeout: no recent network activity" in run.stderr
