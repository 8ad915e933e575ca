# Copyright (c) 2026, tunnelops maintainers
# SPDX-License-Identifier: GPL-3.0-or-later
"""Filter that plans a host's move from legacy to named tunnels; documented in cf_migration_plan.yml."""

from __future__ import annotations

from ansible.errors import AnsibleFilterError
from ansible_collections.tunnelops.cloudflare.plugins.module_utils._migration import (
    MigrationPlanError,
    migration_plan,
    route_conflicts,
)


def cf_migration_plan(discovery, tunnel_name, pool_tunnel_names=None):
    """Return the named tunnels, routes and legacy leftovers that replace a host's legacy tunnels."""
    try:
        return migration_plan(discovery, tunnel_name, pool_tunnel_names)
    except MigrationPlanError as exc:
        raise AnsibleFilterError(f"cf_migration_plan: {exc}") from exc


def cf_route_conflicts(plans):
    """Return the hostnames that plans of different hosts route to different tunnels."""
    return route_conflicts(plans)


class FilterModule:
    def filters(self):
        return {"cf_migration_plan": cf_migration_plan, "cf_route_conflicts": cf_route_conflicts}
