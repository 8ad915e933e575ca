# Copyright (c) 2026, tunnelops maintainers
# SPDX-License-Identifier: GPL-3.0-or-later
"""Filters over the collection's ingress model; documented in the YAML files beside this one."""

from __future__ import annotations

from ansible.errors import AnsibleFilterError
from ansible_collections.tunnelops.cloudflare.plugins.module_utils._ingress import (
    IngressError,
    global_options,
    hostnames,
    local_config,
    origin_request_to_api,
    origin_request_to_yaml,
    remote_config,
    validate_ingress,
)


def _filter_error(name: str, exc: IngressError) -> AnsibleFilterError:
    return AnsibleFilterError(f"{name}: {exc}")


def cf_ingress_validate(rules, origin_request=None):
    """Return the normalised rules, or fail with the first problem cloudflared would report."""
    try:
        return validate_ingress(rules, origin_request)
    except IngressError as exc:
        raise _filter_error("cf_ingress_validate", exc) from exc


def cf_local_config(rules, tunnel_id, credentials_file, origin_request=None, options=None):
    """Return the content of config.yml for a locally managed tunnel."""
    try:
        return local_config(tunnel_id, credentials_file, rules, origin_request=origin_request, options=options)
    except IngressError as exc:
        raise _filter_error("cf_local_config", exc) from exc


def cf_remote_config(rules, origin_request=None, warp_routing=None):
    """Return the configuration object of a remote-managed tunnel, as the API takes it."""
    try:
        return remote_config(rules, origin_request=origin_request, warp_routing=warp_routing)
    except IngressError as exc:
        raise _filter_error("cf_remote_config", exc) from exc


def cf_origin_request_yaml(origin_request):
    """Return originRequest settings with durations as Go duration strings."""
    try:
        return origin_request_to_yaml(origin_request)
    except IngressError as exc:
        raise _filter_error("cf_origin_request_yaml", exc) from exc


def cf_origin_request_api(origin_request):
    """Return originRequest settings with durations as integer seconds."""
    try:
        return origin_request_to_api(origin_request)
    except IngressError as exc:
        raise _filter_error("cf_origin_request_api", exc) from exc


def cf_global_options(options):
    """Return global options under cloudflared's flag names, checked, for a config file."""
    try:
        return global_options(options)
    except IngressError as exc:
        raise _filter_error("cf_global_options", exc) from exc


def cf_ingress_hostnames(rules, include_wildcards=False):
    """Return the hostnames that the rules name, for routing."""
    try:
        return hostnames(rules, include_wildcards=include_wildcards)
    except IngressError as exc:
        raise _filter_error("cf_ingress_hostnames", exc) from exc


class FilterModule:
    """Ingress filters of tunnelops.cloudflare."""

    def filters(self):
        return {
            "cf_ingress_validate": cf_ingress_validate,
            "cf_local_config": cf_local_config,
            "cf_remote_config": cf_remote_config,
            "cf_origin_request_yaml": cf_origin_request_yaml,
            "cf_origin_request_api": cf_origin_request_api,
            "cf_ingress_hostnames": cf_ingress_hostnames,
            "cf_global_options": cf_global_options,
        }
