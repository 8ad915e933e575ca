"""Zones (/zones) and DNS records (/zones/{z}/dns_records), including the batch endpoint."""

from __future__ import annotations

import copy
import ipaddress
import re

from emu_core import ApiError, check_type, field, hex_id, now, paginate, qbool, qget, require_object, stamp

RECORD_NOT_FOUND = 81044
CNAME_CONFLICT = 81053  # a CNAME where an A, AAAA or CNAME already is
CNAME_EXISTS = 81054  # any other record where a CNAME already is
RECORD_EXISTS = 81057  # same type, name and content, other settings differ
IDENTICAL_RECORD = 81058  # the very same record again
NAME_INVALID = 9000
CONTENT_INVALID = 9005
NOT_PROXIABLE = 9004
TTL_INVALID = 9021
TYPE_INVALID = 9020
BATCH_TOO_LARGE = 81071
BAD_REQUEST = 1004

TYPES = ("A", "AAAA", "CNAME", "TXT", "MX", "NS", "PTR", "CAA", "SRV")
PROXIABLE = ("A", "AAAA", "CNAME")
ADDRESS_TYPES = ("A", "AAAA", "CNAME")
LABEL = re.compile(r"^(\*|[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?)$")
BATCH_LIMITS = {"free": 200, "pro": 3500, "business": 3500, "enterprise": 3500}
ORDER_KEYS = ("type", "name", "content", "ttl", "proxied")
PLAN_NAMES = {"free": "Free Website", "pro": "Pro Website", "business": "Business Website", "enterprise": "Enterprise"}


class DnsMixin:
    """Zone and DNS record endpoints. Every method runs with the store lock held by the dispatcher."""

    # --- zones -----------------------------------------------------------------------------------------------

    def render_zone(self, zone: dict) -> dict:
        account = self.accounts[zone["account"]]
        plan = zone.get("plan", "free")
        return {
            "id": zone["id"],
            "name": zone["name"],
            "status": "active",
            "paused": False,
            "type": "full",
            "development_mode": 0,
            "name_servers": ["ada.ns.cloudflare.com", "bob.ns.cloudflare.com"],
            "original_name_servers": [],
            "original_registrar": None,
            "original_dnshost": None,
            "created_on": "2020-01-01T00:00:00.000000Z",
            "modified_on": "2020-01-01T00:00:00.000000Z",
            "activated_on": "2020-01-01T00:00:00.000000Z",
            "account": {"id": account["id"], "name": account["name"]},
            "owner": {"id": None, "type": "user", "email": None},
            "permissions": [],
            "plan": {
                "id": plan,
                "name": PLAN_NAMES.get(plan, plan),
                "price": 0,
                "currency": "USD",
                "frequency": "",
                "is_subscribed": True,
                "can_subscribe": False,
                "legacy_id": plan,
            },
            "meta": {"phishing_detected": False},
        }

    def visible_zones(self, principal) -> list:
        return [
            z
            for z in self.zones.values()
            if (principal["zones"] is None or z["id"] in principal["zones"])
            and (principal["accounts"] is None or z["account"] in principal["accounts"])
        ]

    def list_zones(self, ctx):
        query = ctx.query
        tests = []
        name = qget(query, "name")
        if name is not None:
            tests.append(lambda z: z["name"] == name.lower().rstrip("."))
        status = qget(query, "status")
        if status is not None:
            tests.append(lambda z: status == "active")
        account_id = qget(query, "account.id")
        if account_id is not None:
            tests.append(lambda z: z["account"] == account_id.lower())
        account_name = qget(query, "account.name")
        if account_name is not None:
            tests.append(lambda z: self.accounts[z["account"]]["name"] == account_name)
        items = [z for z in self.visible_zones(ctx.principal) if combine(tests, qget(query, "match", "all"), z)]
        order = qget(query, "order", "name")
        if order not in ("name", "status", "account.id", "account.name"):
            raise ApiError(400, 1001, "Invalid value for order")
        items.sort(key=lambda z: (z["account"] if order == "account.id" else z["name"], z["id"]))
        if qget(query, "direction", "asc") == "desc":
            items.reverse()
        chunk, info = paginate(items, query, 20, 5, 50)
        return [self.render_zone(z) for z in chunk], info

    def read_zone(self, ctx):
        return self.render_zone(self.zones[ctx.zone])

    # --- records: representation and validation ---------------------------------------------------------------

    def seed_dns(self, records: list) -> None:
        for item in records:
            zone_id = str(item.get("zone") or "").lower()
            if zone_id not in self.zones:
                zone_id = next((z["id"] for z in self.zones.values() if z["name"] == zone_id), None)
            if zone_id is None:
                raise ValueError(f"dns record {item!r} names an unknown zone")
            body = {k: v for k, v in item.items() if k != "zone"}
            record = self.build_record(self.zones[zone_id], body, None)
            self.check_conflicts(self.dns_records, record)
            self.dns_records[record["id"]] = record

    def render_record(self, record: dict) -> dict:
        zone = self.zones[record["zone"]]
        result = {
            "id": record["id"],
            "zone_id": zone["id"],
            "zone_name": zone["name"],
            "name": record["name"],
            "type": record["type"],
            "content": record["content"],
            "proxiable": record["type"] in PROXIABLE,
            "proxied": record["proxied"],
            "ttl": record["ttl"],
            "settings": dict(record["settings"]),
            "meta": {"auto_added": False, "managed_by_apps": False, "managed_by_argo_tunnel": False},
            "comment": record["comment"],
            "tags": list(record["tags"]),
            "created_on": stamp(record["created_on"]),
            "modified_on": stamp(record["modified_on"]),
        }
        if record.get("priority") is not None:
            result["priority"] = record["priority"]
        return result

    def zone_record(self, records: dict, zone_id: str, record_id) -> dict:
        record = records.get(str(record_id).lower()) if isinstance(record_id, str) else None
        if record is None or record["zone"] != zone_id:
            raise ApiError(404, RECORD_NOT_FOUND, "Record does not exist.")
        return record

    def build_record(self, zone: dict, body: dict, old: dict | None) -> dict:
        """Validate a full record body (old supplies the id and timestamps on updates)."""
        record_type = field(body, "type", str, TYPE_INVALID, required=True).upper()
        if record_type not in TYPES:
            raise ApiError(
                400, TYPE_INVALID, f"Invalid DNS record type '{record_type}' (the emulator knows {', '.join(TYPES)})."
            )
        name = normalise_name(field(body, "name", str, NAME_INVALID, required=True), zone["name"])
        content = field(body, "content", str, CONTENT_INVALID, required=True)
        proxied = field(body, "proxied", bool, BAD_REQUEST, default=False)
        ttl = field(body, "ttl", int, TTL_INVALID, default=1)
        comment = field(body, "comment", str, BAD_REQUEST, nullable=True)
        tags = field(body, "tags", list, BAD_REQUEST, default=[])
        settings = field(body, "settings", dict, BAD_REQUEST, default={})
        priority = field(body, "priority", int, BAD_REQUEST)
        for tag in tags:
            check_type(tag, str, "tags[]", BAD_REQUEST)
            if ":" not in tag:
                raise ApiError(400, BAD_REQUEST, f"Tag '{tag}' must have the form name:value.")
        if ttl != 1 and not 60 <= ttl <= 86400:
            raise ApiError(400, TTL_INVALID, "Invalid TTL. Must be between 60 and 86400 seconds, or 1 for Automatic.")
        if proxied and record_type not in PROXIABLE:
            raise ApiError(400, NOT_PROXIABLE, f"This record type cannot be proxied: {record_type}.")
        if proxied and ttl != 1:
            raise ApiError(400, TTL_INVALID, "TTL must be 1 (automatic) for proxied records.")
        if comment is not None and len(comment) > 100:
            raise ApiError(400, BAD_REQUEST, "Comment is too long: at most 100 characters on this plan.")
        if record_type == "MX" and priority is None:
            raise ApiError(400, BAD_REQUEST, "MX records need a priority.")
        content = validate_content(record_type, content)
        moment = now()
        return {
            "id": old["id"] if old else hex_id(),
            "zone": zone["id"],
            "name": name,
            "type": record_type,
            "content": content,
            "proxied": proxied,
            "ttl": ttl,
            "comment": comment,
            "tags": tags,
            "settings": settings,
            "priority": priority,
            "created_on": old["created_on"] if old else moment,
            "modified_on": moment,
        }

    @staticmethod
    def check_conflicts(records: dict, record: dict) -> None:
        same_name = [
            r
            for r in records.values()
            if r["zone"] == record["zone"] and r["name"] == record["name"] and r["id"] != record["id"]
        ]
        if record["type"] == "CNAME" and any(r["type"] in ADDRESS_TYPES for r in same_name):
            raise ApiError(400, CNAME_CONFLICT, "An A, AAAA, or CNAME record with that host already exists.")
        if record["type"] != "CNAME" and any(r["type"] == "CNAME" for r in same_name):
            raise ApiError(400, CNAME_EXISTS, "A CNAME record with that host already exists.")
        for other in same_name:
            if other["type"] == record["type"] and other["content"].lower() == record["content"].lower():
                if (other["proxied"], other["ttl"], other.get("priority")) == (
                    record["proxied"],
                    record["ttl"],
                    record.get("priority"),
                ):
                    raise ApiError(400, IDENTICAL_RECORD, "An identical record already exists.")
                raise ApiError(400, RECORD_EXISTS, "Record already exists.")

    # --- records: operations on a records dict (the live one, or a batch's working copy) -----------------------

    def op_create(self, records: dict, zone: dict, body) -> dict:
        record = self.build_record(zone, require_object(body), None)
        self.check_conflicts(records, record)
        records[record["id"]] = record
        return record

    def op_put(self, records: dict, zone: dict, record_id, body) -> dict:
        old = self.zone_record(records, zone["id"], record_id)
        record = self.build_record(zone, require_object(body), old)
        self.check_conflicts(records, record)
        records[record["id"]] = record
        return record

    def op_patch(self, records: dict, zone: dict, record_id, body) -> dict:
        old = self.zone_record(records, zone["id"], record_id)
        merged = {k: old[k] for k in ("type", "name", "content", "proxied", "ttl", "comment", "tags", "settings")}
        if old.get("priority") is not None:
            merged["priority"] = old["priority"]
        merged.update({k: v for k, v in require_object(body).items() if k != "id"})
        record = self.build_record(zone, merged, old)
        self.check_conflicts(records, record)
        records[record["id"]] = record
        return record

    def op_delete(self, records: dict, zone: dict, record_id) -> dict:
        record = self.zone_record(records, zone["id"], record_id)
        del records[record["id"]]
        return record

    # --- record endpoints ------------------------------------------------------------------------------------

    def list_records(self, ctx):
        query = ctx.query
        zone = self.zones[ctx.zone]
        tests = record_filters(query, zone["name"])
        match = qget(query, "match", "all")
        if match not in ("all", "any"):
            raise ApiError(400, BAD_REQUEST, "Invalid value for match: must be all or any")
        tag_tests = tag_filters(query)
        tag_match = qget(query, "tag_match", "all")
        items = [
            r
            for r in self.dns_records.values()
            if r["zone"] == zone["id"] and combine(tests, match, r) and combine(tag_tests, tag_match, r)
        ]
        order = qget(query, "order", "type")
        if order not in ORDER_KEYS:
            raise ApiError(400, BAD_REQUEST, f"Invalid value for order: must be one of {', '.join(ORDER_KEYS)}")
        direction = qget(query, "direction", "asc")
        if direction not in ("asc", "desc"):
            raise ApiError(400, BAD_REQUEST, "Invalid value for direction: must be asc or desc")
        items.sort(key=lambda r: (r[order], r["name"], r["created_on"], r["id"]), reverse=direction == "desc")
        chunk, info = paginate(items, query, 100, 1, 5000)
        return [self.render_record(r) for r in chunk], info

    def create_record(self, ctx):
        return self.render_record(self.op_create(self.dns_records, self.zones[ctx.zone], ctx.body))

    def read_record(self, ctx):
        return self.render_record(self.zone_record(self.dns_records, ctx.zone, ctx.params["record_id"]))

    def put_record(self, ctx):
        zone = self.zones[ctx.zone]
        return self.render_record(self.op_put(self.dns_records, zone, ctx.params["record_id"], ctx.body))

    def patch_record(self, ctx):
        zone = self.zones[ctx.zone]
        return self.render_record(self.op_patch(self.dns_records, zone, ctx.params["record_id"], ctx.body))

    def delete_record(self, ctx):
        record = self.op_delete(self.dns_records, self.zones[ctx.zone], ctx.params["record_id"])
        return {"id": record["id"]}

    def batch_records(self, ctx):
        """Deletes, then patches, then puts, then posts, on a working copy committed only if all succeed."""
        zone = self.zones[ctx.zone]
        body = require_object(ctx.body)
        groups = {}
        for key in ("deletes", "patches", "puts", "posts"):
            groups[key] = field(body, key, list, BAD_REQUEST, default=[])
        total = sum(len(items) for items in groups.values())
        limit = BATCH_LIMITS.get(zone.get("plan", "free"), 200)
        if total > limit:
            raise ApiError(400, BATCH_TOO_LARGE, f"Too many changes in one batch: {total} (the limit is {limit}).")
        work = copy.deepcopy(self.dns_records)
        result = {key: [] for key in groups}
        for key, items in groups.items():
            for index, item in enumerate(items):
                try:
                    record = self.batch_step(work, zone, key, item)
                except ApiError as exc:
                    exc.errors[0]["error_chain"] = [{"code": exc.errors[0]["code"], "message": f"{key}[{index}]"}]
                    raise
                result[key].append(self.render_record(record))
        self.dns_records.clear()
        self.dns_records.update(work)
        return result

    def batch_step(self, work: dict, zone: dict, key: str, item) -> dict:
        item = require_object(item, BAD_REQUEST)
        if key == "posts":
            return self.op_create(work, zone, item)
        record_id = field(item, "id", str, BAD_REQUEST, required=True)
        if key == "deletes":
            return self.op_delete(work, zone, record_id)
        if key == "patches":
            return self.op_patch(work, zone, record_id, item)
        return self.op_put(work, zone, record_id, item)


# --- helpers -----------------------------------------------------------------------------------------------------


def normalise_name(name: str, zone_name: str) -> str:
    """Lower-case FQDN inside the zone: '@' is the apex, a bare label is completed with the zone."""
    text = name.strip().lower().rstrip(".")
    if text in ("@", ""):
        text = zone_name if text == "@" else ""
    elif "." not in text:
        text = f"{text}.{zone_name}"
    if not text:
        raise ApiError(400, NAME_INVALID, "DNS name is invalid.")
    if text != zone_name and not text.endswith("." + zone_name):
        raise ApiError(400, NAME_INVALID, f"DNS name is invalid: {name} is not inside the zone {zone_name}.")
    labels = text.split(".")
    if len(text) > 253 or any(not LABEL.match(label) for label in labels) or "*" in labels[1:]:
        raise ApiError(400, NAME_INVALID, f"DNS name is invalid: {name}.")
    return text


def validate_content(record_type: str, content: str) -> str:
    try:
        if record_type == "A":
            return str(ipaddress.IPv4Address(content))
        if record_type == "AAAA":
            return str(ipaddress.IPv6Address(content))
    except ValueError:
        version = "IPv4" if record_type == "A" else "IPv6"
        raise ApiError(
            400, CONTENT_INVALID, f"Content for {record_type} record is invalid. Must be a valid {version} address."
        ) from None
    if record_type in ("CNAME", "NS", "PTR"):
        host = content.strip().rstrip(".").lower()
        if not host or any(not LABEL.match(label) or label == "*" for label in host.split(".")):
            raise ApiError(400, CONTENT_INVALID, f"Content for {record_type} record is invalid.")
        return host
    if not content:
        raise ApiError(400, CONTENT_INVALID, f"Content for {record_type} record is invalid.")
    return content


def combine(tests: list, match: str, item) -> bool:
    if not tests:
        return True
    results = (test(item) for test in tests)
    return any(results) if match == "any" else all(results)


def _string_ops(query: dict, key: str, getter, normalise=lambda v: v) -> list:
    """The plain form (exact) and key.exact / .contains / .startswith / .endswith of one string field."""
    tests = []
    plain = qget(query, key)
    exact = qget(query, f"{key}.exact")
    for value in (plain, exact):
        if value is not None:
            wanted = normalise(value)
            tests.append(lambda r, v=wanted: (getter(r) or "") == v)
    for op, function in (("contains", str.__contains__), ("startswith", str.startswith), ("endswith", str.endswith)):
        value = qget(query, f"{key}.{op}")
        if value is not None:
            part = value.lower()
            tests.append(lambda r, v=part, f=function: f((getter(r) or "").lower(), v))
    return tests


def record_filters(query: dict, zone_name: str) -> list:
    tests = _string_ops(query, "name", lambda r: r["name"], lambda v: v.lower().rstrip("."))
    tests += _string_ops(query, "content", lambda r: r["content"].lower(), lambda v: v.lower().rstrip("."))
    tests += _string_ops(query, "comment", lambda r: r["comment"])
    record_type = qget(query, "type")
    if record_type is not None:
        tests.append(lambda r: r["type"] == record_type.upper())
    proxied = qbool(query, "proxied")
    if proxied is not None:
        tests.append(lambda r: r["proxied"] == proxied)
    if qget(query, "comment.present") is not None:
        tests.append(lambda r: bool(r["comment"]))
    if qget(query, "comment.absent") is not None:
        tests.append(lambda r: not r["comment"])
    search = qget(query, "search")
    if search:
        needle = search.lower()
        tests.append(lambda r: needle in r["name"] or needle in r["content"].lower() or needle in (r["comment"] or ""))
    return tests


def tag_filters(query: dict) -> list:
    tests = []
    for value in query.get("tag", []) + query.get("tag.exact", []):
        tests.append(lambda r, v=value: v in r["tags"])
    for value in query.get("tag.present", []):
        tests.append(lambda r, v=value: any(t.split(":", 1)[0] == v for t in r["tags"]))
    for value in query.get("tag.absent", []):
        tests.append(lambda r, v=value: all(t.split(":", 1)[0] != v for t in r["tags"]))
    for op, function in (("contains", str.__contains__), ("startswith", str.startswith), ("endswith", str.endswith)):
        for value in query.get(f"tag.{op}", []):
            name, _ignored, part = value.partition(":")
            tests.append(
                lambda r, n=name, p=part, f=function: any(
                    t.split(":", 1)[0] == n and f(t.split(":", 1)[1], p) for t in r["tags"]
                )
            )
    return tests
