# Copyright (c) 2026, tunnelops maintainers
# SPDX-License-Identifier: GPL-3.0-or-later
"""Turn what cf_legacy_info found on a host into the named tunnels and routes that replace it.

The plan is pure data: the migrate role hands its ``tunnels`` to the cloudflared role (with routing left to the
migration, which switches traffic only after the named connector is up), its ``routes`` to cf_tunnel_route and its
``retire`` lists to the tasks that stop the legacy service.
"""

from __future__ import annotations

import posixpath

from ansible_collections.tunnelops.cloudflare.plugins.module_utils._ingress import IngressError, validate_ingress

CATCH_ALL = {"service": "http_status:404"}

# Global options that must not be carried over: the cloudflared role gives every instance its own metrics address,
# and the legacy service still runs (and holds its port) while the named instance starts beside it.
NOT_CARRIED = frozenset({"metrics"})


class MigrationPlanError(ValueError):
    """The legacy setup of a host cannot be turned into a plan without guessing."""


def _host_rules(entries: list[dict]) -> list[dict]:
    rules = []
    for entry in entries:
        rules.extend(rule for rule in entry["ingress"] if rule.get("hostname"))
    return [*rules, dict(CATCH_ALL)]


def _merged_options(entries: list[dict], notes: list[str]) -> dict:
    options: dict = {}
    for entry in entries:
        for key, value in (entry.get("options") or {}).items():
            if key in NOT_CARRIED:
                continue
            if key in options and options[key] != value:
                kept = options[key]
                notes.append(f"{entry['hostname']}: option {key}={value!r} differs from {kept!r}; the first is kept")
                continue
            options[key] = value
    return options


def _tunnel(name: str, entries: list[dict], notes: list[str]) -> dict:
    rules = _host_rules(entries)
    try:
        validate_ingress(rules)
    except IngressError as exc:
        raise MigrationPlanError(f"tunnel {name}: {exc}") from exc
    return {
        "name": name,
        "config_src": "local",
        "ingress": rules,
        "options": _merged_options(entries, notes),
        "routes": "none",
    }


def _check_entries(legacy: list[dict]) -> None:
    untranslatable = [entry for entry in legacy if not entry.get("translatable")]
    if untranslatable:
        problems = [problem for entry in untranslatable for problem in entry.get("problems") or ["not translatable"]]
        raise MigrationPlanError("legacy setup cannot be translated: " + "; ".join(problems))

    seen: dict[str, str] = {}
    for entry in legacy:
        hostname = entry["hostname"].lower()
        where = entry.get("unit") or entry.get("config_file")
        if hostname in seen:
            raise MigrationPlanError(f"hostname {hostname} is served by both {seen[hostname]} and {where}")
        seen[hostname] = where


def _retire(legacy: list[dict], cert_pem: list[str]) -> dict:
    retire: dict[str, list[str]] = {"units": [], "unit_files": [], "update_units": [], "files": [], "cert_pem": []}
    for entry in legacy:
        parts = entry.get("retire") or {}
        if parts.get("unit"):
            retire["units"].append(parts["unit"])
        if parts.get("unit_file"):
            retire["unit_files"].append(parts["unit_file"])
        if parts.get("init_script"):
            # systemd runs a SysV script as the service of the same name (systemd-sysv-generator), which is how
            # it is stopped and disabled; the script itself is retired like a unit file.
            retire["units"].append(posixpath.basename(parts["init_script"]) + ".service")
            retire["unit_files"].append(parts["init_script"])
        retire["update_units"].extend(parts.get("update_units") or [])
        retire["files"].extend(parts.get("config_files") or [])
        retire["files"].extend(parts.get("env_files") or [])
        retire["cert_pem"].extend(parts.get("cert_pem") or [])
    if legacy:
        # cert.pem is account-wide; once no legacy tunnel needs it, no copy of it should stay on the host.
        retire["cert_pem"].extend(cert_pem)
    return {key: sorted(set(values)) for key, values in retire.items()}


def migration_plan(discovery: dict, tunnel_name: str, pool_tunnel_names: dict | None = None) -> dict:
    """Plan the named tunnels that replace the legacy ones of one host.

    Legacy tunnels without a load-balancer pool become ingress rules of one tunnel named ``tunnel_name``, routed by
    DNS. Legacy replicas that joined a pool share one tunnel per pool (named by ``pool_tunnel_names``, else after the
    pool), which joins that pool behind the legacy load balancer's hostname.
    """
    legacy = discovery.get("legacy") or []
    _check_entries(legacy)
    pool_tunnel_names = pool_tunnel_names or {}
    notes: list[str] = []

    plain = [entry for entry in legacy if not entry.get("lb_pool")]
    pools: dict[str, list[dict]] = {}
    for entry in legacy:
        if entry.get("lb_pool"):
            pools.setdefault(entry["lb_pool"], []).append(entry)

    tunnels, routes = [], []
    if plain:
        tunnels.append(_tunnel(tunnel_name, plain, notes))
        routes.append({"tunnel": tunnel_name, "type": "dns", "hostnames": [entry["hostname"] for entry in plain]})
    for pool, entries in sorted(pools.items()):
        name = pool_tunnel_names.get(pool, pool)
        if name == tunnel_name and plain:
            raise MigrationPlanError(f"the tunnel of pool {pool} would share the name {name} with the host's tunnel")
        tunnels.append(_tunnel(name, entries, notes))
        for entry in entries:
            routes.append({"tunnel": name, "type": "lb", "hostname": entry["hostname"], "pool": pool})

    return {
        "tunnels": tunnels,
        "routes": routes,
        "hostnames": sorted(entry["hostname"] for entry in legacy),
        # Kept in the plan (and so in the host's migration record) for reports of later runs, when the legacy
        # files are gone.
        "sources": {entry["hostname"]: entry.get("unit") or entry.get("config_file") for entry in legacy},
        "retire": _retire(legacy, discovery.get("cert_pem") or []),
        "notes": notes,
    }


def route_conflicts(plans: list[dict]) -> dict[str, list[str]]:
    """Hostnames that the plans of different hosts would route to different tunnels, with those tunnels.

    Replicas of one pool route the same hostname to the same tunnel, which is no conflict.
    """
    claims: dict[str, set[str]] = {}
    for plan in plans:
        for route in plan.get("routes") or []:
            names = route["hostnames"] if route["type"] == "dns" else [route["hostname"]]
            for hostname in names:
                claims.setdefault(hostname.lower(), set()).add(route["tunnel"])
    return {hostname: sorted(tunnels) for hostname, tunnels in sorted(claims.items()) if len(tunnels) > 1}


def _first_line(text) -> str:
    lines = [line.strip() for line in str(text).splitlines() if line.strip()]
    return lines[0] if lines else ""


def _item_label(item: dict) -> str:
    label = item.get("_ansible_item_label")
    if label is None:
        label = item.get(item.get("ansible_loop_var") or "item")
    if isinstance(label, dict):
        label = label.get("name", "")
    return str(label) if label not in (None, "") else "an item"


def failure_message(result) -> str:
    """One line that says why a task failed, from the result Ansible registered for it.

    A loop's own message ("One or more items failed") says nothing, so each failed item is named with its first
    line instead. A result of a no_log task stays hidden: Ansible hands it to a rescue section uncensored, secrets
    and all, marked only by ``_ansible_no_log``.
    """
    if not isinstance(result, dict):
        return _first_line(result) or "failed"
    if result.get("censored") or result.get("_ansible_no_log"):
        return "the details are hidden by no_log"
    items = [item for item in result.get("results") or [] if isinstance(item, dict) and item.get("failed")]
    if items:
        return "; ".join(f"{_item_label(item)}: {failure_message(item)}" for item in items)
    return _first_line(result.get("msg") or result.get("stderr") or "") or "failed"
