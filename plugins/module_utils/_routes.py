# Copyright (c) 2026 tunnelops maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Planning for tunnel routes: DNS records, load-balancer pools and private networks.

Nothing here talks to the API. Functions take what the API returned, and what the user asked for,
and return the operations to send and the result to report, so that they can be tested on their own.
"""

from __future__ import annotations

import ipaddress
import re
import uuid
from dataclasses import dataclass, field

TUNNEL_TARGET_SUFFIX = ".cfargotunnel.com"
CONFLICTING_TYPES = frozenset(("A", "AAAA", "CNAME"))
MANAGED_COMMENT_PREFIX = "managed by tunnelops.cloudflare"

# cloudflared's own checks for `route dns` and `route lb` names, applied after IDNA conversion.
HOSTNAME_PATTERN = re.compile(r"^[*_a-zA-Z0-9][-_.a-zA-Z0-9]*$")
POOL_NAME_PATTERN = re.compile(r"^[_a-zA-Z0-9][-_a-zA-Z0-9]*$")
ZONE_ID_PATTERN = re.compile(r"^[0-9a-fA-F]{32}$")

NEW = "new"
UPDATED = "updated"
UNCHANGED = "unchanged"
DELETED = "deleted"


class RouteError(ValueError):
    """A route that cannot be planned: an invalid name, a conflict, a record in the way."""


def is_uuid(value: str) -> bool:
    try:
        uuid.UUID(str(value))
    except ValueError:
        return False
    return True


def is_zone_id(value: str) -> bool:
    return bool(ZONE_ID_PATTERN.match(value or ""))


def tunnel_target(tunnel_id: str) -> str:
    return f"{tunnel_id.lower()}{TUNNEL_TARGET_SUFFIX}"


def managed_comment(tunnel_id: str, tunnel_name: str | None = None) -> str:
    if tunnel_name and tunnel_name.lower() != tunnel_id.lower():
        return f"{MANAGED_COMMENT_PREFIX}: tunnel={tunnel_name} ({tunnel_id})"
    return f"{MANAGED_COMMENT_PREFIX}: tunnel={tunnel_id}"


def normalise_hostname(hostname: str) -> str:
    """Return the hostname as Cloudflare stores it: lower case, punycode labels, no trailing dot.

    A leading ``*.`` label is kept; a ``*`` anywhere else is refused, as cloudflared does.
    """
    if not isinstance(hostname, str) or not hostname.strip():
        raise RouteError("a hostname must be a non-empty string")
    name = hostname.strip().rstrip(".")
    labels = name.split(".")
    converted = []
    for index, label in enumerate(labels):
        if label == "*" and index == 0:
            converted.append(label)
            continue
        try:
            ascii_label = label if label.isascii() else label.encode("idna").decode("ascii")
        except UnicodeError as exc:
            raise RouteError(f"hostname {hostname!r} is not a valid internationalised name: {exc}") from None
        if not ascii_label or len(ascii_label) > 63:
            raise RouteError(f"hostname {hostname!r} has an empty label or one longer than 63 characters")
        converted.append(ascii_label.lower())
    result = ".".join(converted)
    wildcard_ok = "*" not in result or (result.startswith("*.") and result.count("*") == 1)
    if len(labels) < 2 or len(result) > 253 or not HOSTNAME_PATTERN.match(result) or not wildcard_ok:
        raise RouteError(
            f"hostname {hostname!r} is not a valid fully qualified name (only a leading '*.' wildcard is allowed)"
        )
    return result


def same_name(left: str | None, right: str | None) -> bool:
    return (left or "").rstrip(".").lower() == (right or "").rstrip(".").lower()


def points_at(record: dict, tunnel_id: str) -> bool:
    """Whether a DNS record is a CNAME to this tunnel (case and a trailing dot ignored)."""
    return record.get("type") == "CNAME" and same_name(record.get("content"), tunnel_target(tunnel_id))


def match_zone(hostname: str, zones: list[dict]) -> dict | None:
    """The zone whose name is the longest suffix of the hostname (the apex itself counts)."""
    best = None
    for zone in zones:
        zone_name = (zone.get("name") or "").lower().rstrip(".")
        if not zone_name:
            continue
        if (hostname == zone_name or hostname.endswith("." + zone_name)) and (
            best is None or len(zone_name) > len(best["name"])
        ):
            best = zone
    return best


def in_zone(hostname: str, zone_name: str) -> bool:
    zone_name = zone_name.lower().rstrip(".")
    return hostname == zone_name or hostname.endswith("." + zone_name)


def record_summary(record: dict | None) -> dict | None:
    """The fields of a DNS record that the module reports and compares."""
    if record is None:
        return None
    keys = ("id", "name", "type", "content", "proxied", "ttl", "comment")
    return {key: record.get(key) for key in keys}


def left_by_legacy_tunnel(record: dict) -> bool:
    """Whether a record is what a legacy tunnel's edge created at its hostname: a proxied AAAA record."""
    return record.get("type") == "AAAA" and record.get("proxied") is True


def describe_record(record: dict) -> str:
    return f"{record.get('type')} {record.get('name')} -> {record.get('content')} (id {record.get('id')})"


@dataclass
class DnsPlan:
    """What one hostname needs: the result to report and the operations that get it there."""

    hostname: str
    result: str
    before: list = field(default_factory=list)
    after: dict | None = None
    deletes: list = field(default_factory=list)
    patches: list = field(default_factory=list)
    posts: list = field(default_factory=list)
    left: list = field(default_factory=list)
    zone_id: str | None = None
    zone_name: str | None = None

    @property
    def operation_count(self) -> int:
        return len(self.deletes) + len(self.patches) + len(self.posts)


def plan_dns_route(
    hostname: str,
    records: list[dict],
    tunnel_id: str,
    state: str = "present",
    overwrite: bool = False,
    comment: str | None = None,
    overwrite_legacy: bool = False,
) -> DnsPlan:
    """Plan the records at one name.

    ``records`` may hold every record of the zone: only A, AAAA and CNAME records at ``hostname`` count.
    Raises RouteError for a conflict when ``overwrite`` is false, unless ``overwrite_legacy`` is true and every
    conflicting record is one that a legacy tunnel left.
    """
    at_name = [r for r in records if r.get("type") in CONFLICTING_TYPES and same_name(r.get("name"), hostname)]
    ours = [r for r in at_name if points_at(r, tunnel_id)]
    others = [r for r in at_name if not points_at(r, tunnel_id)]
    plan = DnsPlan(hostname=hostname, result=UNCHANGED, before=[record_summary(r) for r in at_name])

    if state == "absent":
        plan.deletes = [{"id": r["id"]} for r in ours]
        plan.left = [record_summary(r) for r in others]
        plan.result = DELETED if ours else UNCHANGED
        return plan

    legacy_only = overwrite_legacy and all(left_by_legacy_tunnel(r) for r in others)
    if others and not (overwrite or legacy_only):
        named = "; ".join(describe_record(r) for r in others)
        raise RouteError(
            f"{hostname} already has a record that does not point at tunnel {tunnel_id}: {named}. "
            + ("It is not what a legacy tunnel left (a proxied AAAA record). " if overwrite_legacy else "")
            + "Set overwrite=true to replace it."
        )

    plan.deletes = [{"id": r["id"]} for r in others]
    current = ours[0] if ours else None
    if current is None:
        post = {
            "type": "CNAME",
            "name": hostname,
            "content": tunnel_target(tunnel_id),
            "proxied": True,
            "ttl": 1,
        }
        if comment:
            post["comment"] = comment
        plan.posts = [post]
        plan.after = dict(post, id=None)
        plan.result = UPDATED if others else NEW
        return plan

    plan.after = record_summary(current)
    if current.get("proxied") is not True:
        # Tunnel CNAMEs only work proxied; a proxied record needs the automatic TTL.
        plan.patches = [{"id": current["id"], "proxied": True, "ttl": 1}]
        plan.after = dict(plan.after, proxied=True, ttl=1)
    plan.result = UPDATED if plan.operation_count else UNCHANGED
    return plan


def chunk_plans(plans: list[DnsPlan], batch_size: int) -> list[list[DnsPlan]]:
    """Pack the plans that write something into batches of at most ``batch_size`` operations.

    One hostname's operations always share a batch: the delete of a conflicting record and the post
    of its replacement must land together, both for the API (a CNAME cannot join an A record) and so
    that the name is never without a record.
    """
    chunks: list[list[DnsPlan]] = []
    current: list[DnsPlan] = []
    size = 0
    for plan in plans:
        count = plan.operation_count
        if not count:
            continue
        if count > batch_size:
            raise RouteError(f"{plan.hostname} needs {count} operations, more than batch_size {batch_size}")
        if size + count > batch_size:
            chunks.append(current)
            current, size = [], 0
        current.append(plan)
        size += count
    if current:
        chunks.append(current)
    return chunks


def batch_body(plans: list[DnsPlan]) -> dict:
    body: dict = {"deletes": [], "patches": [], "posts": []}
    for plan in plans:
        body["deletes"].extend(plan.deletes)
        body["patches"].extend(plan.patches)
        body["posts"].extend(plan.posts)
    return {key: value for key, value in body.items() if value}


def normalise_pool_name(name: str) -> str:
    if not isinstance(name, str) or not POOL_NAME_PATTERN.match(name):
        raise RouteError(f"pool name {name!r} may only hold letters, digits, '-' and '_'")
    return name


def find_named(items: list[dict], name: str) -> dict | None:
    for item in items or []:
        if same_name(item.get("name"), name):
            return item
    return None


def plan_pool(
    pool: dict | None,
    tunnel_id: str,
    state: str = "present",
    origin_name: str | None = None,
    weight: float = 1.0,
    enabled: bool = True,
) -> tuple[str, list | None]:
    """Plan this tunnel's origin in a pool: (result, the pool's new origins list or None for no write).

    Every other origin is kept as it is; only the origin whose address is this tunnel is added,
    changed or removed.
    """
    target = tunnel_target(tunnel_id)
    origins = list((pool or {}).get("origins") or [])
    index = next((i for i, o in enumerate(origins) if same_name(o.get("address"), target)), None)

    if state == "absent":
        if pool is None or index is None:
            return UNCHANGED, None
        return UPDATED, origins[:index] + origins[index + 1 :]

    wanted = {"name": origin_name or tunnel_id, "address": target, "enabled": enabled, "weight": float(weight)}
    if pool is None:
        return NEW, [wanted]
    if index is None:
        return UPDATED, [*origins, wanted]
    current = origins[index]
    if current.get("enabled", True) == enabled and float(current.get("weight", 1)) == float(weight):
        return UNCHANGED, None
    origins[index] = dict(current, enabled=enabled, weight=float(weight))
    return UPDATED, origins


def plan_load_balancer(load_balancer: dict | None, pool_id: str | None) -> tuple[str, dict | None]:
    """Plan the load balancer: (result, PATCH body or None). A missing one is created by the caller.

    A tunnel cannot be the origin of an unproxied load balancer (Cloudflare's error 1004), so an
    existing unproxied one is refused before anything is written.
    """
    if load_balancer is None:
        return NEW, None
    if load_balancer.get("proxied") is not True:
        raise RouteError(
            f"load balancer {load_balancer.get('name')} (id {load_balancer.get('id')}) is not proxied, and a tunnel "
            "cannot be an origin of a non-proxied load balancer (Cloudflare error 1004). Make it proxied first."
        )
    default_pools = list(load_balancer.get("default_pools") or [])
    if pool_id is not None and pool_id in default_pools:
        return UNCHANGED, None
    return UPDATED, {"default_pools": [*default_pools, pool_id]}


def normalise_network(network: str) -> str:
    try:
        return str(ipaddress.ip_network(str(network).strip(), strict=False))
    except ValueError as exc:
        raise RouteError(f"network {network!r} is not a CIDR: {exc}") from None


def plan_ip_route(
    routes: list[dict],
    network: str,
    tunnel_id: str,
    state: str = "present",
    virtual_network_id: str | None = None,
    comment: str | None = None,
) -> tuple[str, dict | None]:
    """Plan a private network route: (result, the matching existing route or None).

    ``routes`` are the live routes of that network in the wanted virtual network. A route of the
    network that belongs to another tunnel is never taken over: present refuses, absent leaves it.
    """
    matching = [
        r
        for r in routes
        if not r.get("deleted_at")
        and normalise_network(r.get("network", "")) == network
        and (virtual_network_id is None or r.get("virtual_network_id") == virtual_network_id)
    ]
    ours = next((r for r in matching if same_name(r.get("tunnel_id"), tunnel_id)), None)
    foreign = next((r for r in matching if not same_name(r.get("tunnel_id"), tunnel_id)), None)

    if state == "absent":
        return (DELETED, ours) if ours else (UNCHANGED, foreign)
    if ours is not None:
        if comment is not None and (ours.get("comment") or "") != comment:
            return UPDATED, ours
        return UNCHANGED, ours
    if foreign is not None:
        raise RouteError(
            f"network {network} is already routed to tunnel {foreign.get('tunnel_id')} (route id {foreign.get('id')}). "
            "Delete that route first."
        )
    return NEW, None
