"""Hosts that add their tunnels to one load-balancer pool at the same time all end up as its origins: the pool's
origins list is replaced as a whole by every update, so concurrent updates must not drop each other's origins."""

from __future__ import annotations

from collections import Counter

from reliability_support import POOL, TUNNEL_SUFFIX, fleet_view

HOSTS = 6


def test_hosts_adding_origins_to_one_pool_concurrently_keep_every_origin(cfemu, play, fleet_inventory):
    run = play("fleet_lb_parallel.yml", cfemu, fleet_inventory(HOSTS), forks=HOSTS)

    assert run.rc == 0
    state = cfemu.state()
    pool = next(p for p in state["pools"] if p["name"] == POOL)
    wanted = Counter(f"{tunnel_id}{TUNNEL_SUFFIX}" for tunnel_id in fleet_view(state)["ids"])
    assert len(wanted) == HOSTS
    assert Counter(o["address"] for o in pool["origins"]) == wanted, "origins were lost while every host said changed"
