"""The cf_migration_plan filter wraps the planner and reports its refusals as filter errors."""

from __future__ import annotations

import pytest
from ansible.errors import AnsibleFilterError
from ansible_collections.tunnelops.cloudflare.plugins.filter.migration import FilterModule


def test_filter_is_registered_and_plans():
    plan = FilterModule().filters()["cf_migration_plan"]({"legacy": []}, "h")

    assert plan["tunnels"] == [] and plan["hostnames"] == []


def test_refusal_is_a_filter_error_naming_the_filter():
    entry = {"hostname": "a.example.com", "translatable": False, "problems": ["x.service: unknown flag --tag"]}

    with pytest.raises(AnsibleFilterError, match=r"cf_migration_plan: .*unknown flag --tag"):
        FilterModule().filters()["cf_migration_plan"]({"legacy": [entry]}, "h")
