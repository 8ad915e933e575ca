"""Start and drive the Cloudflare API emulator (cfemu.py) from tests, benchmarks and demos.

    with Emulator() as emu:                      # default seed, random free port
        emu.base_url                             # http://127.0.0.1:PORT/client/v4
        emu.add_connector(tunnel_id)             # a connector comes up (two connections, AMS and FRA)
        emu.requests()                           # every API request so far

The pytest fixtures ``cfemu`` (fresh default-seeded emulator state per test) and ``cfemu_factory`` (own emulator
with another seed, latency or rate limit) are exposed to every test through tests/conftest.py.
"""

from __future__ import annotations

import json
import re
import select
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import yaml

HERE = Path(__file__).resolve().parent
CFEMU = HERE / "cfemu.py"
DEFAULT_SEED = HERE / "seeds" / "default.yml"

# The default seed's identities (tests/emulator/seeds/default.yml).
ACCOUNT_ID = "9a7806061c88ada191ed06f989cc3dac"
ACCOUNT_NAME = "Example Ops"
ZONES = {
    "example.com": "023e105f4ecef8ad9ca31a8372d0c353",
    "example.net": "372e67954025e0ba6aaa6d586b9e0b59",
    "dev.example.com": "b1946ac92492d2347c6235b4d2611184",
}
TOKEN_ALL = "cfemu-token-all-4f1c9a"
TOKEN_READONLY = "cfemu-token-readonly-77b2e0"
TOKEN_NOTUNNEL = "cfemu-token-notunnel-0d5a13"
API_EMAIL = "ops@example.com"
API_KEY = "cfemu-globalkey-8e3d21"
SECRETS = (TOKEN_ALL, TOKEN_READONLY, TOKEN_NOTUNNEL, API_KEY)

BANNER = re.compile(r"^cfemu listening on (http://\S+/client/v4)$")


class EmulatorError(RuntimeError):
    """The emulator did not start, or the control surface refused a request."""


class Emulator:
    """One cfemu process. Use as a context manager, or call start() and stop()."""

    def __init__(self, seed=None, latency_ms: int = 0, rate_limit: str | None = None, listen: str = "127.0.0.1:0"):
        self.seed = seed
        self.latency_ms = latency_ms
        self.rate_limit = rate_limit
        self.listen = listen
        self.process = None
        self.base_url = None
        self.control_url = None
        self._tmpdir = None
        self._stderr = None

    # --- life cycle ------------------------------------------------------------------------------------------

    def _seed_path(self) -> Path:
        if self.seed is None:
            return DEFAULT_SEED
        if isinstance(self.seed, dict):
            self._tmpdir = tempfile.TemporaryDirectory(prefix="cfemu-")
            path = Path(self._tmpdir.name) / "seed.yml"
            path.write_text(yaml.safe_dump(self.seed), encoding="utf-8")
            return path
        return Path(self.seed)

    def start(self, timeout: float = 10.0) -> Emulator:
        command = [sys.executable, str(CFEMU), "--listen", self.listen, "--seed", str(self._seed_path())]
        if self.latency_ms:
            command += ["--latency-ms", str(self.latency_ms)]
        if self.rate_limit:
            limit = self.rate_limit
            command += ["--rate-limit", limit if isinstance(limit, str) else "{}/{}".format(*limit)]
        # stderr goes to a file: a pipe nobody reads could fill up and stall the emulator in a long session.
        self._stderr = tempfile.TemporaryFile(mode="w+", prefix="cfemu-stderr-")  # noqa: SIM115 - lives with the process
        self.process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=self._stderr, text=True)
        deadline = time.monotonic() + timeout
        line = ""
        while time.monotonic() < deadline:
            ready, _ignored, _unused = select.select([self.process.stdout], [], [], 0.1)
            if ready:
                line = self.process.stdout.readline().strip()
                break
            if self.process.poll() is not None:
                break
        match = BANNER.match(line)
        if not match:
            self.process.kill()
            self.process.wait(timeout=5)
            detail = self.stderr_text().strip()
            self.stop()
            raise EmulatorError(f"cfemu did not start (first line {line!r}): {detail}")
        self.base_url = match.group(1)
        self.control_url = self.base_url[: -len("/client/v4")] + "/__emulator__"
        return self

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=5)
        if self.process and self.process.stdout:
            self.process.stdout.close()
        if self._stderr:
            self._stderr.close()
            self._stderr = None
        if self._tmpdir:
            self._tmpdir.cleanup()
            self._tmpdir = None

    def stderr_text(self) -> str:
        """What the emulator wrote to stderr so far (tracebacks of emulator bugs, seed errors)."""
        if self._stderr is None:
            return ""
        self._stderr.seek(0)
        return self._stderr.read()

    def __enter__(self) -> Emulator:
        return self.start()

    def __exit__(self, *exc_info) -> None:
        self.stop()

    @property
    def port(self) -> int:
        return int(urllib.parse.urlsplit(self.base_url).port)

    def env(self, token: str = TOKEN_ALL) -> dict:
        """Environment variables that point the collection's modules at this emulator."""
        return {
            "CLOUDFLARE_BASE_URL": self.base_url,
            "CLOUDFLARE_API_TOKEN": token,
            "CLOUDFLARE_ACCOUNT_ID": ACCOUNT_ID,
        }

    # --- HTTP ------------------------------------------------------------------------------------------------

    @staticmethod
    def _call(method: str, url: str, body=None, headers=None, timeout: float = 30.0):
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(url, data=data, method=method, headers=dict(headers or {}))
        if data is not None:
            request.add_header("Content-Type", "application/json")
        try:
            with urllib.request.urlopen(request, timeout=timeout) as response:
                return response.status, json.loads(response.read() or b"null"), dict(response.headers)
        except urllib.error.HTTPError as exc:
            payload = exc.read()
            return exc.code, json.loads(payload) if payload else None, dict(exc.headers)

    def _control(self, method: str, path: str, body=None):
        status, payload, _ignored = self._call(method, self.control_url + path, body)
        if status != 200:
            raise EmulatorError(f"control {method} {path} answered {status}: {payload}")
        return payload

    def api(self, method: str, path: str, query=None, body=None, token: str | None = TOKEN_ALL, headers=None):
        """Call the emulated API directly: returns (HTTP status, envelope, headers)."""
        url = self.base_url + path
        if query:
            url += "?" + urllib.parse.urlencode(query, doseq=True)
        all_headers = dict(headers or {})
        if token is not None:
            all_headers.setdefault("Authorization", f"Bearer {token}")
        return self._call(method, url, body, all_headers)

    # --- control surface -------------------------------------------------------------------------------------

    def requests(self, clear: bool = False) -> list[dict]:
        """Every API request so far, oldest first: method, path (relative to /client/v4), query, status, ..."""
        return self._control("GET", "/requests" + ("?clear=true" if clear else ""))

    def clear_requests(self) -> None:
        self._control("POST", "/requests/clear")

    def api_requests(self, method: str | None = None, path: str | None = None) -> list[dict]:
        """Requests filtered by method and by a regular expression searched in the path."""
        pattern = re.compile(path) if path else None
        return [
            r
            for r in self.requests()
            if (method is None or r["method"] == method.upper()) and (pattern is None or pattern.search(r["path"]))
        ]

    def writes(self) -> list[dict]:
        """Requests that could change something (everything but GET)."""
        return [r for r in self.requests() if r["method"] != "GET"]

    def state(self) -> dict:
        return self._control("GET", "/state")

    def reset(self) -> None:
        self._control("POST", "/reset")

    def add_connector(
        self,
        tunnel_id: str,
        client_id: str | None = None,
        colos=("AMS", "FRA"),
        version="2026.8.2",
        arch="linux_amd64",
        origin_ip="192.0.2.10",
        pending_colos=(),
        expected_connections=None,
        credentials: dict | None = None,
    ) -> str:
        """Bring a connector up on a tunnel (one connection per colo); returns its client_id.

        credentials, if given, are checked like the edge checks a connector's: {"token": ...} or
        {"tunnel_secret": ..., "account_tag": ...}; a mismatch raises EmulatorError (HTTP 403)."""
        body = {
            "client_id": client_id,
            "colos": list(colos),
            "version": version,
            "arch": arch,
            "origin_ip": origin_ip,
            "pending_colos": list(pending_colos),
        }
        if expected_connections is not None:
            body["expected_connections"] = expected_connections
        body.update(credentials or {})
        return self._control("POST", f"/tunnels/{tunnel_id}/connectors", body)["id"]

    def remove_connector(self, tunnel_id: str, client_id: str, pending: bool = False) -> None:
        """Take a connector away; with pending=True its connections stay listed as is_pending_reconnect."""
        self._control("DELETE", f"/tunnels/{tunnel_id}/connectors/{client_id}" + ("?pending=true" if pending else ""))

    def fault(
        self,
        method: str,
        path: str,
        status: int | None = None,
        drop: bool = False,
        count: int = 1,
        retry_after: int | None = None,
        delay_ms: int = 0,
        errors=None,
    ) -> dict:
        """Make the next `count` requests matching method ("*" = any) and path (glob, or regex if it starts
        with ^) answer `status`, or drop the connection, or answer late."""
        body = {
            "method": method,
            "path": path,
            "status": status,
            "drop": drop,
            "count": count,
            "retry_after": retry_after,
            "delay_ms": delay_ms,
            "errors": errors,
        }
        return self._control("POST", "/faults", body)

    def clear_faults(self) -> None:
        self._control("DELETE", "/faults")


def _fixtures():
    try:
        import pytest
    except ImportError:  # harness used outside pytest, e.g. by benchmarks
        return None, None, None

    @pytest.fixture(scope="session")
    def _cfemu_shared():
        with Emulator() as emu:
            yield emu

    @pytest.fixture
    def cfemu(_cfemu_shared):
        """A default-seeded emulator whose state, request log and faults are fresh for this test."""
        _cfemu_shared.reset()
        yield _cfemu_shared

    @pytest.fixture
    def cfemu_factory():
        """Start own emulators: cfemu_factory(seed=dict|path, latency_ms=0, rate_limit="COUNT/SECONDS")."""
        started = []

        def factory(seed=None, latency_ms: int = 0, rate_limit: str | None = None) -> Emulator:
            emu = Emulator(seed=seed, latency_ms=latency_ms, rate_limit=rate_limit).start()
            started.append(emu)
            return emu

        yield factory
        for emu in started:
            emu.stop()

    return _cfemu_shared, cfemu, cfemu_factory


_cfemu_shared, cfemu, cfemu_factory = _fixtures()

__all__ = ["Emulator", "EmulatorError", "cfemu", "cfemu_factory"]
