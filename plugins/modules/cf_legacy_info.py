#!/usr/bin/python
# Copyright (c) 2026 tunnelops maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
module: cf_legacy_info
short_description: Find legacy cloudflared tunnels on a host and translate them for named tunnels
version_added: 0.1.0
description:
  - Runs on a managed host and finds what cloudflared ran there before named tunnels existed ("classic" or
    legacy tunnels). It reads systemd units that run C(cloudflared), their C(ExecStart) flags, C(Environment=) and
    C(EnvironmentFile=) settings, C(config.yml) files in every directory cloudflared searches, and C(cert.pem) files.
  - Each legacy tunnel is translated into what a named tunnel needs (hostname, service, origin request settings,
    load-balancer pool, ingress rules with a catch-all, global options) and into the list of things to retire once
    the named tunnel serves. The translation is checked with the collection's ingress model, the same rules
    cloudflared applies.
  - Anything that cannot be translated exactly is reported in RV(problems) and makes RV(plan_ok) false. The module
    never guesses.
  - Named tunnels already set up on the host (config files with C(tunnel:), units running C(tunnel run), C(--token)
    or C(--token-file), and instances of the C(tunnelops.cloudflare.cloudflared) role) are reported in RV(named), so a
    migration can tell an already migrated host from one that never had a legacy tunnel.
  - Settings combine the way cloudflared combines them. A command line flag wins over an environment variable,
    which wins over a key in the config file.
author:
  - tunnelops maintainers (@tunnelops)
extends_documentation_fragment:
  - tunnelops.cloudflare.attributes
  - tunnelops.cloudflare.attributes.info_module
options:
  root:
    description:
      - Directory that holds the host's file system. Every path is looked up under it, and symbolic links are
        followed inside it.
      - Use it to inspect a mounted image or a chroot. Paths in the result are always the host's own paths,
        without this prefix.
    type: path
    default: /
    version_added: 0.1.0
  config_paths:
    description:
      - More config files to inspect besides those cloudflared finds on its own, as host paths.
      - A listed file that a unit already uses is reported once, under that unit.
    type: list
    elements: path
    default: []
    version_added: 0.1.0
  unit_names:
    description:
      - Systemd units to inspect, for example V(cloudflared.service) or V(cloudflared@web.service).
      - By default every service unit whose C(ExecStart) runs C(cloudflared) is inspected, including template
        instances enabled through C(*.wants) directories.
      - A listed unit that is missing, masked, or does not run cloudflared is reported in RV(notes).
    type: list
    elements: str
    version_added: 0.1.0
  include_environment:
    description:
      - Also apply C(TUNNEL_*) variables (and C(NO_TLS_VERIFY), C(NO_AUTOUPDATE)) of the module's own environment
        to config files that no unit uses, as if cloudflared had been started by hand from this environment.
      - Off by default because the environment Ansible runs the module in is not the one of the legacy service.
        Units always use their own C(Environment=) and C(EnvironmentFile=) settings.
    type: bool
    default: false
    version_added: 0.1.0
notes:
  - Only systemd units and config files are inspected. Legacy tunnels started by SysV init scripts, OpenRC,
    cron, containers or by hand are found only through their config file (add it to O(config_paths) if it is
    not in a default directory). An existing C(/etc/init.d/cloudflared) is listed for retirement with a config
    file in C(/etc/cloudflared), without reading the script.
  - PyYAML is used when the host's Python has it. Without it a built-in parser reads block-style YAML (mappings,
    lists, plain and quoted scalars, flat C([a, b]) lists); a file using anything else, such as anchors, flow
    mappings or multi-line strings, is reported as a problem. RV(yaml_parser) says which parser ran.
  - Secrets found on the host (tunnel tokens, API keys, credentials contents) are never returned. From a tunnel
    token only the tunnel id is read.
  - A cloudflared that runs only the DNS over HTTPS proxy (C(proxy-dns) without a hostname, or the C(proxy-dns)
    command) is not a tunnel. It is mentioned in RV(notes) and otherwise left alone.
  - A legacy service that used a path in its C(--url) is translated without the path, because cloudflared
    dropped it too; RV(legacy[].notes) says so.
seealso:
  - module: tunnelops.cloudflare.cf_tunnel
  - module: tunnelops.cloudflare.cf_tunnel_route
"""

EXAMPLES = r"""
- name: Find legacy tunnels on every host
  tunnelops.cloudflare.cf_legacy_info:
  register: legacy

- name: Stop before changing anything when a host cannot be migrated exactly
  ansible.builtin.assert:
    that: legacy.plan_ok
    fail_msg: "{{ legacy.problems | join('; ') }}"

- name: Inspect a mounted disk image, including a config file in an unusual place
  tunnelops.cloudflare.cf_legacy_info:
    root: /mnt/image
    config_paths:
      - /srv/tunnel/cloudflared.yml

- name: Look only at the legacy service
  tunnelops.cloudflare.cf_legacy_info:
    unit_names:
      - cloudflared.service
"""

RETURN = r"""
status:
  description:
    - V(legacy) when only legacy tunnels were found, V(named) when only named tunnels, V(mixed) when both,
      V(none) when neither.
  returned: always
  type: str
  sample: legacy
plan_ok:
  description: True when every legacy tunnel can be translated and nothing on the host was unreadable.
  returned: always
  type: bool
  sample: true
problems:
  description:
    - Every reason that stops a migration of this host, each prefixed with the unit or config file it concerns.
    - Empty exactly when RV(plan_ok) is true.
  returned: always
  type: list
  elements: str
  sample: ["cloudflared.service: unknown flag --foo"]
notes:
  description:
    - Things worth knowing that do not stop a migration (masked units, units that are not tunnels, config files
      with nothing in them). Each is also shown as a warning.
  returned: always
  type: list
  elements: str
yaml_parser:
  description: V(pyyaml) or V(builtin), the YAML parser that read the config files.
  returned: always
  type: str
  sample: pyyaml
cert_pem:
  description: Host paths of every C(cert.pem) found in cloudflared's default directories or named by C(origincert).
  returned: always
  type: list
  elements: str
  sample: ["/etc/cloudflared/cert.pem"]
legacy:
  description:
    - One entry per legacy tunnel, that is per systemd unit running one, and per config file with a legacy
      C(hostname) that no unit uses.
  returned: always
  type: list
  elements: dict
  contains:
    source:
      description: V(unit) or V(config), what defines this tunnel.
      type: str
    unit:
      description: Name of the systemd unit, or null for a config file alone.
      type: str
      sample: cloudflared.service
    enabled:
      description: Whether the unit is enabled (linked from a C(.wants) directory); null for a config file alone.
      type: bool
    config_file:
      description: Host path of the config file the tunnel used, or null.
      type: str
      sample: /etc/cloudflared/config.yml
    hostname:
      description: The public hostname the legacy tunnel served (null when none was set, which is a problem).
      type: str
      sample: app.example.com
    service:
      description:
        - The origin service as an ingress rule service. V(http://localhost:8080) when the legacy tunnel set no
          origin, C(scheme://host[:port]) for a C(--url), V(hello_world), V(bastion) or C(unix:PATH).
      type: str
      sample: http://localhost:8000
    origin_request:
      description:
        - Ingress C(originRequest) settings translated from the legacy proxy and TLS flags, with cloudflared's
          key names; durations are Go duration strings such as V(30s).
        - The same settings are already the C(originRequest) of the hostname rule in RV(legacy[].ingress); pass
          them to a named tunnel once, through that rule.
      type: dict
      sample: {"noTLSVerify": true, "connectTimeout": "30s"}
    lb_pool:
      description: Name of the load-balancer pool the legacy tunnel joined, or null.
      type: str
    ingress:
      description:
        - Ingress rules for the named tunnel, ready for the C(tunnelops.cloudflare.cf_local_config) filter or
          the C(tunnelops.cloudflare.cloudflared) role; the hostname rule (with RV(legacy[].origin_request) as
          its C(originRequest)) then the catch-all V(http_status:404). Empty when there is no hostname or no
          service.
      type: list
      elements: dict
      sample: [{"hostname": "app.example.com", "service": "http://localhost:8000"}, {"service": "http_status:404"}]
    options:
      description:
        - Global options to carry over to the named tunnel's config file, under cloudflared's flag names
          (loglevel, transport-loglevel, metrics, protocol, region, edge-ip-version, edge-bind-address,
          grace-period, ha-connections).
      type: dict
      sample: {"loglevel": "info", "metrics": "localhost:2000"}
    dropped:
      description:
        - Names of legacy settings left out because a named tunnel managed by this collection does not need them
          (no-autoupdate, autoupdate-freq, logfile, log-directory, pidfile, origincert, retries, force, ...).
      type: list
      elements: str
      sample: ["no-autoupdate", "origincert"]
    problems:
      description: Why this tunnel cannot be translated; values of secret settings are never shown.
      type: list
      elements: str
    notes:
      description: How the translation read ambiguous settings, for the migration report.
      type: list
      elements: str
    translatable:
      description: True when RV(legacy[].problems) is empty.
      type: bool
    retire:
      description: What to stop, back up and remove once the named tunnel serves the hostname.
      type: dict
      contains:
        unit:
          description: The legacy unit to stop and disable, or null.
          type: str
        unit_file:
          description: Host path of the unit file.
          type: str
        init_script:
          description:
            - V(/etc/init.d/cloudflared) when it exists and the tunnel is a config file in C(/etc/cloudflared) that
              no systemd unit runs (a SysV install); the script itself is not inspected. Null otherwise.
          type: str
        update_units:
          description: The C(cloudflared-update) service and timer installed beside a legacy C(cloudflared.service).
          type: list
          elements: str
        config_files:
          description: Config files to back up.
          type: list
          elements: str
        env_files:
          description: Environment files the unit read.
          type: list
          elements: str
        cert_pem:
          description: The C(cert.pem) this tunnel authenticated with (the first one cloudflared would find).
          type: list
          elements: str
named:
  description: One entry per named tunnel already set up on the host.
  returned: always
  type: list
  elements: dict
  contains:
    source:
      description: V(unit) or V(config).
      type: str
    unit:
      description: Name of the systemd unit, or null.
      type: str
    enabled:
      description: Whether the unit is enabled; null for a config file alone.
      type: bool
    config_file:
      description: Host path of the config file, or null.
      type: str
    tunnel:
      description: The tunnel as the host names it (name or UUID), or null when only a token says which.
      type: str
    tunnel_id:
      description: The tunnel UUID when the host tells it (a UUID reference, the credentials file or the token).
      type: str
    tunnel_name:
      description: The tunnel name when the host refers to the tunnel by name.
      type: str
    mode:
      description:
        - V(credentials) (config file and credentials file), V(token) (C(--token)), V(token_file) (C(--token-file))
          or V(adhoc) (C(cloudflared tunnel --name)).
      type: str
    credentials_file:
      description: Host path of the credentials file, or null.
      type: str
    token_file:
      description: Host path of the token file, or null.
      type: str
    hostnames:
      description: Hostnames of the ingress rules in the config file.
      type: list
      elements: str
    managed_by_role:
      description:
        - True for a C(cloudflared@NAME.service) instance whose config is C(/etc/cloudflared/NAME.yml), the layout of
          the C(tunnelops.cloudflare.cloudflared) role with its default C(cloudflared_config_dir).
      type: bool
    instance:
      description: The instance name of a template unit (V(web) for C(cloudflared@web.service)), or null.
      type: str
"""

import os

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.tunnelops.cloudflare.plugins.module_utils._legacy import ENV_FLAGS, discover


class LegacyInfo:
    """Collects the discovery result for one host."""

    def __init__(self, module):
        self.module = module

    def process_env(self):
        if not self.module.params["include_environment"]:
            return None
        return {key: value for key, value in os.environ.items() if key in ENV_FLAGS or key.startswith("TUNNEL_")}

    def run(self):
        params = self.module.params
        if not os.path.isdir(params["root"]):
            self.module.fail_json(msg=f"root {params['root']} is not a directory")

        result = discover(params["root"], params["config_paths"], params["unit_names"], self.process_env())

        for note in result["notes"]:
            self.module.warn(note)
        return result


ARGUMENT_SPEC = {
    "root": {"type": "path", "default": "/"},
    "config_paths": {"type": "list", "elements": "path", "default": []},
    "unit_names": {"type": "list", "elements": "str"},
    "include_environment": {"type": "bool", "default": False},
}


def main():
    module = AnsibleModule(argument_spec=ARGUMENT_SPEC, supports_check_mode=True)
    module.exit_json(changed=False, **LegacyInfo(module).run())


if __name__ == "__main__":
    main()
