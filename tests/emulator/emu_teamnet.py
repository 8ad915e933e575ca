"""Private network routes (/accounts/{a}/teamnet/routes) and virtual networks."""

from __future__ import annotations

import ipaddress

from emu_core import ApiError, field, now, paginate, parse_time, qbool, qget, require_object, stamp, uuid_id

# Codes chosen by the emulator; the public spec documents none for these endpoints (see README).
ROUTE_INVALID = 1001
ROUTE_NOT_FOUND = 1002
ROUTE_CONFLICT = 1014


def parse_network(value, name: str = "network"):
    try:
        return ipaddress.ip_network(value, strict=False)
    except (TypeError, ValueError):
        raise ApiError(400, ROUTE_INVALID, f"Invalid {name}: {value!r} is not a CIDR network") from None


class TeamnetMixin:
    """Route and virtual network endpoints. Every method runs with the store lock held by the dispatcher."""

    def seed_virtual_network(self, item: dict | None) -> None:
        if item is None:
            # Every account has one default virtual network, as in Cloudflare.
            for account in self.accounts:
                vnet_id = uuid_id()
                self.virtual_networks[vnet_id] = {
                    "id": vnet_id,
                    "account": account,
                    "name": "default",
                    "comment": "",
                    "is_default_network": True,
                    "created_at": now(),
                    "deleted_at": None,
                }
            return
        account = str(item.get("account") or next(iter(self.accounts))).lower()
        vnet_id = str(item.get("id") or uuid_id()).lower()
        self.virtual_networks[vnet_id] = {
            "id": vnet_id,
            "account": account,
            "name": item["name"],
            "comment": item.get("comment", ""),
            "is_default_network": False,
            "created_at": now(),
            "deleted_at": None,
        }

    def seed_routes(self, routes: list) -> None:
        for item in routes:
            account = str(item.get("account") or next(iter(self.accounts))).lower()
            tunnel = item.get("tunnel")
            tunnel_id = next((t["id"] for t in self.tunnels.values() if tunnel in (t["id"], t["name"])), tunnel)
            self.build_route(
                account, {"network": item["network"], "tunnel_id": tunnel_id, "comment": item.get("comment", "")}, None
            )

    def render_vnet(self, vnet: dict) -> dict:
        return {
            "id": vnet["id"],
            "name": vnet["name"],
            "comment": vnet["comment"],
            "is_default_network": vnet["is_default_network"],
            "created_at": stamp(vnet["created_at"]),
            "deleted_at": stamp(vnet["deleted_at"]) if vnet["deleted_at"] else None,
        }

    def render_route(self, route: dict) -> dict:
        tunnel = self.tunnels.get(route["tunnel_id"])
        vnet = self.virtual_networks.get(route["virtual_network_id"])
        return {
            "id": route["id"],
            "network": route["network"],
            "tunnel_id": route["tunnel_id"],
            "tunnel_name": tunnel["name"] if tunnel else None,
            "tun_type": "cfd_tunnel",
            "comment": route["comment"],
            "virtual_network_id": route["virtual_network_id"],
            "virtual_network_name": vnet["name"] if vnet else None,
            "created_at": stamp(route["created_at"]),
            "deleted_at": stamp(route["deleted_at"]) if route["deleted_at"] else None,
        }

    def default_vnet(self, account: str) -> str:
        return next(
            v["id"] for v in self.virtual_networks.values() if v["account"] == account and v["is_default_network"]
        )

    def build_route(self, account: str, body: dict, old: dict | None) -> dict:
        network = str(parse_network(field(body, "network", str, ROUTE_INVALID, required=True)))
        tunnel_id = field(body, "tunnel_id", str, ROUTE_INVALID, required=True).lower()
        tunnel = self.tunnels.get(tunnel_id)
        if tunnel is None or tunnel["account"] != account or tunnel["deleted_at"]:
            raise ApiError(400, ROUTE_INVALID, f"Tunnel {tunnel_id} does not exist or has been deleted.")
        vnet_id = field(body, "virtual_network_id", str, ROUTE_INVALID) or self.default_vnet(account)
        vnet = self.virtual_networks.get(vnet_id.lower())
        if vnet is None or vnet["account"] != account or vnet["deleted_at"]:
            raise ApiError(400, ROUTE_INVALID, f"Virtual network {vnet_id} does not exist.")
        for other in self.routes.values():
            if (
                (other["account"], other["network"], other["virtual_network_id"]) == (account, network, vnet["id"])
                and not other["deleted_at"]
                and (not old or other["id"] != old["id"])
            ):
                raise ApiError(
                    409, ROUTE_CONFLICT, f"A route for {network} already exists in virtual network {vnet['name']}."
                )
        route = {
            "id": old["id"] if old else uuid_id(),
            "account": account,
            "network": network,
            "tunnel_id": tunnel["id"],
            "comment": field(body, "comment", str, ROUTE_INVALID, default=""),
            "virtual_network_id": vnet["id"],
            "created_at": old["created_at"] if old else now(),
            "deleted_at": None,
        }
        self.routes[route["id"]] = route
        return route

    def account_route(self, account: str, route_id: str) -> dict:
        route = self.routes.get(route_id.lower())
        if route is None or route["account"] != account:
            raise ApiError(404, ROUTE_NOT_FOUND, "Route not found")
        return route

    def list_routes(self, ctx):
        query = ctx.query
        items = [r for r in self.routes.values() if r["account"] == ctx.account]
        is_deleted = qbool(query, "is_deleted")
        if is_deleted is not None:
            items = [r for r in items if bool(r["deleted_at"]) == is_deleted]
        for key in ("tunnel_id", "route_id", "virtual_network_id"):
            value = qget(query, key)
            if value:
                attribute = "id" if key == "route_id" else key
                items = [r for r in items if r[attribute] == value.lower()]
        comment = qget(query, "comment")
        if comment is not None:
            items = [r for r in items if r["comment"] == comment]
        subset = qget(query, "network_subset")
        if subset:
            outer = parse_network(subset, "network_subset")
            items = [r for r in items if self._within(ipaddress.ip_network(r["network"]), outer)]
        superset = qget(query, "network_superset")
        if superset:
            inner = parse_network(superset, "network_superset")
            items = [r for r in items if self._within(inner, ipaddress.ip_network(r["network"]))]
        existed_at = qget(query, "existed_at")
        if existed_at:
            moment = parse_time(existed_at, "existed_at")
            items = [
                r for r in items if r["created_at"] <= moment and (not r["deleted_at"] or r["deleted_at"] > moment)
            ]
        items.sort(key=lambda r: (r["created_at"], r["id"]))
        chunk, info = paginate(items, query, 20, 1, 1000)
        return [self.render_route(r) for r in chunk], info

    @staticmethod
    def _within(inner, outer) -> bool:
        return inner.version == outer.version and inner.subnet_of(outer)

    def create_route(self, ctx):
        return self.render_route(self.build_route(ctx.account, require_object(ctx.body, ROUTE_INVALID), None))

    def read_route(self, ctx):
        return self.render_route(self.account_route(ctx.account, ctx.params["route_id"]))

    def patch_route(self, ctx):
        old = self.account_route(ctx.account, ctx.params["route_id"])
        if old["deleted_at"]:
            raise ApiError(400, ROUTE_INVALID, "Route has been deleted.")
        merged = {
            "network": old["network"],
            "tunnel_id": old["tunnel_id"],
            "comment": old["comment"],
            "virtual_network_id": old["virtual_network_id"],
        }
        merged.update(require_object(ctx.body, ROUTE_INVALID))
        return self.render_route(self.build_route(ctx.account, merged, old))

    def delete_route(self, ctx):
        route = self.account_route(ctx.account, ctx.params["route_id"])
        if route["deleted_at"]:
            raise ApiError(404, ROUTE_NOT_FOUND, "Route not found")
        route["deleted_at"] = now()
        return self.render_route(route)

    def list_vnets(self, ctx):
        query = ctx.query
        items = [v for v in self.virtual_networks.values() if v["account"] == ctx.account]
        is_default = qbool(query, "is_default")
        if is_default is not None:
            items = [v for v in items if v["is_default_network"] == is_default]
        is_deleted = qbool(query, "is_deleted")
        if is_deleted is not None:
            items = [v for v in items if bool(v["deleted_at"]) == is_deleted]
        name = qget(query, "name")
        if name is not None:
            items = [v for v in items if v["name"] == name]
        vnet_id = qget(query, "id")
        if vnet_id:
            items = [v for v in items if v["id"] == vnet_id.lower()]
        return [self.render_vnet(v) for v in items]
