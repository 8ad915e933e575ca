#!/usr/bin/python
# Copyright (c) 2026 tunnelops maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
module: cf_tunnel
short_description: Create, adopt, rotate and delete Cloudflare named tunnels
version_added: 0.1.0
description:
  - Makes sure a Cloudflare named tunnel (C(cfd_tunnel)) with a given name exists or does not exist,
    like C(cloudflared tunnel create) and C(cloudflared tunnel delete), but idempotently.
  - A live tunnel with the name is adopted; otherwise the tunnel is created with a tunnel secret of
    32 random bytes, or with O(tunnel_secret).
  - Hands back the credentials a host needs (O(return_credentials)), rebuilt from the tunnel token for an
    existing tunnel, so that a host that lost its credentials file is repaired without recreating the tunnel.
  - For remote-managed tunnels (O(config_src=cloudflare)) pushes ingress rules and origin settings through
    the configurations endpoint, and can return the tunnel token (O(return_token)).
  - Runs on the controller and talks to the Cloudflare API; it does not need C(cloudflared) or C(cert.pem).
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
      - In check mode nothing is written; RV(tunnel) is the predicted tunnel (with O(name) but no id for a tunnel
        that would be created).
  diff_mode:
    support: full
    details:
      - The diff shows name, state, config source, the remote configuration and whether the secret changes;
        the secret itself is always masked.
  idempotent:
    support: partial
    details:
      - Cloudflare never returns a tunnel secret, so O(tunnel_secret) cannot be compared with the secret of an
        existing tunnel. It is used when the tunnel is created and when O(rotate_secret=true); otherwise a warning
        says it was ignored.
      - O(rotate_secret=true) changes the secret on every run.
options:
  name:
    description:
      - Name of the tunnel. Names are unique among the live tunnels of an account.
      - A name that parses as a UUID is refused, as C(cloudflared tunnel create) refuses it.
    type: str
    required: true
    version_added: 0.1.0
  state:
    description:
      - V(present) adopts or creates the tunnel, V(absent) deletes it.
    type: str
    choices: [present, absent]
    default: present
    version_added: 0.1.0
  config_src:
    description:
      - Where the tunnel's ingress configuration lives.
      - V(local) for a C(config.yml) on the host (locally managed), V(cloudflare) for configuration pushed through
        the API (remote-managed; the host runs C(cloudflared tunnel run --token)).
      - Cloudflare cannot convert a tunnel between the two; a mismatch with an existing tunnel is an error.
    type: str
    choices: [local, cloudflare]
    default: local
    version_added: 0.1.0
  tunnel_secret:
    description:
      - Tunnel secret to create the tunnel with, or to rotate to with O(rotate_secret=true),
        as standard base64 of at least 32 bytes.
      - If not set, the module generates 32 random bytes.
      - Ignored with a warning for an existing tunnel unless O(rotate_secret=true), because the secret of an
        existing tunnel cannot be read back and compared.
    type: str
    version_added: 0.1.0
  rotate_secret:
    description:
      - Give an existing tunnel a new secret (O(tunnel_secret) or a generated one). Always reports a change.
      - Running connectors keep their connections, but a connector that restarts needs the new credentials.
    type: bool
    default: false
    version_added: 0.1.0
  return_credentials:
    description:
      - Return RV(credentials), the content of the tunnel credentials file.
      - For an existing tunnel they are rebuilt from the tunnel token (one more request).
      - The task must set C(no_log=true), because the credentials contain the tunnel secret.
    type: bool
    default: false
    version_added: 0.1.0
  return_token:
    description:
      - Return RV(token), the tunnel token that C(cloudflared tunnel run --token) takes. Mostly useful for
        remote-managed tunnels.
      - The task must set C(no_log=true), because the token contains the tunnel secret.
    type: bool
    default: false
    version_added: 0.1.0
  ingress:
    description:
      - Ingress rules of a remote-managed tunnel, in cloudflared's shape (keys C(hostname), C(path), C(service),
        C(originRequest)). The last rule must be the catch-all (no hostname, no path).
      - Validated with the rules C(cloudflared tunnel ingress validate) applies, then written only when it differs
        from the tunnel's current configuration.
      - Only with O(config_src=cloudflare). When not set, the remote configuration is left alone.
    type: list
    elements: dict
    version_added: 0.1.0
  origin_request:
    description:
      - Origin settings for every rule (cloudflared's C(originRequest) keys, for example C(connectTimeout),
        C(noTLSVerify)). Durations may be integer seconds or Go duration strings such as V(30s); they are sent as
        integer seconds.
      - Only with O(ingress).
    type: dict
    version_added: 0.1.0
  warp_routing:
    description:
      - Whether the remote configuration enables WARP routing (private network traffic) for the tunnel.
      - Only with O(ingress). O(ingress), O(origin_request) and O(warp_routing) together are the whole remote
        configuration, so leaving this out turns WARP routing off.
    type: bool
    version_added: 0.1.0
  force:
    description:
      - With O(state=absent), delete the tunnel even when connectors are connected, together with its
        connections and the routes that depend on it (C(cascade=true), like C(cloudflared tunnel delete -f)).
    type: bool
    default: false
    version_added: 0.1.0
notes:
  - "Requests per run, measured with the API emulator: an existing tunnel, nothing else asked: 1 (list by name);
    create: 2 (list, create); O(return_credentials) or O(return_token) for an existing tunnel: +1 (token);
    O(rotate_secret): +1; O(ingress): +1 to read the configuration and +1 only when it must be written;
    O(state=absent): 1 when the tunnel does not exist, else 3 (list, connectors, delete), 2 with O(force=true)."
  - "Token permissions: C(Cloudflare Tunnel Write) on the account; C(Cloudflare Tunnel Read) is enough for runs
    that change nothing and ask for no credentials."
  - If creating the tunnel fails without a clear answer (a dropped connection or a server error), the module looks
    for the tunnel again instead of retrying the create, and adopts it when the create went through after all.
  - Credentials and tokens can only be rebuilt for tunnels whose secret Cloudflare stores, which is every tunnel
    created by the API or by cloudflared 2022.3.0 or later.
seealso:
  - module: tunnelops.cloudflare.cf_tunnel_info
  - module: tunnelops.cloudflare.cf_tunnel_route
"""

EXAMPLES = r"""
- name: Create or adopt the tunnel and get credentials for the host
  tunnelops.cloudflare.cf_tunnel:
    name: web-fra-01
    account_id: 9a7806061c88ada191ed06f989cc3dac
    api_token: "{{ vault_cloudflare_api_token }}"
    return_credentials: true
  delegate_to: localhost
  no_log: true
  register: web_tunnel

- name: Write the credentials file
  ansible.builtin.copy:
    content: "{{ web_tunnel.credentials | to_json }}"
    dest: "/etc/cloudflared/{{ web_tunnel.tunnel.id }}.json"
    owner: cloudflared
    mode: "0400"
  no_log: true

- name: Rotate the tunnel secret
  tunnelops.cloudflare.cf_tunnel:
    name: web-fra-01
    rotate_secret: true
    return_credentials: true
  delegate_to: localhost
  no_log: true
  register: rotated

- name: Remote-managed tunnel with its ingress rules, and the token for the host
  tunnelops.cloudflare.cf_tunnel:
    name: shop
    config_src: cloudflare
    ingress:
      - hostname: shop.example.com
        service: http://localhost:8080
      - hostname: api.example.com
        path: ^/v1/
        service: https://localhost:8443
        originRequest:
          noTLSVerify: true
      - service: http_status:404
    origin_request:
      connectTimeout: 10s
    return_token: true
  delegate_to: localhost
  no_log: true
  register: shop_tunnel

- name: Delete the tunnel even though connectors are still connected
  tunnelops.cloudflare.cf_tunnel:
    name: web-fra-01
    state: absent
    force: true
  delegate_to: localhost

- name: Set credentials once for every module of the collection
  module_defaults:
    group/tunnelops.cloudflare.cloudflare:
      account_id: 9a7806061c88ada191ed06f989cc3dac
      api_token: "{{ vault_cloudflare_api_token }}"
  block:
    - name: Make sure the tunnel exists
      tunnelops.cloudflare.cf_tunnel:
        name: web-ams-01
      delegate_to: localhost
"""

RETURN = r"""
tunnel:
  description:
    - The tunnel after the run; the predicted tunnel in check mode.
    - An empty dict when O(state=absent) and the tunnel did not exist.
    - Holds no secret.
  returned: always
  type: dict
  contains:
    id:
      description: UUID of the tunnel; V(null) in check mode for a tunnel that would be created.
      type: str
      sample: 6ff42ae2-765d-4adf-8112-31c55c1551ef
    name:
      description: Name of the tunnel.
      type: str
      sample: web-fra-01
    status:
      description: V(inactive) (never run), V(healthy), V(degraded) or V(down) (no connections).
      type: str
      sample: healthy
    created_at:
      description: When the tunnel was created.
      type: str
      sample: "2026-11-03T10:12:44Z"
    deleted_at:
      description: When the tunnel was deleted, V(null) for a live tunnel.
      type: str
    conns_active_at:
      description: Since when the tunnel has connections, V(null) when it has none.
      type: str
    conns_inactive_at:
      description: Since when the tunnel has no connections, V(null) when it has some.
      type: str
    tun_type:
      description: Type of tunnel, V(cfd_tunnel) for named tunnels.
      type: str
      sample: cfd_tunnel
    account_tag:
      description: Account the tunnel belongs to.
      type: str
    config_src:
      description: V(local) or V(cloudflare).
      type: str
      sample: local
    remote_config:
      description: Whether the configuration is managed through Cloudflare (O(config_src=cloudflare)).
      type: bool
    connection_count:
      description: Number of live connections (not pending reconnect) of all connectors.
      type: int
      sample: 4
    edge:
      description: Live connections per Cloudflare data centre, as C(cloudflared tunnel list) prints them.
      type: str
      sample: 2xAMS, 2xFRA
credentials:
  description:
    - Content of the tunnel credentials file, with cloudflared's keys. Write it to C(<tunnel id>.json) with mode 0400.
    - Not returned in check mode when the tunnel would be created or its secret rotated.
  returned: when O(return_credentials=true)
  type: dict
  contains:
    AccountTag:
      description: Account id.
      type: str
    TunnelSecret:
      description: Tunnel secret, standard base64.
      type: str
    TunnelID:
      description: Tunnel UUID.
      type: str
    Endpoint:
      description: Empty, or V(fed) for FedRAMP accounts.
      type: str
token:
  description:
    - Tunnel token for C(cloudflared tunnel run --token) or C(--token-file).
    - Not returned in check mode when the tunnel would be created or its secret rotated.
  returned: when O(return_token=true)
  type: str
config:
  description: The remote configuration after the run, in the normalised form used for comparison.
  returned: when O(ingress) is set
  type: dict
  contains:
    version:
      description: Version number Cloudflare gave the configuration; V(null) when not known (check mode).
      type: int
      sample: 3
    config:
      description: The C(config) object (C(ingress), C(originRequest), C(warp-routing)), durations in seconds.
      type: dict
"""

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.tunnelops.cloudflare.plugins.module_utils._api import (
    CloudflareAPIError,
    CloudflareClient,
    cloudflare_argument_spec,
    cloudflare_module_kwargs,
    error_message,
)
from ansible_collections.tunnelops.cloudflare.plugins.module_utils._ingress import (
    IngressError,
    normalise_remote_config,
    remote_config,
)
from ansible_collections.tunnelops.cloudflare.plugins.module_utils._tunnel import (
    TunnelCredentialsError,
    connected_connectors,
    connector_view,
    credentials,
    credentials_from_token,
    find_tunnel,
    generate_secret,
    get_connectors,
    get_token,
    is_uuid,
    secret_is_valid,
    tunnel_view,
    tunnels_path,
)

SECRET_MARKER = "<secret>"
ROTATED_MARKER = "<new secret>"


class TunnelManager:
    def __init__(self, module, client):
        self.module = module
        self.client = client
        self.params = module.params
        self.name = module.params["name"]
        self.action = f"look up tunnel '{self.name}'"
        self.changed = False
        self.before = {"name": self.name, "state": "absent"}
        self.after = {"name": self.name, "state": "absent"}
        self.result = {}
        self.desired_config = None
        self.rotated_tunnel = None
        self.create_token = None

    def run(self) -> dict:
        self.validate()
        if self.params["state"] == "present":
            self.present()
        else:
            self.absent()
        self.result["changed"] = self.changed
        if self.module._diff:
            self.result["diff"] = {"before": self.before, "after": self.after}
        return self.result

    def validate(self):
        # cloudflared refuses UUIDs as names because every command accepts a name or an id in the same place.
        if is_uuid(self.name):
            self.fail(f"Invalid tunnel name '{self.name}': you cannot use UUIDs as tunnel names.")
        secret = self.params["tunnel_secret"]
        if secret is not None and not secret_is_valid(secret):
            self.fail("tunnel_secret must be standard base64 of at least 32 bytes.")
        if self.params["ingress"] is not None:
            if self.params["config_src"] != "cloudflare":
                self.fail("ingress, origin_request and warp_routing need config_src=cloudflare.")
            try:
                self.desired_config = normalise_remote_config(
                    remote_config(self.params["ingress"], self.params["origin_request"], self.params["warp_routing"])
                )
            except IngressError as exc:
                self.fail(f"Invalid ingress for tunnel '{self.name}': {exc}")

    def fail(self, msg, **kwargs):
        self.module.fail_json(msg=msg, **kwargs)

    # state=present

    def present(self):
        tunnel = find_tunnel(self.client, name=self.name)
        secret = None
        created = False
        if tunnel is None:
            tunnel, secret, created = self.create()
        else:
            self.before = self.describe(tunnel)
            self.check_config_src(tunnel)
            secret = self.rotate(tunnel)
            if secret is not None:
                tunnel = self.rotated_tunnel

        self.after = self.describe(tunnel, rotated=secret is not None and not created)
        self.result["tunnel"] = tunnel_view(tunnel)
        if self.desired_config is not None:
            self.sync_config(tunnel, created)
        self.add_secrets(tunnel, secret, created)

    def create(self):
        secret = self.params["tunnel_secret"] or generate_secret()
        self.changed = True
        if self.module.check_mode:
            return self.predicted_tunnel(), secret, True

        self.action = f"create tunnel '{self.name}'"
        body = {"name": self.name, "tunnel_secret": secret, "config_src": self.params["config_src"]}
        try:
            tunnel = self.client.request("POST", tunnels_path(self.client), body=body)
        except CloudflareAPIError as exc:
            tunnel = self.adopt_after_failed_create(exc)
            # We cannot know which secret the adopted tunnel has: credentials come from the token endpoint.
            return tunnel, None, False
        self.create_token = (tunnel or {}).get("token")
        return tunnel, secret, True

    def adopt_after_failed_create(self, exc):
        # A create is never retried blindly: it may have gone through before the answer was lost, or another
        # run may have created the same name meanwhile. Look again and adopt what is there.
        conflict = exc.status == 409 or 1013 in exc.codes
        if not (conflict or exc.status is None or exc.status >= 500):
            raise exc
        self.action = f"look up tunnel '{self.name}' again after the create failed"
        tunnel = find_tunnel(self.client, name=self.name)
        if tunnel is None:
            raise exc
        if not conflict:
            self.module.warn(f"Creating tunnel '{self.name}' failed ({exc.answer()}), but the tunnel exists now.")
        self.changed = not conflict
        self.check_config_src(tunnel)
        return tunnel

    def check_config_src(self, tunnel):
        current = tunnel_view(tunnel)["config_src"]
        if current != self.params["config_src"]:
            self.fail(
                f"Tunnel '{self.name}' ({tunnel['id']}) has config_src={current}, the task asks for "
                f"config_src={self.params['config_src']}. Cloudflare cannot convert a tunnel between locally and "
                "remote-managed; delete and recreate it, or change config_src in the task."
            )

    def rotate(self, tunnel):
        if not self.params["rotate_secret"]:
            if self.params["tunnel_secret"] is not None:
                self.module.warn(
                    f"tunnel_secret is ignored: tunnel '{self.name}' exists, and its secret cannot be read back to "
                    "compare. Set rotate_secret=true to replace the secret."
                )
            return None

        secret = self.params["tunnel_secret"] or generate_secret()
        self.changed = True
        self.rotated_tunnel = tunnel
        if not self.module.check_mode:
            self.action = f"rotate the secret of tunnel '{self.name}'"
            path = tunnels_path(self.client, tunnel["id"])
            self.rotated_tunnel = self.client.request("PATCH", path, body={"tunnel_secret": secret}, retry=True)
        return secret

    def sync_config(self, tunnel, created):
        current, version = {"ingress": []}, None
        if not created and tunnel.get("id"):
            self.action = f"read the configuration of tunnel '{self.name}'"
            found = self.client.request("GET", tunnels_path(self.client, tunnel["id"], "/configurations")) or {}
            current, version = normalise_remote_config(found.get("config")), found.get("version")
        self.before["config"] = current
        self.after["config"] = self.desired_config

        if current != self.desired_config:
            self.changed = True
            version = None
            if not self.module.check_mode:
                self.action = f"write the configuration of tunnel '{self.name}'"
                body = {"config": remote_config(**self.config_args())}
                path = tunnels_path(self.client, tunnel["id"], "/configurations")
                version = (self.client.request("PUT", path, body=body, retry=True) or {}).get("version")
        self.result["config"] = {"version": version, "config": self.desired_config}

    def config_args(self):
        return {
            "rules": self.params["ingress"],
            "origin_request": self.params["origin_request"],
            "warp_routing": self.params["warp_routing"],
        }

    def add_secrets(self, tunnel, secret, created):
        want_credentials, want_token = self.params["return_credentials"], self.params["return_token"]
        if not (want_credentials or want_token):
            return
        if self.module.check_mode and (created or secret is not None):
            return

        token = self.create_token if created else None
        if token is None and (want_token or (want_credentials and secret is None)):
            self.action = f"read the token of tunnel '{self.name}'"
            token = get_token(self.client, tunnel["id"])
        if want_token:
            self.result["token"] = token
        if want_credentials:
            if secret is not None:
                account = tunnel.get("account_tag") or self.client.account_id
                self.result["credentials"] = credentials(account, tunnel["id"], secret)
                self.unmask_returned_secret(secret)
            else:
                try:
                    self.result["credentials"] = credentials_from_token(token)
                except TunnelCredentialsError as exc:
                    self.fail(f"Cannot rebuild the credentials of tunnel '{self.name}': {exc}.")

    def unmask_returned_secret(self, secret):
        # Ansible masks the values of no_log options anywhere in the result, which would blank the secret the
        # user gave in the credentials asked for. Unmask it there, and mask the options in the invocation ourselves.
        if secret != self.params["tunnel_secret"]:
            return
        self.module.no_log_values.discard(secret)
        spec = self.module.argument_spec
        self.result["invocation"] = {
            "module_args": {
                key: "VALUE_SPECIFIED_IN_NO_LOG_PARAMETER" if spec[key].get("no_log") and value is not None else value
                for key, value in self.params.items()
            }
        }

    # state=absent

    def absent(self):
        tunnel = find_tunnel(self.client, name=self.name)
        if tunnel is None:
            self.result["tunnel"] = {}
            return

        self.before = self.describe(tunnel)
        if not self.params["force"]:
            self.action = f"list the connectors of tunnel '{self.name}'"
            connected = connected_connectors(get_connectors(self.client, tunnel["id"]))
            if connected:
                self.fail(self.connected_message(tunnel, connected), connectors=[connector_view(c) for c in connected])

        self.changed = True
        if not self.module.check_mode:
            self.action = f"delete tunnel '{self.name}'"
            query = {"cascade": "true"} if self.params["force"] else None
            deleted = self.client.request("DELETE", tunnels_path(self.client, tunnel["id"]), query=query, retry=True)
            tunnel = deleted or tunnel
        self.result["tunnel"] = tunnel_view(tunnel)

    def connected_message(self, tunnel, connected):
        names = ", ".join(
            f"{c['id']} ({connector_view(c)['origin_ip'] or 'unknown origin'}, {connector_view(c)['edge']})"
            for c in connected
        )
        return (
            f"Tunnel '{self.name}' ({tunnel['id']}) still has {len(connected)} connected connector(s): {names}. "
            "Stop cloudflared on those hosts first, or set force=true to delete the tunnel with its connections."
        )

    # Results

    def describe(self, tunnel, rotated=False) -> dict:
        """The managed fields for the diff; the secret is only ever a marker."""
        return {
            "name": tunnel.get("name", self.name),
            "state": "present",
            "id": tunnel.get("id"),
            "config_src": tunnel_view(tunnel)["config_src"],
            "tunnel_secret": ROTATED_MARKER if rotated else SECRET_MARKER,
        }

    def predicted_tunnel(self) -> dict:
        return {
            "id": None,
            "name": self.name,
            "status": "inactive",
            "created_at": None,
            "deleted_at": None,
            "connections": [],
            "tun_type": "cfd_tunnel",
            "account_tag": self.client.account_id,
            "config_src": self.params["config_src"],
        }


def main():
    argument_spec = cloudflare_argument_spec()
    argument_spec.update(
        name={"type": "str", "required": True},
        state={"type": "str", "default": "present", "choices": ["present", "absent"]},
        config_src={"type": "str", "default": "local", "choices": ["local", "cloudflare"]},
        tunnel_secret={"type": "str", "no_log": True},
        rotate_secret={"type": "bool", "default": False, "no_log": False},
        return_credentials={"type": "bool", "default": False},
        return_token={"type": "bool", "default": False, "no_log": False},
        ingress={"type": "list", "elements": "dict"},
        origin_request={"type": "dict"},
        warp_routing={"type": "bool"},
        force={"type": "bool", "default": False},
    )
    module = AnsibleModule(
        argument_spec=argument_spec,
        supports_check_mode=True,
        required_by={"origin_request": "ingress", "warp_routing": "ingress"},
        **cloudflare_module_kwargs(),
    )
    client = CloudflareClient.from_module(module)
    manager = TunnelManager(module, client)
    try:
        module.exit_json(**manager.run())
    except CloudflareAPIError as exc:
        module.fail_json(msg=error_message(manager.action, exc), error={"status": exc.status, "errors": exc.errors})


if __name__ == "__main__":
    main()
