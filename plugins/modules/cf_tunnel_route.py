#!/usr/bin/python
# Copyright (c) 2026 tunnelops maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
module: cf_tunnel_route
short_description: Route DNS names, load balancers and private networks to a Cloudflare named tunnel
version_added: 0.1.0
description:
  - Does what C(cloudflared tunnel route dns), C(route lb) and C(route ip) do, through Cloudflare's public API
    with an API token, without C(cert.pem).
  - V(dns) makes a proxied CNAME record C(<hostname>) pointing at C(<tunnel uuid>.cfargotunnel.com) with automatic TTL.
    It never replaces a record that points elsewhere unless O(overwrite=true), and then it replaces it in one batch
    request so that the name is never without a record.
  - V(lb) adds the tunnel as an origin of a load-balancer pool (created if missing) and makes sure a proxied load
    balancer for O(hostname) uses that pool.
  - V(ip) routes a private network (CIDR) to the tunnel.
  - Many DNS routes can be handled in one task with O(hostnames); each zone is then read once and the changes are
    written in as few batch requests as possible.
author:
  - tunnelops maintainers (@tunnelops)
extends_documentation_fragment:
  - tunnelops.cloudflare.api
  - tunnelops.cloudflare.attributes
  - tunnelops.cloudflare.attributes.actiongroup
attributes:
  check_mode:
    support: full
    details:
      - Reads what exists and returns the predicted routes without writing. Records, pools and routes that would be
        created have C(id=null).
  diff_mode:
    support: full
  idempotent:
    support: full
options:
  tunnel:
    description:
      - Name or UUID of the tunnel to route to.
      - A UUID is used as it is, without a request to look the tunnel up (and without checking that it exists).
        A name costs one request to find the tunnel's UUID.
    type: str
    required: true
    version_added: 0.1.0
  type:
    description:
      - What kind of route to manage.
      - V(dns) is a CNAME record, V(lb) an origin in a load-balancer pool plus the load balancer, V(ip) a private
        network route.
    type: str
    choices: [dns, lb, ip]
    default: dns
    version_added: 0.1.0
  state:
    description:
      - V(present) makes sure the route exists.
      - V(absent) removes only what points at this tunnel. With O(type=dns) a record is deleted only when it is a
        CNAME to this tunnel; anything else at the name is left and reported as a warning. With O(type=lb) only this
        tunnel's origin is removed from the pool; the pool and the load balancer are kept.
    type: str
    choices: [present, absent]
    default: present
    version_added: 0.1.0
  hostname:
    description:
      - The fully qualified DNS name to route (O(type=dns)) or the load balancer's name (O(type=lb)).
      - Internationalised names are converted to punycode, as Cloudflare stores them
        (C(bücher.example.com) becomes C(xn--bcher-kva.example.com)). A leading C(*.) wildcard label is allowed.
      - Required with O(type=lb). With O(type=dns) either this or O(hostnames) is required.
    type: str
    version_added: 0.1.0
  hostnames:
    description:
      - Several DNS routes at once (O(type=dns) only); the list form.
      - Each item is a hostname string, or a dictionary with C(hostname) and optionally C(zone) (overriding O(zone)).
      - The same hostname may not appear twice. An empty list changes nothing.
      - Hostnames are grouped by zone. A zone with one hostname is read with a lookup by name; a zone with several is
        listed once (A, AAAA and CNAME records are compared client-side). Nothing is written until every hostname
        has been planned, so one conflict or unknown zone stops the whole task before any write.
    type: list
    elements: raw
    version_added: 0.1.0
  zone:
    description:
      - The zone that holds O(hostname), as a zone name or a zone ID (32 hexadecimal characters).
      - If not set, the zone is the account's zone whose name is the longest suffix of the hostname (the account's
        zones are listed once). A hostname in no zone of the account is an error.
      - A zone ID saves the zone lookup; a zone name costs one request.
    type: str
    version_added: 0.1.0
  overwrite:
    description:
      - Replace an A, AAAA or CNAME record at the name that does not point at this tunnel, like cloudflared's
        C(--overwrite-dns).
      - The old records are deleted and the new CNAME is created in one batch request, which Cloudflare applies in one
        transaction.
      - If V(false), such a record makes the task fail, naming the record, and nothing is written.
    type: bool
    default: false
    version_added: 0.1.0
  overwrite_legacy:
    description:
      - Replace, as O(overwrite=true) does, only the records that a legacy tunnel left at the name, that is proxied
        AAAA records, which Cloudflare's edge created for legacy tunnels. Any other record still makes the task fail.
      - This is the consent C(playbooks/migrate.yml) gives by default when it moves a legacy hostname to a tunnel.
      - Has no effect when O(overwrite=true).
    type: bool
    default: false
    version_added: 0.1.0
  comment:
    description:
      - Comment for the DNS records and private network routes this module creates.
      - "Defaults to a marker naming the tunnel, C(managed by tunnelops.cloudflare: tunnel=<name> (<uuid>))."
      - DNS records are only given a comment when they are created. For O(type=ip) a comment that is set explicitly
        is compared and updated on an existing route.
    type: str
    version_added: 0.1.0
  batch_size:
    description:
      - Most operations (deletes, patches and posts) sent in one DNS batch request.
      - Cloudflare allows 200 on the Free plan and 3500 on paid plans. One batch is applied all or nothing.
    type: int
    default: 200
    version_added: 0.1.0
  pool:
    description:
      - Name of the load-balancer pool (O(type=lb)); letters, digits, C(-) and C(_) only.
      - Pools belong to the account. A missing pool is created with this tunnel as its only origin.
    type: str
    version_added: 0.1.0
  pool_description:
    description:
      - Description given to the pool when this module creates it (O(type=lb)). An existing pool's description is
        left as it is.
    type: str
    version_added: 0.1.0
  weight:
    description:
      - Weight of this tunnel's origin in the pool (O(type=lb)), from V(0) to V(1).
    type: float
    default: 1.0
    version_added: 0.1.0
  enabled:
    description:
      - Whether this tunnel's origin in the pool is enabled (O(type=lb)).
    type: bool
    default: true
    version_added: 0.1.0
  origin_name:
    description:
      - Name of the origin created for this tunnel in the pool (O(type=lb)).
      - Defaults to the tunnel's name, or its UUID when O(tunnel) is a UUID.
      - The origin is recognised by its address C(<uuid>.cfargotunnel.com), not by this name.
    type: str
    version_added: 0.1.0
  network:
    description:
      - The private network to route (O(type=ip)), in CIDR notation such as C(10.1.0.0/16) or C(fd00:1::/64).
    type: str
    version_added: 0.1.0
  virtual_network_id:
    description:
      - UUID of the virtual network of the route (O(type=ip)).
      - If not set, the account's default virtual network is meant.
    type: str
    version_added: 0.1.0
notes:
  - "Token permissions: O(type=dns) needs C(DNS Write) and C(Zone Read) on the zones; O(type=lb) needs
    C(Load Balancing: Monitors and Pools Write) on the account and C(Load Balancers Write) and C(Zone Read) on the zone;
    O(type=ip) needs C(Cloudflare Tunnel Write). A tunnel given by name also needs C(Cloudflare Tunnel Read)."
  - "Request cost, measured against the test API emulator's request log, counting every request including the
    tunnel lookup. Routing an already routed hostname takes 2 requests when O(tunnel) is a UUID (zone lookup, record
    lookup by name), 1 when O(zone) is also given as a zone ID, and 3 when O(tunnel) is a name (+1 for the tunnel
    lookup). A new record adds 1 write; replacing a conflicting record with O(overwrite) adds 1 batch write."
  - "In the list form, N hostnames of one zone cost 1 zone lookup, the zone's record pages (5000 records a page) and
    one batch request per O(batch_size) operations, whatever N is. 50 new hostnames of one zone took 3 requests with a
    tunnel UUID and 4 with a tunnel name; running the same task again took 2 (3) requests and wrote nothing."
  - A CNAME to a tunnel only works from a zone in the same account as the tunnel.
  - DNS records are matched by name and compared by type, content and proxy status only; TTL, comment and tags of an
    existing record that points at this tunnel are left as they are (a proxied record always has automatic TTL).
  - Records of other types than A, AAAA and CNAME (TXT, MX and so on) at the name are neither compared nor touched.
  - With O(state=absent) and O(type=lb) a pool whose last origin was this tunnel is left without origins, if
    Cloudflare accepts that; the pool and the load balancer are never deleted by this module.
  - The API has no conditional update for pools, so this module changes a pool by read-modify-write. Runs on the same
    machine (for example every host of a play with C(delegate_to=localhost)) take turns through a lock file in the
    temporary directory, so none drops another's origin. Runs from different machines at the same moment are not
    serialised and can still lose an origin; run them from one controller.
  - An existing load balancer that is not proxied is refused before anything is written, since Cloudflare does not
    accept a tunnel as origin of a non-proxied load balancer (error 1004).
  - A private network route of the same network and virtual network that belongs to another tunnel is never taken
    over; the task fails and names it.
seealso:
  - module: tunnelops.cloudflare.cf_tunnel
  - module: tunnelops.cloudflare.cf_tunnel_info
"""

EXAMPLES = r"""
- name: Route app.example.com to the tunnel
  tunnelops.cloudflare.cf_tunnel_route:
    account_id: "{{ cloudflare_account_id }}"
    tunnel: web-01
    hostname: app.example.com
  delegate_to: localhost

- name: Replace the record a legacy tunnel left behind, in one batch request
  tunnelops.cloudflare.cf_tunnel_route:
    account_id: "{{ cloudflare_account_id }}"
    tunnel: "{{ tunnel.id }}"
    hostname: legacy.example.com
    overwrite: true
  delegate_to: localhost

- name: Route every hostname of the fleet in one task
  tunnelops.cloudflare.cf_tunnel_route:
    account_id: "{{ cloudflare_account_id }}"
    tunnel: "{{ tunnel.id }}"
    hostnames:
      - app.example.com
      - "*.apps.example.com"
      - hostname: api.dev.example.com
        zone: dev.example.com
  delegate_to: localhost
  run_once: true

- name: Add the tunnel to a load-balancer pool and make sure the load balancer uses it
  tunnelops.cloudflare.cf_tunnel_route:
    account_id: "{{ cloudflare_account_id }}"
    tunnel: web-01
    type: lb
    hostname: lb.example.com
    pool: web-pool
    weight: 0.5
  delegate_to: localhost

- name: Route a private network
  tunnelops.cloudflare.cf_tunnel_route:
    account_id: "{{ cloudflare_account_id }}"
    tunnel: web-01
    type: ip
    network: 10.20.0.0/16
    comment: office LAN
  delegate_to: localhost

- name: Remove this tunnel's record, leaving anything else at the name
  tunnelops.cloudflare.cf_tunnel_route:
    account_id: "{{ cloudflare_account_id }}"
    tunnel: web-01
    hostname: app.example.com
    state: absent
  delegate_to: localhost
"""

RETURN = r"""
tunnel:
  description: The tunnel the routes point at.
  returned: always
  type: dict
  contains:
    id:
      description: UUID of the tunnel.
      type: str
      sample: c1744f8b-faa1-48a4-9e5c-02ac921467fa
    name:
      description: Name of the tunnel, or V(null) when O(tunnel) was a UUID (no lookup was made).
      type: str
      sample: web-01
route:
  description:
    - The route of a single-route task (O(hostname) or O(network)); the same as the first item of RV(routes).
    - Not returned in the list form.
  returned: when O(hostnames) is not used
  type: dict
  sample:
    type: dns
    hostname: app.example.com
    zone: example.com
    zone_id: 023e105f4ecef8ad9ca31a8372d0c353
    result: new
    record:
      id: 372e67954025e0ba6aaa6d586b9e0b59
      name: app.example.com
      type: CNAME
      content: c1744f8b-faa1-48a4-9e5c-02ac921467fa.cfargotunnel.com
      proxied: true
      ttl: 1
      comment: "managed by tunnelops.cloudflare: tunnel=web-01 (c1744f8b-faa1-48a4-9e5c-02ac921467fa)"
routes:
  description:
    - One item per route, in the order given, each as it is after the task (predicted in check mode).
  returned: always
  type: list
  elements: dict
  contains:
    type:
      description: V(dns), V(lb) or V(ip).
      type: str
    result:
      description:
        - What happened to the route, in cloudflared's words, V(new), V(updated) or V(unchanged), or V(deleted)
          for O(state=absent).
        - For O(type=dns), V(updated) means an unproxied CNAME to the tunnel was made proxied or, with O(overwrite),
          other records were replaced.
      type: str
      sample: new
    hostname:
      description: The hostname as Cloudflare stores it (punycode). O(type=dns) and O(type=lb).
      type: str
      sample: xn--bcher-kva.example.com
    zone:
      description: Name of the zone, when known (a zone given as ID with no record is not looked up).
      type: str
      sample: example.com
    zone_id:
      description: ID of the zone. O(type=dns) and O(type=lb).
      type: str
    record:
      description:
        - O(type=dns) only. The CNAME record now at the name (C(id), C(name), C(type), C(content), C(proxied),
          C(ttl), C(comment)), or V(null) when there is none of this tunnel.
      type: dict
    replaced:
      description: O(type=dns) only. Records deleted to make room for the CNAME (O(overwrite=true)).
      type: list
      elements: dict
    left:
      description: O(type=dns), O(state=absent) only. Records at the name that were left because they do not point at
        this tunnel.
      type: list
      elements: dict
    load_balancer:
      description: O(type=lb) only. V(new), V(updated) (the pool was added) or V(unchanged).
      type: str
    pool:
      description: O(type=lb) only. V(new), V(updated) (our origin added, changed or removed) or V(unchanged).
      type: str
    pool_name:
      description: O(type=lb) only. Name of the pool.
      type: str
    pool_id:
      description: O(type=lb) only. ID of the pool (V(null) for a pool that check mode would create).
      type: str
    load_balancer_id:
      description: O(type=lb) only. ID of the load balancer (V(null) when it would be created in check mode).
      type: str
    origins:
      description: O(type=lb) only. The pool's origins as they are now, other origins included.
      type: list
      elements: dict
    default_pools:
      description: O(type=lb) only. The load balancer's default pools (IDs) as they are now.
      type: list
      elements: str
    network:
      description: O(type=ip) only. The network in canonical CIDR form.
      type: str
      sample: 10.20.0.0/16
    virtual_network_id:
      description: O(type=ip) only. The virtual network of the route.
      type: str
    ip_route:
      description: O(type=ip) only. The route (C(id), C(network), C(tunnel_id), C(virtual_network_id), C(comment)),
        or V(null) when none of this tunnel exists.
      type: dict
"""

import contextlib
import fcntl
import hashlib
import os
import tempfile
import time
import uuid

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.tunnelops.cloudflare.plugins.module_utils._api import (
    CloudflareAPIError,
    CloudflareClient,
    cloudflare_argument_spec,
    cloudflare_module_kwargs,
    error_message,
)
from ansible_collections.tunnelops.cloudflare.plugins.module_utils._routes import (
    DELETED,
    NEW,
    UNCHANGED,
    UPDATED,
    RouteError,
    batch_body,
    chunk_plans,
    find_named,
    in_zone,
    is_uuid,
    is_zone_id,
    managed_comment,
    match_zone,
    normalise_hostname,
    normalise_network,
    normalise_pool_name,
    plan_dns_route,
    plan_ip_route,
    plan_load_balancer,
    plan_pool,
    record_summary,
    same_name,
)
from ansible_collections.tunnelops.cloudflare.plugins.module_utils._tunnel import find_tunnel

LOCK_TIMEOUT = 300.0

ROUTE_OPTIONS = {
    "tunnel": {"type": "str", "required": True},
    "type": {"type": "str", "choices": ["dns", "lb", "ip"], "default": "dns"},
    "state": {"type": "str", "choices": ["present", "absent"], "default": "present"},
    "hostname": {"type": "str"},
    "hostnames": {"type": "list", "elements": "raw"},
    "zone": {"type": "str"},
    "overwrite": {"type": "bool", "default": False},
    "overwrite_legacy": {"type": "bool", "default": False},
    "comment": {"type": "str"},
    "batch_size": {"type": "int", "default": 200},
    "pool": {"type": "str"},
    "pool_description": {"type": "str"},
    "weight": {"type": "float", "default": 1.0},
    "enabled": {"type": "bool", "default": True},
    "origin_name": {"type": "str"},
    "network": {"type": "str"},
    "virtual_network_id": {"type": "str"},
}


@contextlib.contextmanager
def controller_lock(key: str, wanted: bool = True, timeout: float = LOCK_TIMEOUT):
    """Hold an exclusive lock shared by every module run on this machine that uses the same key."""
    if not wanted:
        yield
        return
    digest = hashlib.sha256(key.encode()).hexdigest()[:24]
    path = os.path.join(tempfile.gettempdir(), f"tunnelops-cloudflare-{digest}.lock")
    deadline = time.monotonic() + timeout
    with open(path, "a", encoding="utf-8") as handle:
        while True:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() > deadline:
                    raise RouteError(
                        f"another task held the load-balancer lock {path} for over {timeout:.0f} s"
                    ) from None
                time.sleep(0.05)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


class TunnelRoute:
    """Plans every route first, and writes only when the whole plan holds."""

    def __init__(self, module: AnsibleModule, client: CloudflareClient):
        self.module = module
        self.client = client
        self.params = module.params
        self.account = client.account_id
        self.tunnel_id = None
        self.tunnel_name = None
        self.action = "look up the tunnel"
        self.routes = []
        self.written = []
        self.diff = {"before": {}, "after": {}}

    def run(self) -> dict:
        if self.params["hostnames"] is not None and self.params["type"] != "dns":
            raise RouteError("hostnames (the list form) is only for type=dns")
        if self.params["batch_size"] < 1:
            raise RouteError("batch_size must be at least 1")
        self.resolve_tunnel()
        {"dns": self.dns, "lb": self.lb, "ip": self.ip}[self.params["type"]]()
        return self.build_result()

    def resolve_tunnel(self) -> None:
        given = self.params["tunnel"].strip()
        if is_uuid(given):
            self.tunnel_id = str(uuid.UUID(given))
            return
        tunnel = find_tunnel(self.client, name=given)
        if tunnel is None:
            raise RouteError(f"tunnel {given!r} does not exist in account {self.account}")
        self.tunnel_id = tunnel["id"]
        self.tunnel_name = tunnel.get("name")

    def comment(self) -> str:
        if self.params["comment"] is not None:
            return self.params["comment"]
        return managed_comment(self.tunnel_id, self.tunnel_name)

    # Zones

    def resolve_zones(self, entries: list[dict]) -> None:
        """Set ``zone_id`` and ``zone_name`` on each entry; an entry in no zone of the account is an error."""
        self.action = "look up the zones"
        account_zones = None
        if any(not entry["zone"] for entry in entries):
            account_zones = self.client.paginate("/zones", query={"account.id": self.account})
        named = {}
        for entry in entries:
            hint = entry["zone"]
            if not hint:
                zone = match_zone(entry["hostname"], account_zones)
            elif is_zone_id(hint):
                zone = {"id": hint.lower(), "name": None}
            elif account_zones is not None:
                zone = find_named(account_zones, hint)
            else:
                if hint not in named:
                    query = {"name": hint.lower().rstrip("."), "account.id": self.account}
                    named[hint] = find_named(self.client.paginate("/zones", query=query), hint.rstrip("."))
                zone = named[hint]
            entry["zone_id"] = zone["id"] if zone else None
            entry["zone_name"] = zone["name"] if zone else None

        unknown = sorted({e["zone"] for e in entries if e["zone"] and e["zone_id"] is None})
        if unknown:
            raise RouteError(f"zone {', '.join(unknown)} is not a zone of account {self.account}; nothing was changed")
        lost = [e["hostname"] for e in entries if e["zone_id"] is None]
        if lost:
            raise RouteError(
                f"no zone of account {self.account} holds {', '.join(lost)}; nothing was changed. "
                "Add the zone to the account or correct the hostname or the zone option."
            )
        outside = [e["hostname"] for e in entries if e["zone_name"] and not in_zone(e["hostname"], e["zone_name"])]
        if outside:
            raise RouteError(f"{', '.join(outside)} is not inside the given zone; nothing was changed")

    # DNS

    def dns_entries(self) -> list[dict]:
        given = self.params["hostnames"] if self.params["hostnames"] is not None else [self.params["hostname"]]
        entries = []
        for item in given:
            if isinstance(item, dict):
                unknown = set(item) - {"hostname", "zone"}
                if unknown or not item.get("hostname"):
                    raise RouteError(
                        f"each item of hostnames is a hostname or a dict with hostname and zone, not {item!r}"
                    )
                hostname, zone = item["hostname"], item.get("zone")
            else:
                hostname, zone = item, None
            entries.append({"hostname": normalise_hostname(hostname), "zone": zone or self.params["zone"]})

        seen = set()
        duplicates = sorted({e["hostname"] for e in entries if e["hostname"] in seen or seen.add(e["hostname"])})
        if duplicates:
            raise RouteError(f"hostnames lists {', '.join(duplicates)} more than once")
        return entries

    def zone_records(self, zone_id: str, hostnames: list[str]) -> list[dict]:
        path = f"/zones/{zone_id}/dns_records"
        if len(hostnames) == 1:
            return self.client.paginate(path, query={"name": hostnames[0]})
        return self.client.paginate(path)

    def dns(self) -> None:
        entries = self.dns_entries()
        self.resolve_zones(entries)

        self.action = "read the DNS records"
        by_zone: dict[str, list[dict]] = {}
        for entry in entries:
            by_zone.setdefault(entry["zone_id"], []).append(entry)
        plans, problems = {}, []
        for zone_id, group in by_zone.items():
            records = self.zone_records(zone_id, [e["hostname"] for e in group])
            for entry in group:
                try:
                    plan = plan_dns_route(
                        entry["hostname"],
                        records,
                        self.tunnel_id,
                        state=self.params["state"],
                        overwrite=self.params["overwrite"],
                        comment=self.comment(),
                        overwrite_legacy=self.params["overwrite_legacy"],
                    )
                except RouteError as exc:
                    problems.append(str(exc))
                    continue
                plan.zone_id = zone_id
                plan.zone_name = entry["zone_name"] or next((r.get("zone_name") for r in records), None)
                plans[entry["hostname"]] = plan
        if problems:
            raise RouteError(" ".join(problems) + " Nothing was changed.")

        for plan in plans.values():
            for record in plan.left:
                self.module.warn(
                    f"{plan.hostname}: left {record['type']} record {record['id']} -> "
                    f"{record['content']} in place, it does not point at tunnel {self.tunnel_id}"
                )
        if not self.module.check_mode:
            for zone_id, group in by_zone.items():
                try:
                    self.write_zone(zone_id, [plans[e["hostname"]] for e in group])
                except CloudflareAPIError as exc:
                    done = f" Already written: {', '.join(self.written)}." if self.written else " Nothing was written."
                    raise RouteError(error_message(self.action, exc) + done) from None

        for entry in entries:
            self.add_dns_route(plans[entry["hostname"]])

    def write_zone(self, zone_id: str, plans: list) -> None:
        self.action = "write the DNS records"
        pending = [p for p in plans if p.operation_count]
        if len(pending) == 1 and pending[0].operation_count == 1:
            self.write_one(zone_id, pending[0])
            self.written.append(pending[0].hostname)
            return
        for chunk in chunk_plans(pending, self.params["batch_size"]):
            self.action = "write a batch of DNS records"
            result = self.client.request("POST", f"/zones/{zone_id}/dns_records/batch", body=batch_body(chunk)) or {}
            posted = {r.get("name", "").lower(): r for r in result.get("posts") or []}
            patched = {r.get("id"): r for r in result.get("patches") or []}
            for plan in chunk:
                for op in plan.posts:
                    plan.after = record_summary(posted.get(op["name"], plan.after))
                for op in plan.patches:
                    plan.after = record_summary(patched.get(op["id"], plan.after))
                self.written.append(plan.hostname)

    def write_one(self, zone_id: str, plan) -> None:
        path = f"/zones/{zone_id}/dns_records"
        if plan.posts:
            plan.after = record_summary(self.client.request("POST", path, body=plan.posts[0]))
        elif plan.patches:
            patch = dict(plan.patches[0])
            record_id = patch.pop("id")
            plan.after = record_summary(self.client.request("PATCH", f"{path}/{record_id}", body=patch, retry=True))
        else:
            self.client.request("DELETE", f"{path}/{plan.deletes[0]['id']}", retry=True)

    def add_dns_route(self, plan) -> None:
        deleted_ids = {d["id"] for d in plan.deletes}
        route = {
            "type": "dns",
            "hostname": plan.hostname,
            "zone": plan.zone_name,
            "zone_id": plan.zone_id,
            "result": plan.result,
            "record": None if plan.result == DELETED else plan.after,
        }
        if self.params["state"] == "present":
            route["replaced"] = [r for r in plan.before if r["id"] in deleted_ids]
        else:
            route["left"] = plan.left
        self.routes.append(route)

        if plan.result != UNCHANGED:
            record = route["record"]
            kept = [
                r for r in plan.before if r["id"] not in deleted_ids and (record is None or r["id"] != record["id"])
            ]
            self.diff["before"][plan.hostname] = plan.before
            self.diff["after"][plan.hostname] = kept + ([record] if record else [])

    # Load balancer

    def lb(self) -> None:
        hostname = normalise_hostname(self.params["hostname"])
        pool_name = normalise_pool_name(self.params["pool"])
        if not 0 <= self.params["weight"] <= 1:
            raise RouteError(f"weight must be between 0 and 1, not {self.params['weight']}")
        entry = {"hostname": hostname, "zone": self.params["zone"]}
        self.resolve_zones([entry])

        # Pools change by read-modify-write and the API has no conditional update, so hosts of one play routing to
        # the same pool at once would drop each other's origins. A lock file on the controller serialises them.
        with controller_lock(f"{self.client.base_url}|{self.account}|lb", wanted=not self.module.check_mode):
            self.lb_route(entry, pool_name)

    def lb_route(self, entry: dict, pool_name: str) -> None:
        hostname, zone_id = entry["hostname"], entry["zone_id"]
        state = self.params["state"]

        self.action = "read the load-balancer pools"
        pool = find_named(self.client.request("GET", f"/accounts/{self.account}/load_balancers/pools") or [], pool_name)
        pool_result, origins = plan_pool(
            pool,
            self.tunnel_id,
            state=state,
            origin_name=self.params["origin_name"] or self.tunnel_name or self.tunnel_id,
            weight=self.params["weight"],
            enabled=self.params["enabled"],
        )
        self.action = "read the load balancers"
        balancer = find_named(self.client.request("GET", f"/zones/{zone_id}/load_balancers") or [], hostname)
        lb_result = UNCHANGED
        if state == "present":
            lb_result = plan_load_balancer(balancer, pool["id"] if pool else None)[0]

        before = {"pool": self.pool_view(pool), "load_balancer": self.balancer_view(balancer)}
        if self.module.check_mode:
            pool, balancer = self.predict_lb(pool, pool_name, origins, balancer, hostname, lb_result)
        else:
            pool = self.write_pool(pool, pool_name, pool_result, origins)
            balancer = self.write_balancer(zone_id, hostname, balancer, (pool or {}).get("id"), lb_result)

        overall = UNCHANGED
        if state == "absent":
            overall = DELETED if pool_result == UPDATED else UNCHANGED
        elif NEW in (lb_result, pool_result):
            overall = NEW
        elif UPDATED in (lb_result, pool_result):
            overall = UPDATED
        self.routes.append(
            {
                "type": "lb",
                "hostname": hostname,
                "zone": entry["zone_name"],
                "zone_id": zone_id,
                "result": overall,
                "load_balancer": lb_result,
                "pool": pool_result,
                "pool_name": pool_name,
                "pool_id": (pool or {}).get("id"),
                "load_balancer_id": (balancer or {}).get("id"),
                "origins": (pool or {}).get("origins") or [],
                "default_pools": (balancer or {}).get("default_pools") or [],
            }
        )
        if overall != UNCHANGED:
            self.diff["before"] = before
            self.diff["after"] = {"pool": self.pool_view(pool), "load_balancer": self.balancer_view(balancer)}

    @staticmethod
    def predict_lb(pool, pool_name, origins, balancer, hostname, lb_result) -> tuple:
        """Check mode: the pool and load balancer as the writes would leave them (new objects have no id yet)."""
        if origins is not None:
            pool = dict(pool or {"id": None, "name": pool_name}, origins=origins)
        pool_id = (pool or {}).get("id")
        if lb_result == NEW:
            balancer = {"id": None, "name": hostname, "default_pools": [pool_id], "fallback_pool": pool_id}
            balancer["proxied"] = True
        elif lb_result == UPDATED:
            balancer = dict(balancer, default_pools=[*(balancer.get("default_pools") or []), pool_id])
        return pool, balancer

    @staticmethod
    def pool_view(pool: dict | None) -> dict | None:
        if not pool:
            return None
        return {"name": pool.get("name"), "origins": pool.get("origins") or []}

    @staticmethod
    def balancer_view(balancer: dict | None) -> dict | None:
        if not balancer:
            return None
        keys = ("name", "proxied", "default_pools", "fallback_pool")
        return {key: balancer.get(key) for key in keys}

    def write_pool(self, pool: dict | None, name: str, result: str, origins: list | None) -> dict | None:
        path = f"/accounts/{self.account}/load_balancers/pools"
        if result == NEW:
            self.action = f"create the pool {name}"
            body = {"name": name, "origins": origins}
            if self.params["pool_description"]:
                body["description"] = self.params["pool_description"]
            return self.client.request("POST", path, body=body)
        if origins is not None:
            # The API replaces the whole origins list, so the list sent holds every other origin unchanged.
            self.action = f"update the origins of pool {name}"
            return self.client.request("PATCH", f"{path}/{pool['id']}", body={"origins": origins}, retry=True)
        return pool

    def write_balancer(self, zone_id, hostname, balancer, pool_id, result) -> dict | None:
        path = f"/zones/{zone_id}/load_balancers"
        if result == NEW:
            self.action = f"create the load balancer {hostname}"
            body = {"name": hostname, "default_pools": [pool_id], "fallback_pool": pool_id, "proxied": True}
            return self.client.request("POST", path, body=body)
        if result == UPDATED:
            # Appended last, the pool only serves when the pools before it fail: an existing balancer's order is kept.
            self.action = f"add the pool to load balancer {hostname}"
            body = {"default_pools": [*(balancer.get("default_pools") or []), pool_id]}
            return self.client.request("PATCH", f"{path}/{balancer['id']}", body=body, retry=True)
        return balancer

    # Private network

    def ip(self) -> None:
        network = normalise_network(self.params["network"])
        vnet = self.params["virtual_network_id"]
        path = f"/accounts/{self.account}/teamnet/routes"

        self.action = "read the private network routes"
        query = {"is_deleted": "false", "network_subset": network, "network_superset": network}
        routes = [
            r for r in self.client.paginate(path, query=query) if same_name(normalise_network(r["network"]), network)
        ]
        # Without a virtual network the route lives in the account's default one; only ask which that is when the
        # network is routed somewhere already, so that creating a route costs no extra request.
        if vnet is None and routes:
            default = self.client.request(
                "GET",
                f"/accounts/{self.account}/teamnet/virtual_networks",
                query={"is_default": "true", "is_deleted": "false"},
            )
            default_id = next((v["id"] for v in default or [] if v.get("is_default_network")), None)
            routes = [r for r in routes if r.get("virtual_network_id") in (None, default_id)]
        result, current = plan_ip_route(
            routes,
            network,
            self.tunnel_id,
            state=self.params["state"],
            virtual_network_id=vnet,
            comment=self.params["comment"],
        )
        if result == UNCHANGED and self.params["state"] == "absent" and current is not None:
            self.module.warn(f"network {network} is routed to tunnel {current.get('tunnel_id')}, not this one; left it")
            current = None

        after = current
        if result == NEW:
            body = {"network": network, "tunnel_id": self.tunnel_id, "comment": self.comment()}
            if vnet:
                body["virtual_network_id"] = vnet
            after = {"id": None, "virtual_network_id": vnet, **body}
            if not self.module.check_mode:
                self.action = f"create the route of {network}"
                after = self.client.request("POST", path, body=body)
        elif result == UPDATED:
            after = dict(current, comment=self.params["comment"])
            if not self.module.check_mode:
                self.action = f"update the route of {network}"
                after = self.client.request(
                    "PATCH", f"{path}/{current['id']}", body={"comment": self.params["comment"]}, retry=True
                )
        elif result == DELETED:
            after = None
            if not self.module.check_mode:
                self.action = f"delete the route of {network}"
                self.client.request("DELETE", f"{path}/{current['id']}", retry=True)

        view = self.ip_view(after)
        self.routes.append(
            {
                "type": "ip",
                "network": network,
                "virtual_network_id": (after or current or {}).get("virtual_network_id", vnet),
                "result": result,
                "ip_route": view,
            }
        )
        if result != UNCHANGED:
            self.diff = {"before": {network: self.ip_view(current)}, "after": {network: view}}

    @staticmethod
    def ip_view(route: dict | None) -> dict | None:
        if route is None:
            return None
        keys = ("id", "network", "tunnel_id", "virtual_network_id", "comment")
        return {key: route.get(key) for key in keys}

    def build_result(self) -> dict:
        result = {
            "changed": any(r["result"] != UNCHANGED for r in self.routes),
            "tunnel": {"id": self.tunnel_id, "name": self.tunnel_name},
            "routes": self.routes,
            "diff": self.diff,
        }
        if self.params["hostnames"] is None:
            result["route"] = self.routes[0]
        return result


def main() -> None:
    kwargs = cloudflare_module_kwargs()
    kwargs["mutually_exclusive"] = [*kwargs.get("mutually_exclusive", []), ("hostname", "hostnames")]
    kwargs["required_if"] = [
        ("type", "dns", ("hostname", "hostnames"), True),
        ("type", "lb", ("hostname", "pool")),
        ("type", "ip", ("network",)),
    ]
    module = AnsibleModule(
        argument_spec={**cloudflare_argument_spec(), **ROUTE_OPTIONS}, supports_check_mode=True, **kwargs
    )
    manager = TunnelRoute(module, CloudflareClient.from_module(module))
    try:
        module.exit_json(**manager.run())
    except RouteError as exc:
        module.fail_json(msg=str(exc), routes=manager.routes)
    except CloudflareAPIError as exc:
        module.fail_json(msg=error_message(manager.action, exc), errors=exc.errors, status=exc.status)


if __name__ == "__main__":
    main()
