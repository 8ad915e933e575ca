"""overwrite_legacy: consent to replace only what a legacy tunnel left at a hostname (a proxied AAAA record)."""

from __future__ import annotations

import pytest
from ansible_collections.tunnelops.cloudflare.plugins.module_utils._routes import UPDATED, RouteError, plan_dns_route

TUNNEL = "c1744f8b-faa1-48a4-9e5c-02ac921467fa"


def record(rid, rtype, content, proxied=True):
    return {"id": rid, "type": rtype, "name": "app.example.com", "content": content, "proxied": proxied}


def test_a_proxied_aaaa_record_left_by_a_legacy_tunnel_is_replaced_in_one_plan():
    plan = plan_dns_route("app.example.com", [record("r1", "AAAA", "100::")], TUNNEL, overwrite_legacy=True)

    assert plan.result == UPDATED
    assert plan.deletes == [{"id": "r1"}]
    assert [post["content"] for post in plan.posts] == [f"{TUNNEL}.cfargotunnel.com"]


@pytest.mark.parametrize(
    "records",
    [
        pytest.param([record("r1", "A", "192.0.2.1")], id="a-record"),
        pytest.param([record("r1", "AAAA", "2001:db8::1", proxied=False)], id="unproxied-aaaa"),
        pytest.param([record("r1", "CNAME", "elsewhere.example.net")], id="foreign-cname"),
        pytest.param([record("r1", "AAAA", "100::"), record("r2", "A", "192.0.2.1")], id="legacy-beside-foreign"),
    ],
)
def test_any_other_record_still_stops_the_route(records):
    with pytest.raises(RouteError, match="not what a legacy tunnel left"):
        plan_dns_route("app.example.com", records, TUNNEL, overwrite_legacy=True)
