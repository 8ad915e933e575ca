"""The emulator's state: built from a seed, guarded by one lock, rendered for the control surface."""

from __future__ import annotations

import copy
import hashlib
import threading

from emu_core import HEX32, ApiError, paginate, qget, stamp
from emu_dns import DnsMixin
from emu_lb import LoadBalancingMixin
from emu_teamnet import TeamnetMixin
from emu_tunnels import TunnelsMixin

WRITE_IMPLIES_READ = {
    # Newer permission group names that Cloudflare accepts for the tunnel endpoints.
    "Cloudflare One Connector: cloudflared Write": "Cloudflare Tunnel Write",
    "Cloudflare One Connector: cloudflared Read": "Cloudflare Tunnel Read",
    "Cloudflare One Connectors Write": "Cloudflare Tunnel Write",
    "Cloudflare One Connectors Read": "Cloudflare Tunnel Read",
}


class SeedError(ValueError):
    """The seed file does not describe a valid starting state."""


def expand_permissions(names) -> frozenset:
    granted = set()
    for name in names or ():
        name = WRITE_IMPLIES_READ.get(name, name)
        granted.add(name)
        if name.endswith(" Write"):
            granted.add(name[: -len(" Write")] + " Read")
    return frozenset(granted)


class Store(TunnelsMixin, DnsMixin, LoadBalancingMixin, TeamnetMixin):
    def __init__(self, seed: dict):
        self.lock = threading.RLock()
        self.seed = copy.deepcopy(seed)
        self.load()

    def load(self) -> None:
        seed = self.seed
        if not isinstance(seed, dict) or "accounts" not in seed or "tokens" not in seed:
            raise SeedError("the seed needs at least 'accounts' and 'tokens'")
        self.accounts = {}
        self.zones = {}
        self.tokens = {}
        self.api_keys = {}
        self.tunnels = {}
        self.dns_records = {}
        self.pools = {}
        self.load_balancers = {}
        self.routes = {}
        self.virtual_networks = {}
        for account in seed["accounts"]:
            account_id = str(account["id"]).lower()
            if not HEX32.match(account_id):
                raise SeedError(f"account id {account_id!r} is not 32 hex digits")
            self.accounts[account_id] = {"id": account_id, "name": account.get("name", account_id)}
        for zone in seed.get("zones") or []:
            zone_id = str(zone["id"]).lower()
            account_id = str(zone.get("account") or next(iter(self.accounts))).lower()
            if not HEX32.match(zone_id) or account_id not in self.accounts:
                raise SeedError(f"zone {zone!r} needs a 32-hex id and a known account")
            self.zones[zone_id] = {
                "id": zone_id,
                "name": zone["name"].lower().rstrip("."),
                "account": account_id,
                "plan": zone.get("plan", "free"),
            }
        for token in seed["tokens"]:
            self.tokens[str(token["value"])] = {
                "id": hashlib.sha256(str(token["value"]).encode()).hexdigest()[:32],
                "permissions": expand_permissions(token.get("permissions")),
                "accounts": frozenset(a.lower() for a in token["accounts"]) if token.get("accounts") else None,
                "zones": frozenset(z.lower() for z in token["zones"]) if token.get("zones") else None,
                "status": token.get("status", "active"),
            }
        for key in seed.get("api_keys") or []:
            self.api_keys[(str(key["email"]).lower(), str(key["key"]))] = True
        for tunnel in seed.get("tunnels") or []:
            account_id = str(tunnel.get("account") or next(iter(self.accounts))).lower()
            if account_id not in self.accounts:
                raise SeedError(f"tunnel {tunnel.get('name')!r} names an unknown account")
            created = self.new_tunnel(
                account_id,
                tunnel["name"],
                secret=tunnel.get("secret"),
                tunnel_id=str(tunnel["id"]).lower() if tunnel.get("id") else None,
                config_src=tunnel.get("config_src", "local"),
            )
            for connector in tunnel.get("connectors") or []:
                self.add_connector(created["id"], connector)
        for vnet_seed in [None, *(seed.get("virtual_networks") or [])]:
            self.seed_virtual_network(vnet_seed)
        self.seed_dns(seed.get("dns_records") or [])
        self.seed_load_balancing(seed.get("pools") or [], seed.get("load_balancers") or [])
        self.seed_routes(seed.get("routes") or [])

    # --- identity endpoints ---------------------------------------------------------------------------------

    def verify_token(self, ctx):
        if ctx.principal["kind"] != "token":
            raise ApiError(400, 1000, "Invalid API Token")
        return {"id": ctx.principal["id"], "status": "active", "not_before": None, "expires_on": None}

    def visible_accounts(self, principal) -> list:
        allowed = principal["accounts"]
        return [a for a in self.accounts.values() if allowed is None or a["id"] in allowed]

    def render_account(self, account: dict) -> dict:
        return {
            "id": account["id"],
            "name": account["name"],
            "type": "standard",
            "settings": {},
            "created_on": "2020-01-01T00:00:00.000000Z",
        }

    def list_accounts(self, ctx):
        items = sorted(self.visible_accounts(ctx.principal), key=lambda a: a["name"])
        name = qget(ctx.query, "name")
        if name is not None:
            items = [a for a in items if name.lower() in a["name"].lower()]
        if qget(ctx.query, "direction") == "desc":
            items.reverse()
        chunk, info = paginate(items, ctx.query, 20, 5, 50)
        return [self.render_account(a) for a in chunk], info

    def read_account(self, ctx):
        return self.render_account(self.accounts[ctx.account])

    @staticmethod
    def route_error(path: str) -> ApiError:
        return ApiError(400, 7003, f"Could not route to {path}, perhaps your object identifier is invalid?")

    def snapshot(self) -> dict:
        """Everything, secrets included: the control surface is for tests only."""
        tunnels = []
        for tunnel in self.tunnels.values():
            item = self.render_tunnel(tunnel)
            item["tunnel_secret"] = tunnel["secret"]
            item["connectors"] = [self.render_connector(c) for c in tunnel["connectors"].values()]
            item["configuration"] = self.render_configuration(tunnel)
            tunnels.append(item)
        return {
            "accounts": list(self.accounts.values()),
            "zones": [dict(z) for z in self.zones.values()],
            "tunnels": tunnels,
            "dns_records": [self.render_record(r) for r in self.dns_records.values()],
            "pools": [self.render_pool(p) for p in self.pools.values()],
            "load_balancers": [self.render_lb(lb) for lb in self.load_balancers.values()],
            "routes": [self.render_route(r) for r in self.routes.values()],
            "virtual_networks": [self.render_vnet(v) for v in self.virtual_networks.values()],
            "time": stamp(),
        }
