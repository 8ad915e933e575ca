#!/usr/bin/python
# Copyright (c) 2026 tunnelops maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
module: cf_tunnel_info
short_description: Show Cloudflare named tunnels, their connectors and connections, and wait for them
version_added: 0.1.0
description:
  - Shows one named tunnel by O(name) or O(tunnel_id), or lists the tunnels of an account with filters,
    like C(cloudflared tunnel info) and C(cloudflared tunnel list).
  - For each tunnel returns its connectors (id, version, architecture, start time, origin IP and an edge
    summary such as C(2xAMS, 2xFRA)) and its connections, and optionally its remote configuration.
  - With O(wait), which needs O(name) or O(tunnel_id), polls until the tunnel is connected or healthy,
    has enough connectors, or a given connector is connected, and fails with what it last saw when the
    timeout passes. This is the gate a migration waits on before it moves traffic.
  - A tunnel that does not exist is RV(exists=false), not a failure (unless O(wait) is set).
author:
  - tunnelops maintainers (@tunnelops)
extends_documentation_fragment:
  - tunnelops.cloudflare.api
  - tunnelops.cloudflare.attributes
  - tunnelops.cloudflare.attributes.actiongroup
  - tunnelops.cloudflare.attributes.info_module
options:
  name:
    description:
      - Name of the tunnel to show. Only live (not deleted) tunnels are looked up by name.
      - A value that parses as a UUID is taken as the tunnel id, as cloudflared does.
      - Mutually exclusive with O(tunnel_id). Without both, the module lists tunnels (see O(name_prefix)).
    type: str
    version_added: 0.1.0
  tunnel_id:
    description:
      - UUID of the tunnel to show.
    type: str
    version_added: 0.1.0
  name_prefix:
    description:
      - List only tunnels whose name starts with this.
    type: str
    version_added: 0.1.0
  exclude_prefix:
    description:
      - List only tunnels whose name does not start with this.
    type: str
    version_added: 0.1.0
  status:
    description:
      - List only tunnels with this status.
    type: str
    choices: [inactive, degraded, healthy, down]
    version_added: 0.1.0
  include_deleted:
    description:
      - List deleted tunnels too.
    type: bool
    default: false
    version_added: 0.1.0
  include_connectors:
    description:
      - Fetch the connectors of each tunnel (one request per tunnel). O(wait) always fetches them.
      - Without them, RV(tunnels[].connections) still lists the connections the tunnel object carries, and
        RV(tunnels[].connectors) is empty.
    type: bool
    default: true
    version_added: 0.1.0
  include_config:
    description:
      - Also return the remote configuration of remote-managed tunnels (one request per such tunnel).
    type: bool
    default: false
    version_added: 0.1.0
  wait:
    description:
      - Poll until the tunnel given by O(name) or O(tunnel_id) meets these conditions, all of which must hold.
      - Fails when the tunnel does not exist, or when O(wait.timeout) passes, with what it saw last.
    type: dict
    version_added: 0.1.0
    suboptions:
      state:
        description:
          - V(connected) waits for connected connectors only.
          - V(healthy) also waits for Cloudflare to report the tunnel as V(healthy).
        type: str
        choices: [connected, healthy]
        default: connected
        version_added: 0.1.0
      min_connectors:
        description: Least number of connectors with at least one live connection.
        type: int
        default: 1
        version_added: 0.1.0
      connector_id:
        description:
          - Wait until the connector with this id (the C(client_id) cloudflared reports) has a live connection.
        type: str
        version_added: 0.1.0
      timeout:
        description: Seconds to wait at most.
        type: int
        default: 120
        version_added: 0.1.0
      interval:
        description: Seconds between two looks.
        type: float
        default: 2.0
        version_added: 0.1.0
notes:
  - "Requests per run, measured with the API emulator: one tunnel by name or id: 2 (list with a name or id filter,
    connectors), 1 with O(include_connectors=false), +1 with O(include_config) for a remote-managed tunnel;
    each look while waiting costs the same again. A list: one request per 1000 tunnels, plus one per tunnel for
    connectors and configurations."
  - "Token permissions: C(Cloudflare Tunnel Read) on the account."
seealso:
  - module: tunnelops.cloudflare.cf_tunnel
"""

EXAMPLES = r"""
- name: Show one tunnel
  tunnelops.cloudflare.cf_tunnel_info:
    name: web-fra-01
    account_id: 9a7806061c88ada191ed06f989cc3dac
    api_token: "{{ vault_cloudflare_api_token }}"
  delegate_to: localhost
  register: info

- name: Print the edge summary of every connector
  ansible.builtin.debug:
    msg: "{{ item.id }} on {{ item.origin_ip }}: {{ item.edge }}"
  loop: "{{ info.tunnel.connectors }}"
  when: info.exists

- name: Wait until this host's connector is connected and the tunnel is healthy
  tunnelops.cloudflare.cf_tunnel_info:
    name: web-fra-01
    wait:
      state: healthy
      connector_id: "{{ cloudflared_connector_id }}"
      timeout: 300
  delegate_to: localhost

- name: List the healthy tunnels whose names start with web-
  tunnelops.cloudflare.cf_tunnel_info:
    name_prefix: web-
    status: healthy
    include_connectors: false
  delegate_to: localhost
  register: web_tunnels
"""

RETURN = r"""
exists:
  description: Whether the tunnel given by O(name) or O(tunnel_id) exists.
  returned: when O(name) or O(tunnel_id) is set
  type: bool
  sample: true
tunnel:
  description: The tunnel given by O(name) or O(tunnel_id), shaped like each element of RV(tunnels); empty when missing.
  returned: when O(name) or O(tunnel_id) is set
  type: dict
waited:
  description: Seconds spent waiting.
  returned: when O(wait) is set
  type: float
  sample: 4.1
tunnels:
  description: The tunnels found, oldest first. One or none when O(name) or O(tunnel_id) is set.
  returned: always
  type: list
  elements: dict
  contains:
    id:
      description: UUID of the tunnel.
      type: str
      sample: 6ff42ae2-765d-4adf-8112-31c55c1551ef
    name:
      description: Name of the tunnel.
      type: str
    status:
      description: V(inactive) (never run), V(healthy), V(degraded) or V(down) (no connections).
      type: str
    created_at:
      description: When the tunnel was created.
      type: str
    deleted_at:
      description: When the tunnel was deleted, V(null) for a live tunnel.
      type: str
    conns_active_at:
      description: Since when the tunnel has connections.
      type: str
    conns_inactive_at:
      description: Since when the tunnel has no connections.
      type: str
    tun_type:
      description: Type of tunnel, V(cfd_tunnel) for named tunnels.
      type: str
    account_tag:
      description: Account the tunnel belongs to.
      type: str
    config_src:
      description: V(local) or V(cloudflare).
      type: str
    remote_config:
      description: Whether the configuration is managed through Cloudflare.
      type: bool
    connection_count:
      description: Number of live connections.
      type: int
    edge:
      description: Live connections per Cloudflare data centre.
      type: str
      sample: 2xAMS, 2xFRA
    connectors:
      description: The connectors (cloudflared processes) of the tunnel; empty with O(include_connectors=false).
      type: list
      elements: dict
      contains:
        id:
          description: Connector id (client id).
          type: str
        version:
          description: cloudflared version.
          type: str
          sample: 2026.8.2
        arch:
          description: Operating system and architecture.
          type: str
          sample: linux_amd64
        run_at:
          description: When the connector started.
          type: str
        config_version:
          description: Version of the remote configuration the connector runs.
          type: int
        origin_ip:
          description: Origin address of the connector's first connection.
          type: str
        edge:
          description: Live connections per data centre, as C(cloudflared tunnel info) prints them.
          type: str
          sample: 2xAMS, 2xFRA
        connection_count:
          description: Number of live connections.
          type: int
    connections:
      description: Every connection of the tunnel, including those pending reconnect.
      type: list
      elements: dict
      contains:
        colo:
          description: Cloudflare data centre.
          type: str
          sample: AMS
        id:
          description: Connection id.
          type: str
        client_id:
          description: Id of the connector that holds the connection.
          type: str
        origin_ip:
          description: Address the connector connected from.
          type: str
        opened_at:
          description: When the connection was opened.
          type: str
        is_pending_reconnect:
          description: Whether the connection dropped and Cloudflare still waits for it to come back.
          type: bool
    connected_connector_ids:
      description: Ids of the connectors that hold at least one live connection, sorted.
      type: list
      elements: str
    config:
      description: Remote configuration (C(version) and C(config)), V(null) for locally managed tunnels.
      type: dict
      returned: when O(include_config=true)
"""

import time

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.tunnelops.cloudflare.plugins.module_utils._api import (
    CloudflareAPIError,
    CloudflareClient,
    cloudflare_argument_spec,
    cloudflare_module_kwargs,
    error_message,
)
from ansible_collections.tunnelops.cloudflare.plugins.module_utils._tunnel import (
    connection_views,
    connector_view,
    find_tunnel,
    get_connectors,
    is_uuid,
    list_tunnels,
    tunnel_view,
    tunnels_path,
)


class TunnelInfo:
    def __init__(self, module, client):
        self.module = module
        self.client = client
        self.params = module.params
        self.wanted = module.params["tunnel_id"] or module.params["name"]
        self.action = f"look up tunnel '{self.wanted}'" if self.wanted else "list tunnels"

    def run(self) -> dict:
        if not self.wanted:
            return {"changed": False, "tunnels": [self.describe(t) for t in list_tunnels(self.client, self.filters())]}
        if self.params["wait"]:
            return self.wait()

        tunnel = self.get_one()
        return {
            "changed": False,
            "exists": tunnel is not None,
            "tunnel": tunnel or {},
            "tunnels": [tunnel] if tunnel else [],
        }

    def filters(self) -> dict:
        query = {}
        if not self.params["include_deleted"]:
            query["is_deleted"] = "false"
        if self.params["name_prefix"]:
            query["include_prefix"] = self.params["name_prefix"]
        if self.params["exclude_prefix"]:
            query["exclude_prefix"] = self.params["exclude_prefix"]
        if self.params["status"]:
            query["status"] = self.params["status"]
        return query

    def get_one(self) -> dict | None:
        if self.params["tunnel_id"] or is_uuid(self.params["name"]):
            tunnel = find_tunnel(self.client, tunnel_id=self.wanted)
        else:
            tunnel = find_tunnel(self.client, name=self.wanted)
        return self.describe(tunnel) if tunnel else None

    def describe(self, tunnel: dict) -> dict:
        view = tunnel_view(tunnel)
        view["connectors"], view["connections"] = [], connection_views([{"conns": tunnel.get("connections")}])
        # Waiting is about connectors, so it always fetches them.
        if self.params["include_connectors"] or self.params["wait"]:
            self.action = f"list the connectors of tunnel '{tunnel['name']}'"
            connectors = get_connectors(self.client, tunnel["id"])
            view["connectors"] = [connector_view(c) for c in connectors]
            view["connections"] = connection_views(connectors)
        live = {c["client_id"] for c in view["connections"] if c["client_id"] and not c["is_pending_reconnect"]}
        view["connected_connector_ids"] = sorted(live)
        if self.params["include_config"]:
            view["config"] = None
            if view["config_src"] == "cloudflare":
                self.action = f"read the configuration of tunnel '{tunnel['name']}'"
                found = self.client.request("GET", tunnels_path(self.client, tunnel["id"], "/configurations")) or {}
                view["config"] = {"version": found.get("version"), "config": found.get("config")}
        return view

    # wait

    def wait(self) -> dict:
        spec = self.params["wait"]
        started = time.monotonic()
        while True:
            tunnel = self.get_one()
            if tunnel is None:
                self.module.fail_json(msg=f"Cannot wait for tunnel '{self.wanted}': it does not exist.", exists=False)
            unmet = self.unmet(tunnel, spec)
            waited = round(time.monotonic() - started, 1)
            if not unmet:
                return {"changed": False, "exists": True, "tunnel": tunnel, "tunnels": [tunnel], "waited": waited}
            if waited + spec["interval"] > spec["timeout"]:
                self.module.fail_json(
                    msg=f"Timed out after {waited}s waiting for tunnel '{tunnel['name']}' ({tunnel['id']}): "
                    f"{'; '.join(unmet)}. Last seen: {self.last_seen(tunnel)}.",
                    exists=True,
                    tunnel=tunnel,
                    waited=waited,
                )
            time.sleep(spec["interval"])

    @staticmethod
    def unmet(tunnel: dict, spec: dict) -> list:
        """The wait conditions the tunnel does not meet yet, in words."""
        unmet = []
        connected = tunnel["connected_connector_ids"]
        if spec["state"] == "healthy" and tunnel["status"] != "healthy":
            unmet.append(f"status is {tunnel['status']}, not healthy")
        if len(connected) < spec["min_connectors"]:
            unmet.append(f"{len(connected)} connected connector(s), fewer than {spec['min_connectors']}")
        if spec["connector_id"] and spec["connector_id"] not in connected:
            unmet.append(f"connector {spec['connector_id']} is not connected")
        return unmet

    @staticmethod
    def last_seen(tunnel: dict) -> str:
        connectors = ", ".join(
            f"{c['id']} ({c['origin_ip'] or 'unknown origin'}: {c['edge'] or 'no live connection'})"
            for c in tunnel["connectors"]
        )
        return f"status {tunnel['status']}, connectors: {connectors or 'none'}"


def main():
    argument_spec = cloudflare_argument_spec()
    argument_spec.update(
        name={"type": "str"},
        tunnel_id={"type": "str"},
        name_prefix={"type": "str"},
        exclude_prefix={"type": "str"},
        status={"type": "str", "choices": ["inactive", "degraded", "healthy", "down"]},
        include_deleted={"type": "bool", "default": False},
        include_connectors={"type": "bool", "default": True},
        include_config={"type": "bool", "default": False},
        wait={
            "type": "dict",
            "options": {
                "state": {"type": "str", "default": "connected", "choices": ["connected", "healthy"]},
                "min_connectors": {"type": "int", "default": 1},
                "connector_id": {"type": "str"},
                "timeout": {"type": "int", "default": 120},
                "interval": {"type": "float", "default": 2.0},
            },
        },
    )
    kwargs = cloudflare_module_kwargs()
    kwargs["mutually_exclusive"] = [*kwargs["mutually_exclusive"], ("name", "tunnel_id")]
    module = AnsibleModule(argument_spec=argument_spec, supports_check_mode=True, **kwargs)
    if module.params["wait"] and not (module.params["name"] or module.params["tunnel_id"]):
        module.fail_json(msg="wait needs name or tunnel_id: it waits for one tunnel.")
    client = CloudflareClient.from_module(module)
    info = TunnelInfo(module, client)
    try:
        module.exit_json(**info.run())
    except CloudflareAPIError as exc:
        module.fail_json(msg=error_message(info.action, exc), error={"status": exc.status, "errors": exc.errors})


if __name__ == "__main__":
    main()
