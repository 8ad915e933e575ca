"""Named tunnels (/accounts/{a}/cfd_tunnel), their connectors, tokens and remote configurations."""

from __future__ import annotations

import base64
import json
import os

from emu_core import (
    UUID_RE,
    ApiError,
    check_type,
    decode_secret,
    field,
    now,
    paginate,
    parse_time,
    qbool,
    qget,
    require_object,
    stamp,
    uuid_id,
)

# Error codes of the tunnel API. 1013 (duplicate name) and 1022 (active connections) come from the reference;
# the others are not documented anywhere we could check and are chosen by the emulator (see README).
TUNNEL_BAD_REQUEST = 1001
TUNNEL_NOT_FOUND = 1002
TUNNEL_NAME_CONFLICT = 1013
TUNNEL_HAS_CONNECTIONS = 1022
TUNNEL_DELETED = 1023
TUNNEL_NOT_REMOTE = 1055

ORIGIN_DURATIONS = ("connectTimeout", "tlsTimeout", "tcpKeepAlive", "keepAliveTimeout")
STATUSES = ("inactive", "degraded", "healthy", "down")


def tunnel_token(account: str, tunnel_id: str, secret: str) -> str:
    payload = json.dumps({"a": account, "t": tunnel_id, "s": secret}, separators=(",", ":"))
    return base64.b64encode(payload.encode()).decode()


class TunnelsMixin:
    """Tunnel endpoints. Every method runs with the store lock held by the dispatcher."""

    # --- internal helpers ------------------------------------------------------------------------------------

    def new_tunnel(
        self,
        account: str,
        name: str,
        secret: str | None = None,
        tunnel_id: str | None = None,
        config_src: str = "local",
        created_at=None,
    ) -> dict:
        tunnel = {
            "id": tunnel_id or uuid_id(),
            "account": account,
            "name": name,
            "created_at": created_at or now(),
            "deleted_at": None,
            "secret": secret or base64.b64encode(os.urandom(32)).decode(),
            "config_src": config_src,
            "connectors": {},
            "ever_connected": False,
            "active_periods": [],
            "conns_active_at": None,
            "conns_inactive_at": None,
            "config": {"version": 0, "config": None, "created_at": None},
        }
        self.tunnels[tunnel["id"]] = tunnel
        return tunnel

    def tunnel_status(self, tunnel: dict) -> str:
        connectors = list(tunnel["connectors"].values())
        live = [c for conn in connectors for c in conn["conns"] if not c["is_pending_reconnect"]]
        if not live:
            return "down" if tunnel["ever_connected"] else "inactive"
        for connector in connectors:
            connector_live = [c for c in connector["conns"] if not c["is_pending_reconnect"]]
            if len(connector_live) < connector["expected_connections"]:
                return "degraded"
        return "healthy"

    def update_activity(self, tunnel: dict) -> None:
        """Keep conns_active_at / conns_inactive_at and the activity history in step with the connectors."""
        live = any(not c["is_pending_reconnect"] for conn in tunnel["connectors"].values() for c in conn["conns"])
        active_now = bool(tunnel["active_periods"]) and tunnel["active_periods"][-1][1] is None
        moment = now()
        if live and not active_now:
            tunnel["ever_connected"] = True
            tunnel["active_periods"].append([moment, None])
            tunnel["conns_active_at"] = moment
            tunnel["conns_inactive_at"] = None
        elif not live and active_now:
            tunnel["active_periods"][-1][1] = moment
            tunnel["conns_active_at"] = None
            tunnel["conns_inactive_at"] = moment

    def render_connection(self, connector: dict, conn: dict) -> dict:
        return {
            "id": conn["id"],
            "uuid": conn["id"],
            "colo_name": conn["colo_name"],
            "is_pending_reconnect": conn["is_pending_reconnect"],
            "origin_ip": conn["origin_ip"],
            "opened_at": stamp(conn["opened_at"]),
            "client_id": connector["id"],
            "client_version": connector["version"],
        }

    def render_connector(self, connector: dict) -> dict:
        return {
            "id": connector["id"],
            "features": list(connector["features"]),
            "version": connector["version"],
            "arch": connector["arch"],
            "run_at": stamp(connector["run_at"]),
            "config_version": connector["config_version"],
            "conns": [self.render_connection(connector, c) for c in connector["conns"]],
        }

    def render_tunnel(self, tunnel: dict) -> dict:
        connections = [
            self.render_connection(connector, conn)
            for connector in tunnel["connectors"].values()
            for conn in connector["conns"]
        ]
        return {
            "id": tunnel["id"],
            "account_tag": tunnel["account"],
            "name": tunnel["name"],
            "created_at": stamp(tunnel["created_at"]),
            "deleted_at": stamp(tunnel["deleted_at"]) if tunnel["deleted_at"] else None,
            "connections": connections,
            "conns_active_at": stamp(tunnel["conns_active_at"]) if tunnel["conns_active_at"] else None,
            "conns_inactive_at": stamp(tunnel["conns_inactive_at"]) if tunnel["conns_inactive_at"] else None,
            "metadata": {},
            "remote_config": tunnel["config_src"] == "cloudflare",
            "config_src": tunnel["config_src"],
            "status": self.tunnel_status(tunnel),
            "tun_type": "cfd_tunnel",
        }

    def get_tunnel(self, account: str, tunnel_id: str, live: bool = False) -> dict:
        tunnel = self.tunnels.get(tunnel_id.lower()) if isinstance(tunnel_id, str) else None
        if tunnel is None or tunnel["account"] != account:
            raise ApiError(404, TUNNEL_NOT_FOUND, "Tunnel not found")
        if live and tunnel["deleted_at"]:
            raise ApiError(400, TUNNEL_DELETED, f"Tunnel {tunnel['id']} has been deleted")
        return tunnel

    def live_name_taken(self, account: str, name: str, except_id: str | None = None) -> bool:
        return any(
            t["account"] == account and t["name"] == name and not t["deleted_at"] and t["id"] != except_id
            for t in self.tunnels.values()
        )

    def valid_secret(self, value) -> str:
        check_type(value, str, "tunnel_secret", TUNNEL_BAD_REQUEST)
        raw = decode_secret(value)
        if raw is None:
            raise ApiError(400, TUNNEL_BAD_REQUEST, "tunnel_secret must be base64 encoded")
        if len(raw) < 32:
            raise ApiError(400, TUNNEL_BAD_REQUEST, "tunnel_secret must be at least 32 bytes long once decoded")
        return value

    def valid_name(self, body: dict) -> str:
        name = field(body, "name", str, TUNNEL_BAD_REQUEST, required=True)
        if not name.strip():
            raise ApiError(400, TUNNEL_BAD_REQUEST, "Tunnel name must not be empty")
        if len(name) > 255:
            raise ApiError(400, TUNNEL_BAD_REQUEST, "Tunnel name must be at most 255 characters long")
        return name

    # --- endpoints -------------------------------------------------------------------------------------------

    def list_tunnels(self, ctx):
        query = ctx.query
        items = [t for t in self.tunnels.values() if t["account"] == ctx.account]
        name = qget(query, "name")
        prefix = qget(query, "include_prefix") or qget(query, "name_prefix")
        exclude = qget(query, "exclude_prefix")
        is_deleted = qbool(query, "is_deleted")
        tunnel_uuid = qget(query, "uuid")
        status = qget(query, "status")
        if status is not None and status not in STATUSES:
            raise ApiError(400, TUNNEL_BAD_REQUEST, f"Invalid value for status: must be one of {', '.join(STATUSES)}")
        existed_at = qget(query, "existed_at")
        was_active_at = qget(query, "was_active_at")
        was_inactive_at = qget(query, "was_inactive_at")
        if name is not None:
            items = [t for t in items if t["name"] == name]
        if prefix:
            items = [t for t in items if t["name"].startswith(prefix)]
        if exclude:
            items = [t for t in items if not t["name"].startswith(exclude)]
        if is_deleted is not None:
            items = [t for t in items if bool(t["deleted_at"]) == is_deleted]
        if tunnel_uuid:
            items = [t for t in items if t["id"] == tunnel_uuid.lower()]
        if status:
            items = [t for t in items if self.tunnel_status(t) == status]
        if existed_at:
            moment = parse_time(existed_at, "existed_at")
            items = [
                t for t in items if t["created_at"] <= moment and (not t["deleted_at"] or t["deleted_at"] > moment)
            ]
        if was_active_at:
            moment = parse_time(was_active_at, "was_active_at")
            items = [t for t in items if self._active_at(t, moment)]
        if was_inactive_at:
            moment = parse_time(was_inactive_at, "was_inactive_at")
            items = [t for t in items if t["created_at"] <= moment and not self._active_at(t, moment)]
        items.sort(key=lambda t: (t["created_at"], t["id"]))
        chunk, info = paginate(items, query, 20, 1, 1000)
        return [self.render_tunnel(t) for t in chunk], info

    @staticmethod
    def _active_at(tunnel: dict, moment) -> bool:
        return any(start <= moment and (end is None or end > moment) for start, end in tunnel["active_periods"])

    def create_tunnel(self, ctx):
        body = require_object(ctx.body, TUNNEL_BAD_REQUEST)
        name = self.valid_name(body)
        config_src = field(body, "config_src", str, TUNNEL_BAD_REQUEST, default="local")
        if config_src not in ("local", "cloudflare"):
            raise ApiError(400, TUNNEL_BAD_REQUEST, "Invalid value for config_src: must be 'local' or 'cloudflare'")
        secret = body.get("tunnel_secret")
        if secret is not None:
            secret = self.valid_secret(secret)
        if self.live_name_taken(ctx.account, name):
            raise ApiError(409, TUNNEL_NAME_CONFLICT, "You already have a tunnel with this name.")
        tunnel = self.new_tunnel(ctx.account, name, secret=secret, config_src=config_src)
        result = self.render_tunnel(tunnel)
        if config_src == "cloudflare":
            result["token"] = tunnel_token(tunnel["account"], tunnel["id"], tunnel["secret"])
        return result

    def read_tunnel(self, ctx):
        return self.render_tunnel(self.get_tunnel(ctx.account, ctx.params["tunnel_id"]))

    def patch_tunnel(self, ctx):
        tunnel = self.get_tunnel(ctx.account, ctx.params["tunnel_id"], live=True)
        body = require_object(ctx.body, TUNNEL_BAD_REQUEST)
        name = self.valid_name(body) if "name" in body and body["name"] is not None else None
        secret = self.valid_secret(body["tunnel_secret"]) if body.get("tunnel_secret") is not None else None
        if name is not None and self.live_name_taken(ctx.account, name, except_id=tunnel["id"]):
            raise ApiError(409, TUNNEL_NAME_CONFLICT, "You already have a tunnel with this name.")
        if name is not None:
            tunnel["name"] = name
        if secret is not None:
            tunnel["secret"] = secret
        return self.render_tunnel(tunnel)

    def delete_tunnel(self, ctx):
        tunnel = self.get_tunnel(ctx.account, ctx.params["tunnel_id"], live=True)
        cascade = qbool(ctx.query, "cascade") or False
        live = any(not c["is_pending_reconnect"] for conn in tunnel["connectors"].values() for c in conn["conns"])
        routes = [r for r in self.routes.values() if r["tunnel_id"] == tunnel["id"] and not r["deleted_at"]]
        if live and not cascade:
            raise ApiError(
                400,
                TUNNEL_HAS_CONNECTIONS,
                "Cannot delete tunnel because it has active connections. Stop its connectors or clean them up "
                "first, or delete with cascade=true.",
            )
        if routes and not cascade:
            raise ApiError(
                400,
                TUNNEL_HAS_CONNECTIONS,
                f"Cannot delete tunnel because {len(routes)} private network route(s) still point at it. Delete "
                "them first, or delete with cascade=true.",
            )
        moment = now()
        for route in routes:
            route["deleted_at"] = moment
        tunnel["connectors"].clear()
        self.update_activity(tunnel)
        tunnel["deleted_at"] = moment
        return self.render_tunnel(tunnel)

    def get_token(self, ctx):
        tunnel = self.get_tunnel(ctx.account, ctx.params["tunnel_id"], live=True)
        return tunnel_token(tunnel["account"], tunnel["id"], tunnel["secret"])

    def list_connections(self, ctx):
        tunnel = self.get_tunnel(ctx.account, ctx.params["tunnel_id"])
        return [self.render_connector(c) for c in tunnel["connectors"].values()]

    def get_connector(self, ctx):
        tunnel = self.get_tunnel(ctx.account, ctx.params["tunnel_id"])
        connector = tunnel["connectors"].get(ctx.params["connector_id"].lower())
        if connector is None:
            raise ApiError(404, TUNNEL_NOT_FOUND, "Connector not found")
        return self.render_connector(connector)

    def cleanup_connections(self, ctx):
        tunnel = self.get_tunnel(ctx.account, ctx.params["tunnel_id"], live=True)
        client_id = qget(ctx.query, "client_id")
        if client_id:
            tunnel["connectors"].pop(client_id.lower(), None)
        else:
            tunnel["connectors"].clear()
        self.update_activity(tunnel)
        return None

    def render_configuration(self, tunnel: dict) -> dict:
        config = tunnel["config"]
        return {
            "tunnel_id": tunnel["id"],
            "account_id": tunnel["account"],
            "version": config["version"],
            "config": config["config"],
            "source": tunnel["config_src"],
            "created_at": stamp(config["created_at"]) if config["created_at"] else None,
        }

    def get_configuration(self, ctx):
        return self.render_configuration(self.get_tunnel(ctx.account, ctx.params["tunnel_id"]))

    def put_configuration(self, ctx):
        tunnel = self.get_tunnel(ctx.account, ctx.params["tunnel_id"], live=True)
        if tunnel["config_src"] != "cloudflare":
            raise ApiError(
                400,
                TUNNEL_NOT_REMOTE,
                "Tunnel is locally managed (config_src local); its configuration lives in the connector's config "
                "file and cannot be set through the API.",
            )
        body = require_object(ctx.body, TUNNEL_BAD_REQUEST)
        config = field(body, "config", dict, TUNNEL_BAD_REQUEST, required=True)
        validate_remote_config(config)
        tunnel["config"] = {"version": tunnel["config"]["version"] + 1, "config": config, "created_at": now()}
        return self.render_configuration(tunnel)

    # --- control surface -------------------------------------------------------------------------------------

    def add_connector(self, tunnel_id: str, spec: dict) -> dict:
        tunnel = self.tunnels.get(str(tunnel_id).lower())
        if tunnel is None or tunnel["deleted_at"]:
            raise ApiError(404, TUNNEL_NOT_FOUND, "Tunnel not found or deleted")
        self.check_connector_credentials(tunnel, spec)
        client_id = str(spec.get("client_id") or uuid_id()).lower()
        colos = list(spec.get("colos") or ["AMS", "FRA"])
        pending = list(spec.get("pending_colos") or [])
        origin_ip = spec.get("origin_ip") or "192.0.2.10"
        moment = now()
        conns = [
            {
                "id": uuid_id(),
                "colo_name": colo,
                "is_pending_reconnect": colo_index >= len(colos),
                "origin_ip": origin_ip,
                "opened_at": moment,
            }
            for colo_index, colo in enumerate(colos + pending)
        ]
        tunnel["connectors"][client_id] = {
            "id": client_id,
            "version": spec.get("version") or "2026.8.2",
            "arch": spec.get("arch") or "linux_amd64",
            "features": list(spec.get("features") or ["serialized_headers", "support_datagram_v3"]),
            "run_at": moment,
            "config_version": int(spec.get("config_version") or tunnel["config"]["version"]),
            "expected_connections": int(spec.get("expected_connections") or len(colos) + len(pending)),
            "conns": conns,
        }
        self.update_activity(tunnel)
        return self.render_connector(tunnel["connectors"][client_id])

    @staticmethod
    def check_connector_credentials(tunnel: dict, spec: dict) -> None:
        """A connector that presents credentials (as a stand-in cloudflared does) must present the right ones."""
        token = spec.get("token")
        if token:
            try:
                decoded = json.loads(base64.b64decode(token))
            except ValueError:
                raise ApiError(403, 10000, "Connector token is not a valid tunnel token") from None
            if (decoded.get("a"), decoded.get("t"), decoded.get("s")) != (
                tunnel["account"],
                tunnel["id"],
                tunnel["secret"],
            ):
                raise ApiError(403, 10000, "Connector token does not match this tunnel")
        secret = spec.get("tunnel_secret")
        if secret is not None and decode_secret(secret) != decode_secret(tunnel["secret"]):
            raise ApiError(403, 10000, "Connector credentials do not match this tunnel (TunnelSecret)")
        account = spec.get("account_tag")
        if account is not None and str(account).lower() != tunnel["account"]:
            raise ApiError(403, 10000, "Connector credentials do not match this tunnel (AccountTag)")

    def remove_connector(self, tunnel_id: str, client_id: str, keep_pending: bool = False) -> None:
        tunnel = self.tunnels.get(str(tunnel_id).lower())
        if tunnel is None:
            raise ApiError(404, TUNNEL_NOT_FOUND, "Tunnel not found")
        connector = tunnel["connectors"].get(str(client_id).lower())
        if connector is None:
            raise ApiError(404, TUNNEL_NOT_FOUND, "Connector not found")
        if keep_pending:
            for conn in connector["conns"]:
                conn["is_pending_reconnect"] = True
        else:
            del tunnel["connectors"][connector["id"]]
        self.update_activity(tunnel)


def validate_remote_config(config: dict) -> None:
    """The checks the configurations endpoint makes: rule shape, catch-all last, integer-second durations."""
    ingress = config.get("ingress")
    if ingress is not None:
        check_type(ingress, list, "config.ingress", TUNNEL_BAD_REQUEST)
        for index, rule in enumerate(ingress, start=1):
            check_type(rule, dict, f"config.ingress[{index - 1}]", TUNNEL_BAD_REQUEST)
            service = rule.get("service")
            if not isinstance(service, str) or not service:
                raise ApiError(400, TUNNEL_BAD_REQUEST, f"Validation failed: rule #{index} has no service")
            for key in ("hostname", "path"):
                if rule.get(key) is not None:
                    check_type(rule[key], str, f"config.ingress[{index - 1}].{key}", TUNNEL_BAD_REQUEST)
            catch_all = rule.get("hostname") in (None, "", "*") and not rule.get("path")
            if catch_all and index != len(ingress):
                raise ApiError(
                    400,
                    TUNNEL_BAD_REQUEST,
                    f"Validation failed: Rule #{index} is matching the hostname '{rule.get('hostname') or ''}', but "
                    "this will match every hostname, meaning the rules which follow it will never be triggered.",
                )
            if not catch_all and index == len(ingress):
                raise ApiError(
                    400,
                    TUNNEL_BAD_REQUEST,
                    "Validation failed: The last ingress rule must match all URLs (i.e. it should not have a "
                    "hostname or path filter)",
                )
            if rule.get("originRequest") is not None:
                validate_origin_request(rule["originRequest"], f"config.ingress[{index - 1}].originRequest")
    if config.get("originRequest") is not None:
        validate_origin_request(config["originRequest"], "config.originRequest")
    if config.get("warp-routing") is not None:
        check_type(config["warp-routing"], dict, "config.warp-routing", TUNNEL_BAD_REQUEST)


def validate_origin_request(origin: dict, where: str) -> None:
    check_type(origin, dict, where, TUNNEL_BAD_REQUEST)
    for key in ORIGIN_DURATIONS:
        if key in origin:
            # The API (like cloudflared's JSON decoder) wants whole seconds; "30s" strings are refused.
            check_type(origin[key], int, f"{where}.{key}", TUNNEL_BAD_REQUEST)
    if "keepAliveConnections" in origin:
        check_type(origin["keepAliveConnections"], int, f"{where}.keepAliveConnections", TUNNEL_BAD_REQUEST)
    for key in ("noTLSVerify", "noHappyEyeballs", "disableChunkedEncoding", "http2Origin", "matchSNItoHost"):
        if key in origin:
            check_type(origin[key], bool, f"{where}.{key}", TUNNEL_BAD_REQUEST)


def looks_like_uuid(value: str) -> bool:
    return bool(UUID_RE.match(value.lower()))
