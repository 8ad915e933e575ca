# Copyright (c) 2026, tunnelops maintainers
# SPDX-License-Identifier: GPL-3.0-or-later
"""The ingress model of a Cloudflare named tunnel: validation and rendering, shared by every part of the collection.

Ingress rules are given in cloudflared's own shape (keys ``hostname``, ``path``, ``service`` and
``originRequest``; origin settings under their cloudflared names such as ``connectTimeout``). Validation
applies the rules ``cloudflared tunnel ingress validate`` applies, in the same order and with the same
wording, and adds a few checks of our own (hostnames must be DNS names, origin settings must be known
keys of the right type). Rules are numbered from 1, as cloudflared numbers them in its messages.

Durations are kept as integer seconds in normalised rules. The configurations endpoint of the API wants
integer seconds too, while ``config.yml`` wants Go duration strings such as ``1m30s``.

This file is pure standard-library Python: it runs on the controller, on managed hosts, and inside the
stand-in cloudflared that the tests build.
"""

from __future__ import annotations

import contextlib
import copy
import ipaddress
import re
from urllib.parse import urlsplit

__all__ = [
    "DURATION_KEYS",
    "GLOBAL_OPTIONS",
    "ORIGIN_REQUEST_KEYS",
    "IngressError",
    "format_duration",
    "global_options",
    "hostnames",
    "is_catch_all",
    "local_config",
    "match_rule",
    "normalise_remote_config",
    "normalise_service",
    "origin_request_to_api",
    "origin_request_to_yaml",
    "parse_duration",
    "remote_config",
    "validate_hostname",
    "validate_ingress",
    "validate_origin_request",
]

# cloudflared's own messages, word for word, so that users can search for them.
MSG_NO_RULES = "The config file doesn't contain any ingress rules"
MSG_LAST_NOT_CATCH_ALL = "The last ingress rule must match all URLs (i.e. it should not have a hostname or path filter)"
MSG_BAD_WILDCARD = (
    'Hostname patterns can have at most one wildcard character ("*") and it can only be used for subdomains, '
    'e.g. "*.example.com"'
)
MSG_HOSTNAME_PORT = "Hostname cannot contain a port"
MSG_ACCESS_TEAM = "access.TeamName cannot be blank when access.audTags are present"

RULE_KEYS = ("hostname", "path", "service", "originRequest")

DURATION_KEYS = frozenset(("connectTimeout", "tlsTimeout", "tcpKeepAlive", "keepAliveTimeout"))

# Known originRequest keys and their kinds, in the order cloudflared documents them.
ORIGIN_REQUEST_KEYS = {
    "connectTimeout": "duration",
    "tlsTimeout": "duration",
    "tcpKeepAlive": "duration",
    "noHappyEyeballs": "bool",
    "keepAliveConnections": "int",
    "keepAliveTimeout": "duration",
    "httpHostHeader": "str",
    "originServerName": "str",
    "matchSNItoHost": "bool",
    "caPool": "str",
    "noTLSVerify": "bool",
    "disableChunkedEncoding": "bool",
    "bastionMode": "bool",
    "proxyAddress": "str",
    "proxyPort": "port",
    "proxyType": "proxy_type",
    "ipRules": "ip_rules",
    "http2Origin": "bool",
    "access": "access",
}
_ACCESS_KEYS = ("required", "teamName", "audTag", "environment")
_IP_RULE_KEYS = ("prefix", "ports", "allow")

# Global options of config.yml that local_config() accepts, with their kinds. Keys use cloudflared's flag names.
GLOBAL_OPTIONS = {
    "loglevel": ("choice", ("debug", "info", "warn", "error", "fatal")),
    "transport-loglevel": ("choice", ("debug", "info", "warn", "error", "fatal")),
    "protocol": ("choice", ("auto", "quic", "http2")),
    "edge-ip-version": ("choice", ("auto", "4", "6")),
    "metrics": ("address", None),
    "grace-period": ("duration", None),
    "no-autoupdate": ("bool", None),
    "autoupdate-freq": ("duration", None),
    "retries": ("int", None),
    "ha-connections": ("int", None),
    "region": ("str", None),
    "edge-bind-address": ("str", None),
    "pidfile": ("str", None),
    "logfile": ("str", None),
    "log-directory": ("str", None),
    "output": ("choice", ("default", "json")),
    "post-quantum": ("bool", None),
    "management-diagnostics": ("bool", None),
    "no-prechecks": ("bool", None),
    "tag": ("str_list", None),
    "label": ("str", None),
}
# Keys local_config() writes itself, and legacy keys that turn a config into a classic-tunnel config.
_RESERVED_OPTIONS = frozenset(("tunnel", "credentials-file", "cred-file", "ingress", "originRequest"))
_LEGACY_OPTIONS = frozenset(("hostname", "url", "lb-pool", "hello-world", "unix-socket", "bastion"))

_DURATION_UNITS = {"ns": 1e-9, "us": 1e-6, "\u00b5s": 1e-6, "\u03bcs": 1e-6, "ms": 1e-3, "s": 1, "m": 60, "h": 3600}
_DURATION_PART = re.compile(r"(\d+(?:\.\d*)?|\.\d+)(ns|us|\u00b5s|\u03bcs|ms|s|m|h)")
_LABEL = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)$")
_TRUE = frozenset(("true", "yes", "on", "1"))
_FALSE = frozenset(("false", "no", "off", "0"))
# Constructs that Python's re accepts but Go's RE2 (which cloudflared compiles paths with) refuses.
_NOT_RE2 = re.compile(r"\(\?[=!]|\(\?<[=!]|\(\?>|\\[1-9]|(?<!\\)[*+?}]\+")


class IngressError(ValueError):
    """An ingress configuration that cloudflared (or this collection) would refuse.

    ``reason`` is the bare message (cloudflared's wording where cloudflared has one), ``rule`` the 1-based
    number of the offending rule or None. ``str()`` names the rule unless the reason already does.
    """

    def __init__(self, reason: str, rule: int | None = None) -> None:
        self.reason = reason
        self.rule = rule
        message = f"Rule #{rule}: {reason}" if rule is not None and not reason.startswith("Rule #") else reason
        super().__init__(message)


def parse_duration(value, name: str = "duration") -> int:
    """Return a duration as whole seconds.

    Accepts a non-negative integer (seconds), a string of digits (seconds), or a Go duration string such as
    ``30s``, ``1m30s``, ``1h`` or ``1500ms`` (the total must be a whole number of seconds).
    """
    if isinstance(value, bool):
        raise IngressError(f"{name} must be a number of seconds or a duration such as 30s, not {value!r}")
    if isinstance(value, int):
        if value < 0:
            raise IngressError(f"{name} must not be negative, got {value}")
        return value
    if isinstance(value, float) and value.is_integer() and value >= 0:
        return int(value)
    if not isinstance(value, str):
        raise IngressError(f"{name} must be a number of seconds or a duration such as 30s, not {value!r}")

    text = value.strip()
    if text.isdigit():
        return int(text)
    if text.startswith("-"):
        raise IngressError(f"{name} must not be negative, got {value!r}")
    text = text.removeprefix("+")
    pos = 0
    total = 0.0
    while pos < len(text):
        match = _DURATION_PART.match(text, pos)
        if not match:
            raise IngressError(f"{name} {value!r} is not a valid duration (examples: 30, 30s, 1m30s, 1h)")
        total += float(match.group(1)) * _DURATION_UNITS[match.group(2)]
        pos = match.end()
    if not text:
        raise IngressError(f"{name} must not be empty")

    seconds = round(total)
    # Floating point sums such as 0.1h must still land on a whole second to be accepted.
    if abs(total - seconds) > 1e-6:
        raise IngressError(f"{name} {value!r} is not a whole number of seconds")
    return seconds


def format_duration(seconds) -> str:
    """Return whole seconds as a Go duration string, the way Go prints it: 90 -> ``1m30s``, 3600 -> ``1h0m0s``."""
    seconds = parse_duration(seconds)
    if seconds == 0:
        return "0s"
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours}h{minutes}m{secs}s"
    if minutes:
        return f"{minutes}m{secs}s"
    return f"{secs}s"


def _has_port(hostname: str) -> bool:
    # Mirrors Go's net.SplitHostPort succeeding: "host:port" with exactly one colon, or "[v6]:port".
    if hostname.startswith("["):
        end = hostname.find("]")
        return end != -1 and hostname[end + 1 : end + 2] == ":"
    return hostname.count(":") == 1


def _punycode(hostname: str) -> str:
    labels = hostname.rstrip(".").split(".")
    out = []
    for label in labels:
        if label.isascii():
            out.append(label.lower())
            continue
        try:
            out.append(label.encode("idna").decode("ascii"))
        except UnicodeError as exc:
            raise IngressError(f"Hostname '{hostname}' is not a valid internationalised domain name: {exc}") from exc
    return ".".join(out)


def validate_hostname(hostname: str) -> str:
    """Check one rule hostname the way cloudflared does, then as a DNS name; return its punycode form.

    An empty hostname and ``*`` (catch-all forms) are returned unchanged. A leading ``*.`` is a wildcard.
    """
    if not isinstance(hostname, str):
        raise IngressError(f"Hostname must be a string, not {type(hostname).__name__}")
    if _has_port(hostname):
        raise IngressError(MSG_HOSTNAME_PORT)
    if hostname.rfind("*") > 0:
        raise IngressError(MSG_BAD_WILDCARD)
    if hostname in ("", "*"):
        return hostname

    wildcard = hostname.startswith("*.")
    name = hostname[2:] if wildcard else hostname
    if name.startswith("*") or not name:
        raise IngressError(MSG_BAD_WILDCARD)
    ascii_name = _punycode(name)
    labels = ascii_name.split(".")
    if len(ascii_name) > 253 or any(not _LABEL.match(label) for label in labels):
        raise IngressError(
            f"Hostname '{hostname}' is not a valid DNS name (labels of letters, digits and hyphens, "
            "at most 63 characters each, 253 in all)"
        )
    if len(labels) < 2:
        raise IngressError(f"Hostname '{hostname}' is not a fully qualified domain name")
    return ("*." if wildcard else "") + ascii_name


def is_catch_all(rule: dict) -> bool:
    """True if a rule matches every request: no hostname (or ``*``) and no path, as cloudflared defines it."""
    return (rule.get("hostname") or "") in ("", "*") and not rule.get("path")


def normalise_service(service, legacy: bool = False, bastion_mode: bool = False) -> str:
    """Validate an ingress service and return it in its canonical form.

    Accepted as cloudflared accepts them, in its order: ``unix:PATH``, ``unix+tls:PATH``, ``http_status:CODE``
    (100 to 999), ``hello_world``/``hello-world``/``helloworld``, ``socks-proxy``, ``bastion``, and URLs with a
    scheme and a hostname and no path. With C(legacy=True), a URL is treated the way cloudflared treated the
    legacy ``--url`` flag: ``http://`` is assumed when no scheme is given and any path is dropped. With
    C(bastion_mode=True) (the rule's effective ``bastionMode``) any other service is accepted unchecked, since
    cloudflared then ignores it and runs a jump host.
    """
    if not isinstance(service, str):
        raise IngressError(f"service must be a string, not {type(service).__name__}")
    service = service.strip()
    if not service:
        raise IngressError("The rule has no service")
    for prefix in ("unix:", "unix+tls:"):
        if service.startswith(prefix):
            return service
    if service.startswith("http_status:"):
        code = service[len("http_status:") :]
        if not code.lstrip("+-").isdigit():
            raise IngressError(f'invalid HTTP status code: strconv.Atoi: parsing "{code}": invalid syntax')
        if not 100 <= int(code) <= 999:
            raise IngressError(f"invalid HTTP status code: {int(code)}")
        return f"http_status:{int(code)}"
    if service in ("hello_world", "hello-world", "helloworld", "socks-proxy", "bastion") or bastion_mode:
        return service

    if legacy and "://" not in service:
        service = "http://" + service
    try:
        parts = urlsplit(service)
        port = parts.port
    except ValueError as exc:
        raise IngressError(f'parse "{service}": {exc}') from exc
    if not parts.scheme or not parts.hostname:
        raise IngressError(f"{service} is an invalid address, please make sure it has a scheme and a hostname")
    if legacy:
        host = parts.hostname if ":" not in parts.hostname else f"[{parts.hostname}]"
        return f"{parts.scheme.lower()}://{host}" + (f":{port}" if port is not None else "")
    if parts.path:
        raise IngressError(
            f"{service} is an invalid address, ingress rules don't support proxying to a different path on the "
            "origin service. The path will be the same as the eyeball request's path"
        )
    return service


def _as_bool(value, name: str) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in _TRUE | _FALSE:
        return value.strip().lower() in _TRUE
    raise IngressError(f"{name} must be a boolean, not {value!r}")


def _as_int(value, name: str, low: int = 0, high: int | None = None) -> int:
    if isinstance(value, bool):
        raise IngressError(f"{name} must be an integer, not {value!r}")
    if isinstance(value, str) and value.strip().isdigit():
        value = int(value.strip())
    if not isinstance(value, int) or value < low or (high is not None and value > high):
        limits = f"between {low} and {high}" if high is not None else f"at least {low}"
        raise IngressError(f"{name} must be an integer {limits}, not {value!r}")
    return value


def _as_str(value, name: str) -> str:
    if not isinstance(value, str):
        raise IngressError(f"{name} must be a string, not {value!r}")
    return value


def _check_keys(data, known, where: str) -> dict:
    if not isinstance(data, dict):
        raise IngressError(f"{where} must be a mapping, not {type(data).__name__}")
    for key in data:
        if key not in known:
            raise IngressError(f"{where} has an unknown key '{key}' (known keys: {', '.join(known)})")
    return data


def _validate_access(access, where: str) -> dict:
    _check_keys(access, _ACCESS_KEYS, f"{where}.access")
    out = {}
    if access.get("required") is not None:
        out["required"] = _as_bool(access["required"], f"{where}.access.required")
    if access.get("teamName") is not None:
        out["teamName"] = _as_str(access["teamName"], f"{where}.access.teamName")
    if access.get("audTag") is not None:
        tags = access["audTag"]
        if isinstance(tags, str):
            tags = [tags]
        if not isinstance(tags, list):
            raise IngressError(f"{where}.access.audTag must be a list of strings")
        out["audTag"] = [_as_str(tag, f"{where}.access.audTag") for tag in tags]
    if access.get("environment") is not None:
        out["environment"] = _as_str(access["environment"], f"{where}.access.environment")

    if out.get("required") and not out.get("teamName") and out.get("audTag"):
        raise IngressError(MSG_ACCESS_TEAM)
    return out


def _validate_ip_rules(rules, where: str) -> list:
    if not isinstance(rules, list):
        raise IngressError(f"{where}.ipRules must be a list")
    out = []
    for number, rule in enumerate(rules, start=1):
        name = f"{where}.ipRules[{number}]"
        _check_keys(rule, _IP_RULE_KEYS, name)
        entry = {}
        try:
            entry["prefix"] = str(ipaddress.ip_network(_as_str(rule.get("prefix"), f"{name}.prefix"), strict=False))
        except ValueError as exc:
            raise IngressError(f"{name}.prefix is not a valid CIDR prefix: {exc}") from exc
        if rule.get("ports") is not None:
            entry["ports"] = [_as_int(port, f"{name}.ports", 1, 65535) for port in rule["ports"]]
        entry["allow"] = _as_bool(rule.get("allow", False), f"{name}.allow")
        out.append(entry)
    return out


def validate_origin_request(data, where: str = "originRequest") -> dict:
    """Validate originRequest settings and return a normalised copy (durations as integer seconds).

    Unknown keys are refused by name; ``None`` values are dropped, so that unset role variables can be passed.
    """
    if data is None:
        return {}
    _check_keys(data, ORIGIN_REQUEST_KEYS, where)
    out = {}
    for key, kind in ORIGIN_REQUEST_KEYS.items():
        value = data.get(key)
        if value is None:
            continue
        name = f"{where}.{key}"
        if kind == "duration":
            out[key] = parse_duration(value, name)
        elif kind == "bool":
            out[key] = _as_bool(value, name)
        elif kind == "int":
            out[key] = _as_int(value, name)
        elif kind == "port":
            out[key] = _as_int(value, name, 0, 65535)
        elif kind == "str":
            out[key] = _as_str(value, name)
        elif kind == "proxy_type":
            if value not in ("", "socks"):
                raise IngressError(f'{name} must be "" or "socks", not {value!r}')
            out[key] = value
        elif kind == "ip_rules":
            out[key] = _validate_ip_rules(value, where)
        else:
            out[key] = _validate_access(value, where)
    return out


def _compile_path(path: str) -> re.Pattern:
    if _NOT_RE2.search(path):
        raise re.error("invalid or unsupported Perl syntax (lookaround, backreference or possessive repetition)")
    # Go spells the end-of-text anchor \z where Python spells it \Z.
    return re.compile(path.replace(r"\z", r"\Z"))


def _validate_rule(rule, number: int, total: int, defaults: dict) -> dict:
    if not isinstance(rule, dict):
        raise IngressError(f"an ingress rule must be a mapping, not {type(rule).__name__}", number)
    for key in rule:
        if key not in RULE_KEYS:
            raise IngressError(f"unknown key '{key}' (known keys: {', '.join(RULE_KEYS)})", number)
    hostname = rule.get("hostname") or ""
    path = rule.get("path") or ""
    if not isinstance(path, str):
        raise IngressError(f"path must be a string, not {type(path).__name__}", number)

    # cloudflared's order: service (with the effective bastionMode), access, hostname, then the path regex.
    try:
        origin_request = validate_origin_request(rule.get("originRequest"), "originRequest")
        if rule.get("service") is None:
            raise IngressError("The rule has no service")
        bastion_mode = {**defaults, **origin_request}.get("bastionMode", False)
        service = normalise_service(rule["service"], bastion_mode=bastion_mode)
    except IngressError as exc:
        raise IngressError(exc.reason, number) from None

    try:
        validate_hostname(hostname)
    except IngressError as exc:
        raise IngressError(exc.reason, number) from None
    catch_all = is_catch_all({"hostname": hostname, "path": path})
    if number == total and not catch_all:
        raise IngressError(MSG_LAST_NOT_CATCH_ALL, number)
    if number != total and catch_all:
        raise IngressError(
            f"Rule #{number} is matching the hostname '{hostname}', but this will match every hostname, "
            "meaning the rules which follow it will never be triggered.",
            number,
        )

    if path:
        try:
            _compile_path(path)
        except re.error as exc:
            raise IngressError(f"Rule #{number} has an invalid regex: {exc}", number) from None

    out = {}
    if hostname:
        out["hostname"] = hostname
    if path:
        out["path"] = path
    out["service"] = service
    if origin_request:
        out["originRequest"] = origin_request
    return out


def validate_ingress(rules, origin_request=None) -> list[dict]:
    """Validate ingress rules (and the top-level originRequest) as cloudflared does; return a normalised copy.

    Raises IngressError naming the first offending rule. Normalised rules hold only the keys that are set,
    in the order hostname, path, service, originRequest, with durations as integer seconds.
    """
    defaults = validate_origin_request(origin_request, "originRequest")
    if rules is None or (isinstance(rules, list) and not rules):
        raise IngressError(MSG_NO_RULES)
    if not isinstance(rules, list):
        raise IngressError(f"ingress must be a list of rules, not {type(rules).__name__}")
    return [_validate_rule(rule, number, len(rules), defaults) for number, rule in enumerate(rules, start=1)]


def hostnames(rules, include_wildcards: bool = False) -> list[str]:
    """Return the hostnames that rules name, in order and without repeats, for routing.

    Catch-all rules name none. Wildcard hostnames (``*.example.com``) are left out unless asked for.
    Hostnames are returned as the user wrote them; repeats are detected on their punycode form.
    """
    seen = set()
    out = []
    for rule in rules or []:
        hostname = (rule.get("hostname") or "") if isinstance(rule, dict) else ""
        if hostname in ("", "*") or (hostname.startswith("*") and not include_wildcards):
            continue
        key = validate_hostname(hostname)
        if key not in seen:
            seen.add(key)
            out.append(hostname)
    return out


def _matches_host(rule_host: str, host: str) -> bool:
    if rule_host in ("", "*"):
        return True
    rule_ascii = _punycode(rule_host[2:]) if rule_host.startswith("*.") else _punycode(rule_host)
    if rule_host.startswith("*."):
        return host.endswith("." + rule_ascii)
    return host == rule_ascii


def match_rule(rules, url: str) -> tuple[int, dict]:
    """Return (0-based index, rule) of the rule that serves ``url``, as ``cloudflared tunnel ingress rule`` does.

    The request's port is ignored; paths are searched unanchored; the last rule (a catch-all) serves the rest.
    """
    parts = urlsplit(url if "://" in url else "https://" + url)
    if not parts.hostname:
        raise IngressError(f"{url} doesn't have a hostname, consider adding a scheme")
    host = _punycode(parts.hostname)
    for index, rule in enumerate(rules):
        path = rule.get("path") or ""
        if not _matches_host(rule.get("hostname") or "", host):
            continue
        if path and not _compile_path(path).search(parts.path):
            continue
        return index, rule
    return len(rules) - 1, rules[-1]


def _origin_request_to(data, duration) -> dict:
    out = {}
    for key, value in (data or {}).items():
        if value is None:
            continue
        if key in DURATION_KEYS:
            out[key] = duration(value)
        elif isinstance(value, (dict, list)):
            out[key] = copy.deepcopy(value)
        else:
            out[key] = value
    return out


def origin_request_to_api(data) -> dict:
    """Return originRequest settings as the configurations endpoint wants them: durations as integer seconds."""
    return _origin_request_to(validate_origin_request(data), parse_duration)


def origin_request_to_yaml(data) -> dict:
    """Return originRequest settings as config.yml wants them: durations as Go duration strings."""
    return _origin_request_to(validate_origin_request(data), format_duration)


def _rules_with(rules: list[dict], convert) -> list[dict]:
    out = []
    for rule in rules:
        rule = dict(rule)
        if "originRequest" in rule:
            rule["originRequest"] = convert(rule["originRequest"])
        out.append(rule)
    return out


def _warp_routing(value) -> dict | None:
    if value is None:
        return None
    if isinstance(value, dict):
        unknown = set(value) - {"enabled"}
        if unknown:
            raise IngressError(f"warp-routing has an unknown key '{sorted(unknown)[0]}' (known keys: enabled)")
        value = value.get("enabled", False)
    return {"enabled": _as_bool(value, "warp-routing.enabled")}


def remote_config(rules, origin_request=None, warp_routing=None) -> dict:
    """Return the ``config`` object to PUT to ``/accounts/{account}/cfd_tunnel/{id}/configurations``.

    Rules are validated first. Durations are sent as integer seconds, which is all that cloudflared's JSON
    decoder accepts. ``warp_routing`` is a boolean or ``{"enabled": bool}``; left out when None.
    """
    normalised = validate_ingress(rules, origin_request)
    config = {"ingress": _rules_with(normalised, origin_request_to_api)}
    defaults = origin_request_to_api(origin_request)
    if defaults:
        config["originRequest"] = defaults
    warp = _warp_routing(warp_routing)
    if warp is not None:
        config["warp-routing"] = warp
    return config


def _lenient_origin_request(data) -> dict:
    # What the API returns is compared, never refused: keys we do not know are kept as they are.
    out = {}
    for key, value in (data or {}).items():
        if value is None or value == "" or value == [] or value == {}:
            continue
        if key in DURATION_KEYS:
            with contextlib.suppress(IngressError):
                value = parse_duration(value)
        out[key] = value
    return out


def normalise_remote_config(config) -> dict:
    """Return a remote-managed tunnel's configuration in a form fit for comparison.

    Works on what GET ``.../configurations`` returns (its ``config`` object) and on remote_config() output
    alike: hostnames become lower-case punycode, catch-all hostnames and empty paths and settings disappear,
    durations become integer seconds, and ``warp-routing`` is kept only when enabled.
    """
    config = config or {}
    rules = []
    for rule in config.get("ingress") or []:
        out = {}
        hostname = rule.get("hostname") or ""
        if hostname and not (hostname == "*" and not rule.get("path")):
            try:
                out["hostname"] = validate_hostname(hostname)
            except IngressError:
                out["hostname"] = hostname
        if rule.get("path"):
            out["path"] = rule["path"]
        out["service"] = (rule.get("service") or "").strip()
        origin_request = _lenient_origin_request(rule.get("originRequest"))
        if origin_request:
            out["originRequest"] = origin_request
        rules.append(out)

    result = {"ingress": rules}
    defaults = _lenient_origin_request(config.get("originRequest"))
    if defaults:
        result["originRequest"] = defaults
    warp = config.get("warp-routing") or {}
    if warp.get("enabled"):
        result["warp-routing"] = {"enabled": True}
    return result


def _global_option(key: str, value):
    kind, choices = GLOBAL_OPTIONS[key]
    if kind == "choice":
        value = str(value)
        if value not in choices:
            raise IngressError(f"option {key} must be one of {', '.join(choices)}, not {value!r}")
        return value
    if kind == "duration":
        return format_duration(parse_duration(value, key))
    if kind == "bool":
        return _as_bool(value, key)
    if kind == "int":
        return _as_int(value, key)
    if kind == "address":
        value = _as_str(value, key)
        if not _has_port(value):
            raise IngressError(f"option {key} must be an address such as 127.0.0.1:20241, not {value!r}")
        return value
    if kind == "str_list":
        values = [value] if isinstance(value, str) else list(value)
        return [_as_str(item, key) for item in values]
    return _as_str(value, key)


def global_options(options) -> dict:
    """Return global options for a config file under cloudflared's flag names, checked and in config.yml form.

    Keys are flag names (``loglevel``, ``protocol``, ``metrics``, ``edge-ip-version``, ``grace-period``,
    ``no-autoupdate``, ...; underscores are read as hyphens); None values are dropped; durations become Go
    duration strings. Keys the collection writes itself (``tunnel``, ``credentials-file``, ``ingress``,
    ``originRequest``) and legacy keys (``hostname``, ``url``, ...) are refused: the latter would make cloudflared
    treat the file as a classic tunnel configuration.
    """
    if options is None:
        return {}
    if not isinstance(options, dict):
        raise IngressError(f"options must be a mapping, not {type(options).__name__}")
    out = {}
    for raw_key, value in options.items():
        key = str(raw_key).replace("_", "-")
        if value is None:
            continue
        if key in _RESERVED_OPTIONS:
            raise IngressError(f"option {key} is set by the collection itself; do not pass it in options")
        if key in _LEGACY_OPTIONS:
            raise IngressError(f"option {key} belongs to legacy (classic) tunnels and cannot be used with ingress")
        if key not in GLOBAL_OPTIONS:
            raise IngressError(f"unknown global option '{key}' (known: {', '.join(GLOBAL_OPTIONS)})")
        out[key] = _global_option(key, value)
    return out


def local_config(tunnel_id, credentials_file, rules, origin_request=None, options=None) -> dict:
    """Return the content of a locally managed tunnel's ``config.yml`` as a dict (keys in cloudflared's order).

    ``options`` holds global options as global_options() takes them. Durations are written as Go duration
    strings.
    """
    normalised = validate_ingress(rules, origin_request)
    if not isinstance(tunnel_id, str) or not tunnel_id:
        raise IngressError("tunnel_id must be the tunnel's UUID (or name)")
    if not isinstance(credentials_file, str) or not credentials_file:
        raise IngressError("credentials_file must be a path")

    config = {"tunnel": tunnel_id, "credentials-file": credentials_file, **global_options(options)}
    defaults = origin_request_to_yaml(origin_request)
    if defaults:
        config["originRequest"] = defaults
    config["ingress"] = _rules_with(normalised, origin_request_to_yaml)
    return config
