#!/usr/bin/env python
"""cfemu: a local, strict emulator of the parts of Cloudflare's v4 API that tunnelops.cloudflare uses.

Usage: python tests/emulator/cfemu.py --listen 127.0.0.1:0 --seed SEED.yml [--latency-ms N] [--rate-limit COUNT/SECONDS]

It prints one line ``cfemu listening on http://HOST:PORT/client/v4`` once it accepts connections. See README.md.
"""

from __future__ import annotations

import argparse
import collections
import fnmatch
import itertools
import json
import math
import re
import signal
import socket
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

sys.path.insert(0, str(Path(__file__).resolve().parent))

import contextlib

import yaml
from emu_core import HEX32, ApiError
from emu_store import Store

API_PREFIX = "/client/v4"
CONTROL_PREFIX = "/__emulator__"

TUNNEL_R, TUNNEL_W = "Cloudflare Tunnel Read", "Cloudflare Tunnel Write"
ZONE_R = "Zone Read"
DNS_R, DNS_W = "DNS Read", "DNS Write"
POOLS_R, POOLS_W = "Load Balancing: Monitors and Pools Read", "Load Balancing: Monitors and Pools Write"
LB_R, LB_W = "Load Balancers Read", "Load Balancers Write"

# (method, path template, Store method, permission). A permission of None means "any valid credential".
ROUTES = [
    ("GET", "/user/tokens/verify", "verify_token", None),
    ("GET", "/accounts", "list_accounts", None),
    ("GET", "/accounts/{account_id}", "read_account", None),
    ("GET", "/accounts/{account_id}/cfd_tunnel", "list_tunnels", TUNNEL_R),
    ("POST", "/accounts/{account_id}/cfd_tunnel", "create_tunnel", TUNNEL_W),
    ("GET", "/accounts/{account_id}/cfd_tunnel/{tunnel_id}", "read_tunnel", TUNNEL_R),
    ("PATCH", "/accounts/{account_id}/cfd_tunnel/{tunnel_id}", "patch_tunnel", TUNNEL_W),
    ("DELETE", "/accounts/{account_id}/cfd_tunnel/{tunnel_id}", "delete_tunnel", TUNNEL_W),
    ("GET", "/accounts/{account_id}/cfd_tunnel/{tunnel_id}/token", "get_token", TUNNEL_R),
    ("GET", "/accounts/{account_id}/cfd_tunnel/{tunnel_id}/connections", "list_connections", TUNNEL_R),
    ("DELETE", "/accounts/{account_id}/cfd_tunnel/{tunnel_id}/connections", "cleanup_connections", TUNNEL_W),
    ("GET", "/accounts/{account_id}/cfd_tunnel/{tunnel_id}/connectors/{connector_id}", "get_connector", TUNNEL_R),
    ("GET", "/accounts/{account_id}/cfd_tunnel/{tunnel_id}/configurations", "get_configuration", TUNNEL_R),
    ("PUT", "/accounts/{account_id}/cfd_tunnel/{tunnel_id}/configurations", "put_configuration", TUNNEL_W),
    ("GET", "/accounts/{account_id}/teamnet/routes", "list_routes", TUNNEL_R),
    ("POST", "/accounts/{account_id}/teamnet/routes", "create_route", TUNNEL_W),
    ("GET", "/accounts/{account_id}/teamnet/routes/{route_id}", "read_route", TUNNEL_R),
    ("PATCH", "/accounts/{account_id}/teamnet/routes/{route_id}", "patch_route", TUNNEL_W),
    ("DELETE", "/accounts/{account_id}/teamnet/routes/{route_id}", "delete_route", TUNNEL_W),
    ("GET", "/accounts/{account_id}/teamnet/virtual_networks", "list_vnets", TUNNEL_R),
    ("GET", "/accounts/{account_id}/load_balancers/pools", "list_pools", POOLS_R),
    ("POST", "/accounts/{account_id}/load_balancers/pools", "create_pool", POOLS_W),
    ("GET", "/accounts/{account_id}/load_balancers/pools/{pool_id}", "read_pool", POOLS_R),
    ("PUT", "/accounts/{account_id}/load_balancers/pools/{pool_id}", "put_pool", POOLS_W),
    ("PATCH", "/accounts/{account_id}/load_balancers/pools/{pool_id}", "patch_pool", POOLS_W),
    ("DELETE", "/accounts/{account_id}/load_balancers/pools/{pool_id}", "delete_pool", POOLS_W),
    ("GET", "/zones", "list_zones", ZONE_R),
    ("GET", "/zones/{zone_id}", "read_zone", ZONE_R),
    ("GET", "/zones/{zone_id}/dns_records", "list_records", DNS_R),
    ("POST", "/zones/{zone_id}/dns_records", "create_record", DNS_W),
    ("POST", "/zones/{zone_id}/dns_records/batch", "batch_records", DNS_W),
    ("GET", "/zones/{zone_id}/dns_records/{record_id}", "read_record", DNS_R),
    ("PUT", "/zones/{zone_id}/dns_records/{record_id}", "put_record", DNS_W),
    ("PATCH", "/zones/{zone_id}/dns_records/{record_id}", "patch_record", DNS_W),
    ("DELETE", "/zones/{zone_id}/dns_records/{record_id}", "delete_record", DNS_W),
    ("GET", "/zones/{zone_id}/load_balancers", "list_lbs", LB_R),
    ("POST", "/zones/{zone_id}/load_balancers", "create_lb", LB_W),
    ("GET", "/zones/{zone_id}/load_balancers/{lb_id}", "read_lb", LB_R),
    ("PUT", "/zones/{zone_id}/load_balancers/{lb_id}", "put_lb", LB_W),
    ("PATCH", "/zones/{zone_id}/load_balancers/{lb_id}", "patch_lb", LB_W),
    ("DELETE", "/zones/{zone_id}/load_balancers/{lb_id}", "delete_lb", LB_W),
]


def _compile(template: str) -> re.Pattern:
    return re.compile("^" + re.sub(r"\{(\w+)\}", r"(?P<\1>[^/]+)", template) + "$")


COMPILED_ROUTES = [(method, _compile(template), handler, perm) for method, template, handler, perm in ROUTES]


class Context:
    """One API request as the Store handlers see it."""

    def __init__(self, params, query, body, principal):
        self.params = params
        self.query = query
        self.body = body
        self.principal = principal
        self.account = params.get("account_id")
        self.zone = params.get("zone_id")


class RateLimiter:
    """Sliding window per credential: at most `count` answered requests within any `seconds` window."""

    def __init__(self, count: int, seconds: int):
        self.count = count
        self.seconds = seconds
        self.lock = threading.Lock()
        self.seen = collections.defaultdict(collections.deque)

    def check(self, key: str):
        """Return (allowed, headers)."""
        with self.lock:
            moment = time.monotonic()
            window = self.seen[key]
            while window and window[0] <= moment - self.seconds:
                window.popleft()
            reset = math.ceil(window[0] + self.seconds - moment) if window else self.seconds
            headers = {"Ratelimit-Policy": f'"default";q={self.count};w={self.seconds}'}
            if len(window) >= self.count:
                headers["Ratelimit"] = f'"default";r=0;t={max(reset, 1)}'
                headers["Retry-After"] = str(max(reset, 1))
                return False, headers
            window.append(moment)
            headers["Ratelimit"] = f'"default";r={self.count - len(window)};t={max(reset, 1)}'
            return True, headers

    def clear(self) -> None:
        with self.lock:
            self.seen.clear()


class Faults:
    """Injected failures: the next N requests matching a method and a path pattern misbehave."""

    def __init__(self):
        self.lock = threading.Lock()
        self.items = []
        self.ids = itertools.count(1)

    def add(self, spec: dict) -> dict:
        method = str(spec.get("method") or "*").upper()
        pattern = str(spec.get("path") or "*")
        status = spec.get("status")
        if status is not None and not (isinstance(status, int) and 100 <= status <= 599):
            raise ValueError("status must be an HTTP status code")
        if status is None and not spec.get("drop") and not spec.get("delay_ms"):
            raise ValueError("a fault needs status, drop or delay_ms")
        if int(spec.get("count", 1)) < 1:
            raise ValueError("count must be at least 1")
        matcher = re.compile(pattern) if pattern.startswith("^") else None
        fault = {
            "id": next(self.ids),
            "method": method,
            "path": pattern,
            "status": status,
            "retry_after": spec.get("retry_after"),
            "drop": bool(spec.get("drop")),
            "delay_ms": int(spec.get("delay_ms") or 0),
            "count": int(spec.get("count", 1)),
            "errors": spec.get("errors"),
            "_matcher": matcher,
        }
        with self.lock:
            self.items.append(fault)
        return {k: v for k, v in fault.items() if not k.startswith("_")}

    def take(self, method: str, path: str):
        with self.lock:
            for fault in self.items:
                if fault["method"] not in ("*", method):
                    continue
                matcher = fault["_matcher"]
                hit = matcher.search(path) if matcher else fnmatch.fnmatchcase(path, fault["path"])
                if not hit:
                    continue
                fault["count"] -= 1
                if fault["count"] <= 0:
                    self.items.remove(fault)
                return fault
        return None

    def listing(self) -> list:
        with self.lock:
            return [{k: v for k, v in f.items() if not k.startswith("_")} for f in self.items]

    def clear(self) -> None:
        with self.lock:
            self.items.clear()


class Emulator:
    """Server-wide state shared by the request handler threads."""

    def __init__(self, seed: dict, latency_ms: int = 0, rate_limit: tuple[int, int] | None = None):
        self.store = Store(seed)
        self.latency = latency_ms / 1000.0
        self.limiter = RateLimiter(*rate_limit) if rate_limit else None
        self.faults = Faults()
        self.log_lock = threading.Lock()
        self.log = []
        self.seq = itertools.count(1)

    def record(self, entry: dict) -> None:
        with self.log_lock:
            entry["seq"] = next(self.seq)
            self.log.append(entry)

    def reset(self) -> None:
        with self.store.lock:
            self.store.load()
        with self.log_lock:
            self.log.clear()
        self.faults.clear()
        if self.limiter:
            self.limiter.clear()

    # --- authentication and authorisation --------------------------------------------------------------------

    def credential_key(self, headers, client_ip: str) -> str:
        auth = headers.get("Authorization")
        if auth:
            return "token:" + auth.strip()
        if headers.get("X-Auth-Email"):
            return "user:" + headers["X-Auth-Email"].strip().lower()
        return "ip:" + client_ip

    def authenticate(self, headers) -> dict:
        store = self.store
        auth = headers.get("Authorization")
        email = headers.get("X-Auth-Email")
        key = headers.get("X-Auth-Key")
        if auth is not None:
            match = re.match(r"^Bearer\s+(\S+)\s*$", auth)
            if not match:
                raise ApiError(
                    400,
                    6003,
                    "Invalid request headers",
                    chain=[{"code": 6111, "message": "Invalid format for Authorization header"}],
                )
            token = store.tokens.get(match.group(1))
            if token is None or token["status"] != "active":
                raise ApiError(403, 10000, "Authentication error")
            return {"kind": "token", **token}
        if email is not None or key is not None:
            if not email or not key:
                raise ApiError(
                    400,
                    6003,
                    "Invalid request headers",
                    chain=[
                        {
                            "code": 6102 if not email else 6103,
                            "message": "Invalid format for X-Auth-" + ("Email header" if not email else "Key header"),
                        }
                    ],
                )
            if (email.strip().lower(), key.strip()) not in store.api_keys:
                raise ApiError(403, 9103, "Unknown X-Auth-Key or X-Auth-Email")
            return {"kind": "key", "permissions": None, "accounts": None, "zones": None}
        raise ApiError(400, 9106, "Missing X-Auth-Key, X-Auth-Email or Authorization headers")

    def authorise(self, principal: dict, permission: str | None, params: dict, path: str) -> None:
        store = self.store
        account = params.get("account_id")
        zone = params.get("zone_id")
        if account is not None:
            if not HEX32.match(account):
                raise store.route_error(path)
            if account not in store.accounts:
                raise ApiError(403, 10000, "Authentication error")
            if principal["accounts"] is not None and account not in principal["accounts"]:
                raise ApiError(403, 10000, "Authentication error")
        if zone is not None:
            if not HEX32.match(zone):
                raise store.route_error(path)
            if zone not in store.zones:
                raise ApiError(403, 10000, "Authentication error")
            if principal["zones"] is not None and zone not in principal["zones"]:
                raise ApiError(403, 10000, "Authentication error")
        if permission and principal["permissions"] is not None and permission not in principal["permissions"]:
            raise ApiError(403, 10000, "Authentication error")

    # --- API dispatch ----------------------------------------------------------------------------------------

    def handle_api(self, method: str, path: str, query: dict, raw_body: bytes, headers):
        """Return (status, envelope, extra headers). Raises nothing."""
        extra = {}
        try:
            body = None
            if raw_body:
                try:
                    body = json.loads(raw_body)
                except ValueError:
                    raise ApiError(400, 9207, "Request body is invalid.") from None
            match = None
            allowed = False
            for route_method, pattern, handler, permission in COMPILED_ROUTES:
                found = pattern.match(path)
                if found:
                    allowed = True
                    if route_method == method:
                        match = (found, handler, permission)
                        break
            principal = self.authenticate(headers)
            if match is None:
                if allowed:
                    raise ApiError(405, 7001, f"Method {method} not available for that URI.")
                raise ApiError(404, 7000, "No route for that URI")
            found, handler, permission = match
            params = {k: v.lower() if k.endswith("_id") else v for k, v in found.groupdict().items()}
            self.authorise(principal, permission, params, path)
            ctx = Context(params, query, body, principal)
            function = getattr(self.store, handler, None)
            if function is None:
                raise ApiError(404, 7000, "No route for that URI")
            with self.store.lock:
                outcome = function(ctx)
            result, info = outcome if isinstance(outcome, tuple) else (outcome, None)
            envelope = {"success": True, "errors": [], "messages": [], "result": result}
            if info is not None:
                envelope["result_info"] = info
            return 200, envelope, extra
        except ApiError as exc:
            extra.update(exc.headers)
            return exc.status, {"success": False, "errors": exc.errors, "messages": [], "result": None}, extra
        except Exception as exc:
            message = f"Internal emulator error: {type(exc).__name__}: {exc}"
            return (
                500,
                {"success": False, "errors": [{"code": 10001, "message": message}], "messages": [], "result": None},
                extra,
            )


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # One buffered write per answer, sent without Nagle's delay: otherwise keep-alive clients wait for a delayed
    # ACK (~40 ms) on every request, which would distort benchmarks.
    disable_nagle_algorithm = True
    wbufsize = 1 << 16
    server_version = "cfemu"
    sys_version = ""

    def log_message(self, format, *args):
        return

    def do_GET(self):
        self.dispatch("GET")

    def do_POST(self):
        self.dispatch("POST")

    def do_PUT(self):
        self.dispatch("PUT")

    def do_PATCH(self):
        self.dispatch("PATCH")

    def do_DELETE(self):
        self.dispatch("DELETE")

    @property
    def emu(self) -> Emulator:
        return self.server.emulator

    def read_body(self) -> bytes:
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def send_json(self, status: int, payload, headers=None) -> None:
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)

    def dispatch(self, method: str) -> None:
        parts = urlsplit(self.path)
        raw_body = self.read_body()
        if parts.path.startswith(CONTROL_PREFIX + "/"):
            self.control(method, parts.path[len(CONTROL_PREFIX) :], parse_qs(parts.query), raw_body)
            return
        self.api(method, parts, raw_body)

    def api(self, method: str, parts, raw_body: bytes) -> None:
        emu = self.emu
        query = parse_qs(parts.query, keep_blank_values=True)
        path = parts.path[len(API_PREFIX) :] if parts.path.startswith(API_PREFIX + "/") else parts.path
        entry = {"method": method, "path": path, "query": query, "time": time.time(), "body": None}
        if raw_body:
            try:
                entry["body"] = json.loads(raw_body)
            except ValueError:
                entry["body"] = raw_body.decode(errors="replace")
        fault = emu.faults.take(method, path)
        if fault and fault["delay_ms"]:
            time.sleep(fault["delay_ms"] / 1000.0)
        if fault and fault["drop"]:
            entry.update(status=None, dropped=True, fault=fault["id"])
            emu.record(entry)
            self.close_connection = True
            with contextlib.suppress(OSError):
                self.connection.shutdown(socket.SHUT_RDWR)
            return
        if emu.latency:
            time.sleep(emu.latency)
        if fault and fault["status"]:
            status = fault["status"]
            errors = fault["errors"] or [
                {
                    "code": 971 if status == 429 else 10001 if status >= 500 else 1000,
                    "message": "Please wait and consider throttling your request speed"
                    if status == 429
                    else "Injected fault",
                }
            ]
            headers = {}
            if status == 429 or fault["retry_after"] is not None:
                headers["Retry-After"] = str(fault["retry_after"] if fault["retry_after"] is not None else 1)
            entry.update(status=status, fault=fault["id"])
            emu.record(entry)
            self.send_json(status, {"success": False, "errors": errors, "messages": [], "result": None}, headers)
            return
        headers = {}
        if not parts.path.startswith(API_PREFIX + "/"):
            status, envelope = (
                404,
                {
                    "success": False,
                    "errors": [{"code": 7000, "message": "No route for that URI"}],
                    "messages": [],
                    "result": None,
                },
            )
        else:
            if emu.limiter:
                allowed, headers = emu.limiter.check(emu.credential_key(self.headers, self.client_address[0]))
                if not allowed:
                    entry.update(status=429)
                    emu.record(entry)
                    self.send_json(
                        429,
                        {
                            "success": False,
                            "errors": [
                                {"code": 971, "message": "Please wait and consider throttling your request speed"}
                            ],
                            "messages": [],
                            "result": None,
                        },
                        headers,
                    )
                    return
            status, envelope, extra = emu.handle_api(method, path, query, raw_body, self.headers)
            headers.update(extra)
        entry["status"] = status
        emu.record(entry)
        self.send_json(status, envelope, headers)

    # --- control surface -------------------------------------------------------------------------------------

    def control(self, method: str, path: str, query: dict, raw_body: bytes) -> None:
        emu = self.emu
        try:
            body = json.loads(raw_body) if raw_body else {}
        except ValueError:
            self.send_json(400, {"error": "body is not JSON"})
            return
        connectors = re.match(r"^/tunnels/([^/]+)/connectors(?:/([^/]+))?$", path)
        try:
            if method == "GET" and path == "/requests":
                with emu.log_lock:
                    payload = list(emu.log)
                if query.get("clear", ["false"])[-1].lower() == "true":
                    with emu.log_lock:
                        emu.log.clear()
                self.send_json(200, payload)
            elif method == "POST" and path == "/requests/clear":
                with emu.log_lock:
                    emu.log.clear()
                self.send_json(200, {"ok": True})
            elif method == "POST" and path == "/reset":
                emu.reset()
                self.send_json(200, {"ok": True})
            elif method == "GET" and path == "/state":
                with emu.store.lock:
                    self.send_json(200, emu.store.snapshot())
            elif method == "GET" and path == "/health":
                self.send_json(200, {"ok": True})
            elif connectors and method == "POST" and connectors.group(2) is None:
                with emu.store.lock:
                    result = emu.store.add_connector(connectors.group(1), body)
                self.send_json(200, result)
            elif connectors and method == "DELETE" and connectors.group(2):
                keep = query.get("pending", ["false"])[-1].lower() == "true"
                with emu.store.lock:
                    emu.store.remove_connector(connectors.group(1), connectors.group(2), keep_pending=keep)
                self.send_json(200, {"ok": True})
            elif method == "POST" and path == "/faults":
                self.send_json(200, emu.faults.add(body))
            elif method == "GET" and path == "/faults":
                self.send_json(200, emu.faults.listing())
            elif method == "DELETE" and path == "/faults":
                emu.faults.clear()
                self.send_json(200, {"ok": True})
            else:
                self.send_json(404, {"error": f"no control endpoint {method} {path}"})
        except ApiError as exc:
            self.send_json(exc.status, {"error": exc.errors[0]["message"]})
        except (ValueError, TypeError) as exc:
            self.send_json(400, {"error": str(exc)})


class Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128

    def handle_error(self, request, client_address):
        # A client that hangs up mid-answer (timeouts, dropped faults) is normal here, not worth a traceback.
        if isinstance(sys.exc_info()[1], (ConnectionError, TimeoutError)):
            return
        super().handle_error(request, client_address)


def parse_rate_limit(text: str) -> tuple[int, int]:
    match = re.match(r"^(\d+)/(\d+)$", text or "")
    if not match or int(match.group(1)) < 1 or int(match.group(2)) < 1:
        raise argparse.ArgumentTypeError("expected COUNT/SECONDS, for example 1200/300")
    return int(match.group(1)), int(match.group(2))


def parse_listen(text: str) -> tuple[str, int]:
    host, _ignored, port = text.rpartition(":")
    if not host or not port.isdigit():
        raise argparse.ArgumentTypeError("expected HOST:PORT, for example 127.0.0.1:0")
    return host.strip("[]"), int(port)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description="Local emulator of Cloudflare's v4 API for tests.")
    parser.add_argument("--listen", type=parse_listen, default=("127.0.0.1", 0))
    parser.add_argument("--seed", type=Path, required=True)
    parser.add_argument("--latency-ms", type=int, default=0)
    parser.add_argument("--rate-limit", type=parse_rate_limit, default=None)
    args = parser.parse_args(argv)

    try:
        seed = yaml.safe_load(args.seed.read_text(encoding="utf-8"))
        emulator = Emulator(seed, latency_ms=args.latency_ms, rate_limit=args.rate_limit)
    except (OSError, yaml.YAMLError, ValueError, KeyError, TypeError, ApiError) as exc:
        print(f"cfemu: cannot load seed {args.seed}: {exc}", file=sys.stderr)
        return 2

    server = Server(args.listen, Handler)
    server.emulator = emulator

    def stop(signum, frame):
        raise SystemExit(0)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    host, port = server.server_address[:2]
    print(f"cfemu listening on http://{host}:{port}{API_PREFIX}", flush=True)
    try:
        server.serve_forever(poll_interval=0.2)
    except SystemExit:
        pass
    finally:
        server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
