# Copyright (c) 2026, tunnelops maintainers
# SPDX-License-Identifier: GPL-3.0-or-later
"""Filters of the migration: cf_migration_plan, cf_route_conflicts and cf_failure_message (documented beside)."""

from __future__ import annotations

from ansible.errors import AnsibleFilterError
from ansible_collections.tunnelops.cloudflare.plugins.module_utils._migration import (
    MigrationPlanError,
    failure_message,
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


def cf_failure_message(result):
    """Return one line that says why a task failed, naming each failed item of a loop."""
    return failure_message(result)


class FilterModule:
    def filters(self):
        return {
            "cf_failure_message": cf_failure_message,
            "cf_migration_plan": cf_migration_plan,
            "cf_route_conflicts": cf_route_conflicts,
        }
