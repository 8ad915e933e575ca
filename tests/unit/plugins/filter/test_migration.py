"""The migration filters: the planner with its refusals as filter errors, and one-line failure messages."""

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


@pytest.mark.parametrize(
    ("result", "expected"),
    [
        ({"failed": True, "msg": "Status code was 503\nmore detail"}, "Status code was 503"),
        (
            {
                "failed": True,
                "msg": "One or more items failed",
                "results": [
                    {"failed": False, "item": {"name": "a"}},
                    {"failed": True, "_ansible_item_label": "cloudflared@b", "msg": "Unable to start\nSee status"},
                    {"failed": True, "ansible_loop_var": "item", "item": {"name": "c"}, "msg": "timeout"},
                ],
            },
            "cloudflared@b: Unable to start; c: timeout",
        ),
        (
            {"failed": True, "censored": "the output has been hidden", "msg": "secret"},
            "the details are hidden by no_log",
        ),
        ({"failed": True, "_ansible_no_log": True, "msg": "token s3cr3t refused"}, "the details are hidden by no_log"),
        (
            {"failed": True, "results": [{"failed": True, "_ansible_no_log": True, "item": "x", "msg": "s3cr3t"}]},
            "x: the details are hidden by no_log",
        ),
        ({"failed": True, "rc": 1, "stderr": "journal says no"}, "journal says no"),
        ({"failed": True}, "failed"),
        ("plain text\nsecond", "plain text"),
    ],
)
def test_failure_message_is_one_line_naming_each_failed_item(result, expected):
    assert FilterModule().filters()["cf_failure_message"](result) == expected
