# Copyright (c) 2026 tunnelops maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Private helpers for named tunnels (cfd_tunnel): lookup, connectors, credentials."""

from __future__ import annotations

import base64
import binascii
import json
import re
import secrets
from collections import Counter

UUID_RE = re.compile(r"^[0-9a-fA-F]{8}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{12}$")
SECRET_BYTES = 32

# Fields of the tunnel object that the modules hand back, in Cloudflare's names.
TUNNEL_FIELDS = (
    "id",
    "name",
    "status",
    "created_at",
    "deleted_at",
    "conns_active_at",
    "conns_inactive_at",
    "tun_type",
    "account_tag",
)


class TunnelCredentialsError(ValueError):
    """The tunnel token could not be turned into credentials."""


def is_uuid(value) -> bool:
    """True when value parses as a UUID the way cloudflared parses one (with or without dashes)."""
    return isinstance(value, str) and bool(UUID_RE.match(value.strip()))


def tunnels_path(client, tunnel_id: str | None = None, suffix: str = "") -> str:
    path = f"/accounts/{client.account_id}/cfd_tunnel"
    if tunnel_id:
        path += f"/{tunnel_id}"
    return path + suffix


def find_tunnel(client, name: str | None = None, tunnel_id: str | None = None) -> dict | None:
    """The live (not deleted) tunnel with this name or id, or None; one list request with server-side filters."""
    query = {"is_deleted": "false", "per_page": 2}
    if tunnel_id:
        query["uuid"] = tunnel_id.strip().lower()
    elif name:
        query["name"] = name
    else:
        raise ValueError("find_tunnel needs a name or a tunnel_id")
    result = client.request("GET", tunnels_path(client), query=query) or []
    # The name filter is exact on Cloudflare's side; compare again so a lenient server cannot hand back a neighbour.
    for tunnel in result:
        if tunnel_id and tunnel.get("id", "").replace("-", "") == query["uuid"].replace("-", ""):
            return tunnel
        if not tunnel_id and tunnel.get("name") == name:
            return tunnel
    return None


def resolve_tunnel(client, name_or_id: str) -> dict | None:
    """Like cloudflared: an argument that parses as a UUID is an id, anything else a name."""
    if is_uuid(name_or_id):
        return find_tunnel(client, tunnel_id=name_or_id)
    return find_tunnel(client, name=name_or_id)


def list_tunnels(client, query: dict | None = None) -> list:
    return client.paginate(tunnels_path(client), query=query)


def get_connectors(client, tunnel_id: str) -> list:
    """The connectors (cloudflared processes) of a tunnel, each with its connections under ``conns``."""
    return client.request("GET", tunnels_path(client, tunnel_id, "/connections")) or []


def config_src(tunnel: dict) -> str:
    if tunnel.get("config_src") in ("local", "cloudflare"):
        return tunnel["config_src"]
    return "cloudflare" if tunnel.get("remote_config") else "local"


def live_connections(connections: list) -> list:
    return [c for c in connections or [] if not c.get("is_pending_reconnect")]


def tunnel_view(tunnel: dict) -> dict:
    """The curated tunnel dict the modules return; it never holds a secret."""
    view = {field: tunnel.get(field) for field in TUNNEL_FIELDS}
    view["config_src"] = config_src(tunnel)
    view["remote_config"] = view["config_src"] == "cloudflare"
    view["connection_count"] = len(live_connections(tunnel.get("connections")))
    view["edge"] = edge_summary(tunnel.get("connections"))
    return view


def edge_summary(connections: list) -> str:
    """Per-colo count of live connections as cloudflared prints it: ``2xAMS, 2xFRA``."""
    counts = Counter(c.get("colo_name") or "?" for c in live_connections(connections))
    return ", ".join(f"{counts[colo]}x{colo}" for colo in sorted(counts))


def connector_view(connector: dict) -> dict:
    conns = connector.get("conns") or []
    return {
        "id": connector.get("id"),
        "version": connector.get("version"),
        "arch": connector.get("arch"),
        "run_at": connector.get("run_at"),
        "config_version": connector.get("config_version"),
        # cloudflared's "ORIGIN IP" column shows the first connection's origin address.
        "origin_ip": conns[0].get("origin_ip") if conns else None,
        "edge": edge_summary(conns),
        "connection_count": len(live_connections(conns)),
    }


def connection_views(connectors: list) -> list:
    """Every connection of every connector, flattened, with the connector id as client_id."""
    flat = []
    for connector in connectors:
        for conn in connector.get("conns") or []:
            flat.append(
                {
                    "colo": conn.get("colo_name"),
                    "id": conn.get("id") or conn.get("uuid"),
                    "client_id": conn.get("client_id") or connector.get("id"),
                    "origin_ip": conn.get("origin_ip"),
                    "opened_at": conn.get("opened_at"),
                    "is_pending_reconnect": bool(conn.get("is_pending_reconnect")),
                }
            )
    return flat


def connected_connectors(connectors: list) -> list:
    """Connectors that hold at least one live connection."""
    return [c for c in connectors if live_connections(c.get("conns"))]


def generate_secret() -> str:
    """A new tunnel secret as cloudflared makes one: 32 random bytes, standard base64."""
    return base64.b64encode(secrets.token_bytes(SECRET_BYTES)).decode("ascii")


def secret_is_valid(secret: str) -> bool:
    """Cloudflare wants standard base64 that decodes to at least 32 bytes."""
    try:
        return len(base64.b64decode(secret, validate=True)) >= SECRET_BYTES
    except (binascii.Error, ValueError, TypeError):
        return False


def credentials(account_tag: str, tunnel_id: str, secret: str, endpoint: str = "") -> dict:
    """The content of a tunnel credentials file (cloudflared's JSON keys)."""
    return {"AccountTag": account_tag, "TunnelSecret": secret, "TunnelID": tunnel_id, "Endpoint": endpoint}


def credentials_from_token(token: str) -> dict:
    """Rebuild credentials from a tunnel token: base64 of JSON ``{a, t, s[, e]}``."""
    try:
        data = json.loads(base64.b64decode(token.strip() + "=" * (-len(token.strip()) % 4)))
        return credentials(data["a"], data["t"], data["s"], data.get("e") or "")
    except (binascii.Error, ValueError, TypeError, KeyError, AttributeError):
        # The message deliberately leaves the token out: it is a secret.
        raise TunnelCredentialsError("the tunnel token from Cloudflare is not in the expected format") from None


def get_token(client, tunnel_id: str) -> str:
    return client.request("GET", tunnels_path(client, tunnel_id, "/token"))
