"""Load balancing: account pools (/accounts/{a}/load_balancers/pools) and zone load balancers."""

from __future__ import annotations

import re

from emu_core import ApiError, check_type, field, hex_id, now, qget, require_object, stamp
from emu_dns import normalise_name

# The load balancing API's codes are not documented; 1004 comes from cloudflared's tests (reference §1.5),
# the rest are the emulator's choice (see README).
LB_NOT_FOUND = 1001
LB_INVALID = 1002
TUNNEL_ORIGIN_UNPROXIED = 1004
LB_NAME_TAKEN = 1005
POOL_NAME_TAKEN = 1010
POOL_IN_USE = 1012

POOL_NAME = re.compile(r"^[A-Za-z0-9_-]+$")
STEERING = (
    "off",
    "geo",
    "random",
    "dynamic_latency",
    "proximity",
    "least_outstanding_requests",
    "least_connections",
    "",
)
POOL_FIELDS = (
    "name",
    "origins",
    "description",
    "enabled",
    "minimum_origins",
    "monitor",
    "notification_email",
    "check_regions",
    "origin_steering",
    "load_shedding",
    "notification_filter",
    "latitude",
    "longitude",
)
LB_FIELDS = (
    "name",
    "default_pools",
    "fallback_pool",
    "description",
    "enabled",
    "proxied",
    "ttl",
    "steering_policy",
    "session_affinity",
    "session_affinity_ttl",
    "session_affinity_attributes",
    "region_pools",
    "pop_pools",
    "country_pools",
    "rules",
    "random_steering",
    "adaptive_routing",
    "location_strategy",
)


def is_tunnel_origin(address: str) -> bool:
    return address.lower().rstrip(".").endswith(".cfargotunnel.com")


class LoadBalancingMixin:
    """Pool and load balancer endpoints. Every method runs with the store lock held by the dispatcher."""

    # --- pools -----------------------------------------------------------------------------------------------

    def seed_load_balancing(self, pools: list, load_balancers: list) -> None:
        for item in pools:
            account = str(item.get("account") or next(iter(self.accounts))).lower()
            body = {k: v for k, v in item.items() if k != "account"}
            pool = self.build_pool(account, body, None)
            self.pools[pool["id"]] = pool
        for item in load_balancers:
            zone = self.zones[str(item["zone"]).lower()]
            body = {k: v for k, v in item.items() if k != "zone"}
            by_name = {p["name"]: p["id"] for p in self.pools.values()}
            body["default_pools"] = [by_name.get(p, p) for p in body.get("default_pools") or []]
            body["fallback_pool"] = by_name.get(body.get("fallback_pool"), body.get("fallback_pool"))
            lb = self.build_lb(zone, body, None)
            self.load_balancers[lb["id"]] = lb

    def render_pool(self, pool: dict) -> dict:
        result = {k: pool[k] for k in POOL_FIELDS}
        result["origins"] = [dict(o) for o in pool["origins"]]
        result.update(id=pool["id"], created_on=stamp(pool["created_on"]), modified_on=stamp(pool["modified_on"]))
        return result

    def account_pool(self, account: str, pool_id) -> dict:
        pool = self.pools.get(str(pool_id).lower()) if isinstance(pool_id, str) else None
        if pool is None or pool["account"] != account:
            raise ApiError(404, LB_NOT_FOUND, "Pool not found")
        return pool

    def build_origin(self, origin, index: int) -> dict:
        where = f"origins[{index}]"
        check_type(origin, dict, where, LB_INVALID)
        name = field(origin, "name", str, LB_INVALID, required=True)
        address = field(origin, "address", str, LB_INVALID, required=True)
        weight = field(origin, "weight", (int, float), LB_INVALID, default=1)
        if not name or not address:
            raise ApiError(400, LB_INVALID, f"{where}: name and address must not be empty")
        if not 0 <= weight <= 1:
            raise ApiError(400, LB_INVALID, f"{where}: weight must be between 0 and 1")
        header = field(origin, "header", dict, LB_INVALID, default={})
        for key, values in header.items():
            check_type(values, list, f"{where}.header.{key}", LB_INVALID)
        result = {
            "name": name,
            "address": address,
            "enabled": field(origin, "enabled", bool, LB_INVALID, default=True),
            "weight": weight,
            "header": header,
        }
        for key in ("virtual_network_id", "port"):
            if origin.get(key) is not None:
                result[key] = origin[key]
        return result

    def build_pool(self, account: str, body: dict, old: dict | None) -> dict:
        name = field(body, "name", str, LB_INVALID, required=True)
        if not POOL_NAME.match(name):
            raise ApiError(400, LB_INVALID, "Pool name may only contain letters, digits, '-' and '_'.")
        if any(
            p["name"] == name and p["account"] == account and (not old or p["id"] != old["id"])
            for p in self.pools.values()
        ):
            raise ApiError(400, POOL_NAME_TAKEN, f"A pool named '{name}' already exists.")
        origins = field(body, "origins", list, LB_INVALID, required=True)
        if not origins:
            raise ApiError(400, LB_INVALID, "A pool needs at least one origin.")
        built = [self.build_origin(o, i) for i, o in enumerate(origins)]
        if len({o["name"] for o in built}) != len(built):
            raise ApiError(400, LB_INVALID, "Origin names must be unique within a pool.")
        moment = now()
        pool = {
            "id": old["id"] if old else hex_id(),
            "account": account,
            "name": name,
            "origins": built,
            "description": field(body, "description", str, LB_INVALID, default=""),
            "enabled": field(body, "enabled", bool, LB_INVALID, default=True),
            "minimum_origins": field(body, "minimum_origins", int, LB_INVALID, default=1),
            "monitor": field(body, "monitor", str, LB_INVALID),
            "notification_email": field(body, "notification_email", str, LB_INVALID, default=""),
            "check_regions": field(body, "check_regions", list, LB_INVALID),
            "origin_steering": field(body, "origin_steering", dict, LB_INVALID, default={"policy": "random"}),
            "load_shedding": field(body, "load_shedding", dict, LB_INVALID),
            "notification_filter": field(body, "notification_filter", dict, LB_INVALID),
            "latitude": field(body, "latitude", (int, float), LB_INVALID),
            "longitude": field(body, "longitude", (int, float), LB_INVALID),
            "created_on": old["created_on"] if old else moment,
            "modified_on": moment,
        }
        if old and any(is_tunnel_origin(o["address"]) for o in built):
            for lb in self.load_balancers.values():
                if not lb["proxied"] and old["id"] in self.lb_pool_ids(lb):
                    raise ApiError(
                        400, TUNNEL_ORIGIN_UNPROXIED, "Tunnel cannot be an origin of a non-proxied load balancer"
                    )
        return pool

    def list_pools(self, ctx):
        monitor = qget(ctx.query, "monitor")
        items = [p for p in self.pools.values() if p["account"] == ctx.account]
        if monitor:
            items = [p for p in items if p["monitor"] == monitor]
        items.sort(key=lambda p: (p["created_on"], p["id"]))
        info = {"page": 1, "per_page": len(items), "count": len(items), "total_count": len(items), "total_pages": 1}
        return [self.render_pool(p) for p in items], info

    def create_pool(self, ctx):
        pool = self.build_pool(ctx.account, require_object(ctx.body, LB_INVALID), None)
        self.pools[pool["id"]] = pool
        return self.render_pool(pool)

    def read_pool(self, ctx):
        return self.render_pool(self.account_pool(ctx.account, ctx.params["pool_id"]))

    def put_pool(self, ctx):
        old = self.account_pool(ctx.account, ctx.params["pool_id"])
        pool = self.build_pool(ctx.account, require_object(ctx.body, LB_INVALID), old)
        self.pools[pool["id"]] = pool
        return self.render_pool(pool)

    def patch_pool(self, ctx):
        old = self.account_pool(ctx.account, ctx.params["pool_id"])
        merged = self.render_pool(old)
        merged.update(require_object(ctx.body, LB_INVALID))
        pool = self.build_pool(ctx.account, merged, old)
        self.pools[pool["id"]] = pool
        return self.render_pool(pool)

    def delete_pool(self, ctx):
        pool = self.account_pool(ctx.account, ctx.params["pool_id"])
        users = sorted(lb["name"] for lb in self.load_balancers.values() if pool["id"] in self.lb_pool_ids(lb))
        if users:
            raise ApiError(
                400,
                POOL_IN_USE,
                f"Cannot delete pool {pool['name']}: it is in use by load balancer(s) {', '.join(users)}.",
            )
        del self.pools[pool["id"]]
        return {"id": pool["id"]}

    # --- load balancers --------------------------------------------------------------------------------------

    @staticmethod
    def lb_pool_ids(lb: dict) -> set:
        ids = set(lb["default_pools"]) | {lb["fallback_pool"]}
        for mapping in ("region_pools", "pop_pools", "country_pools"):
            for pool_ids in (lb.get(mapping) or {}).values():
                ids.update(pool_ids)
        return ids

    def render_lb(self, lb: dict) -> dict:
        result = {k: lb[k] for k in LB_FIELDS}
        result["zone_name"] = self.zones[lb["zone"]]["name"]
        result.update(id=lb["id"], created_on=stamp(lb["created_on"]), modified_on=stamp(lb["modified_on"]))
        return result

    def zone_lb(self, zone_id: str, lb_id) -> dict:
        lb = self.load_balancers.get(str(lb_id).lower()) if isinstance(lb_id, str) else None
        if lb is None or lb["zone"] != zone_id:
            raise ApiError(404, LB_NOT_FOUND, "Load balancer not found")
        return lb

    def build_lb(self, zone: dict, body: dict, old: dict | None) -> dict:
        name = normalise_name(field(body, "name", str, LB_INVALID, required=True), zone["name"])
        if any(
            lb["name"] == name and lb["zone"] == zone["id"] and (not old or lb["id"] != old["id"])
            for lb in self.load_balancers.values()
        ):
            raise ApiError(400, LB_NAME_TAKEN, f"A load balancer named {name} already exists.")
        default_pools = field(body, "default_pools", list, LB_INVALID, required=True)
        fallback_pool = field(body, "fallback_pool", str, LB_INVALID, required=True)
        if not default_pools:
            raise ApiError(400, LB_INVALID, "default_pools must name at least one pool.")
        for pool_id in [*default_pools, fallback_pool]:
            check_type(pool_id, str, "default_pools[]", LB_INVALID)
            pool = self.pools.get(pool_id.lower())
            if pool is None or pool["account"] != zone["account"]:
                raise ApiError(400, LB_INVALID, f"Pool {pool_id} does not exist in this account.")
        steering = field(body, "steering_policy", str, LB_INVALID, default="off")
        if steering not in STEERING:
            raise ApiError(400, LB_INVALID, f"Invalid steering_policy '{steering}'.")
        proxied = field(body, "proxied", bool, LB_INVALID, default=False)
        moment = now()
        lb = {
            "id": old["id"] if old else hex_id(),
            "zone": zone["id"],
            "name": name,
            "default_pools": [p.lower() for p in default_pools],
            "fallback_pool": fallback_pool.lower(),
            "description": field(body, "description", str, LB_INVALID, default=""),
            "enabled": field(body, "enabled", bool, LB_INVALID, default=True),
            "proxied": proxied,
            "ttl": field(body, "ttl", int, LB_INVALID, default=30),
            "steering_policy": steering,
            "session_affinity": field(body, "session_affinity", str, LB_INVALID, default="none"),
            "session_affinity_ttl": field(body, "session_affinity_ttl", int, LB_INVALID),
            "session_affinity_attributes": field(body, "session_affinity_attributes", dict, LB_INVALID),
            "region_pools": field(body, "region_pools", dict, LB_INVALID, default={}),
            "pop_pools": field(body, "pop_pools", dict, LB_INVALID, default={}),
            "country_pools": field(body, "country_pools", dict, LB_INVALID, default={}),
            "rules": field(body, "rules", list, LB_INVALID, default=[]),
            "random_steering": field(body, "random_steering", dict, LB_INVALID),
            "adaptive_routing": field(body, "adaptive_routing", dict, LB_INVALID),
            "location_strategy": field(body, "location_strategy", dict, LB_INVALID),
            "created_on": old["created_on"] if old else moment,
            "modified_on": moment,
        }
        if not proxied:
            for pool_id in self.lb_pool_ids(lb):
                pool = self.pools.get(pool_id)
                if pool and any(is_tunnel_origin(o["address"]) for o in pool["origins"]):
                    raise ApiError(
                        400, TUNNEL_ORIGIN_UNPROXIED, "Tunnel cannot be an origin of a non-proxied load balancer"
                    )
        return lb

    def list_lbs(self, ctx):
        items = sorted(
            (lb for lb in self.load_balancers.values() if lb["zone"] == ctx.zone),
            key=lambda lb: (lb["created_on"], lb["id"]),
        )
        info = {"page": 1, "per_page": len(items), "count": len(items), "total_count": len(items), "total_pages": 1}
        return [self.render_lb(lb) for lb in items], info

    def create_lb(self, ctx):
        lb = self.build_lb(self.zones[ctx.zone], require_object(ctx.body, LB_INVALID), None)
        self.load_balancers[lb["id"]] = lb
        return self.render_lb(lb)

    def read_lb(self, ctx):
        return self.render_lb(self.zone_lb(ctx.zone, ctx.params["lb_id"]))

    def put_lb(self, ctx):
        old = self.zone_lb(ctx.zone, ctx.params["lb_id"])
        lb = self.build_lb(self.zones[ctx.zone], require_object(ctx.body, LB_INVALID), old)
        self.load_balancers[lb["id"]] = lb
        return self.render_lb(lb)

    def patch_lb(self, ctx):
        old = self.zone_lb(ctx.zone, ctx.params["lb_id"])
        merged = self.render_lb(old)
        merged.update(require_object(ctx.body, LB_INVALID))
        lb = self.build_lb(self.zones[ctx.zone], merged, old)
        self.load_balancers[lb["id"]] = lb
        return self.render_lb(lb)

    def delete_lb(self, ctx):
        lb = self.zone_lb(ctx.zone, ctx.params["lb_id"])
        del self.load_balancers[lb["id"]]
        return {"id": lb["id"]}
