# Copyright (c) 2026 tunnelops maintainers
# SPDX-License-Identifier: GPL-3.0-or-later
"""Find legacy ("classic") cloudflared setups on a host and translate them for named tunnels.

This runs on managed hosts, so it uses the standard library only. PyYAML is used when the host has it;
otherwise a small parser reads the block-style YAML subset that cloudflared config files use and reports
anything beyond it as unparseable instead of guessing.
"""

from __future__ import annotations

import base64
import ipaddress
import json
import os
import posixpath
import re
import shlex
import urllib.parse

from ansible_collections.tunnelops.cloudflare.plugins.module_utils._ingress import (
    IngressError,
    format_duration,
    local_config,
    parse_duration,
)

try:
    import yaml

    HAS_YAML = True
except ImportError:
    HAS_YAML = False


UNIT_DIRS = (
    "/etc/systemd/system",
    "/run/systemd/system",
    "/usr/local/lib/systemd/system",
    "/lib/systemd/system",
    "/usr/lib/systemd/system",
)
SYSTEM_CONFIG_DIRS = ("/etc/cloudflared", "/usr/local/etc/cloudflared")
HOME_CONFIG_DIRS = (".cloudflared", ".cloudflare-warp", "cloudflare-warp")
CONFIG_NAMES = ("config.yml", "config.yaml")
INIT_SCRIPT = "/etc/init.d/cloudflared"
UPDATE_UNITS = ("cloudflared-update.service", "cloudflared-update.timer")
CATCH_ALL = {"service": "http_status:404"}
URL_SCHEMES = ("http", "https", "rdp", "ssh", "smb", "tcp")
UUID_RE = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")


class ConfigParseError(ValueError):
    """A config file that cannot be read as the YAML subset cloudflared configs use."""


class Flag:
    """What one cloudflared flag (or config key of the same name) means for a migration."""

    def __init__(self, kind, category, target=None, env=(), secret=False, reason=None):
        self.kind = kind
        self.category = category
        self.target = target
        self.env = env
        self.secret = secret
        self.reason = reason


_UNSUPPORTED = "has no equivalent for named tunnels"
FLAGS = {
    "hostname": Flag("str", "route", env=("TUNNEL_HOSTNAME",)),
    "lb-pool": Flag("str", "route", env=("TUNNEL_LB_POOL",)),
    "url": Flag("str", "service", env=("TUNNEL_URL",)),
    "hello-world": Flag("bool", "service", env=("TUNNEL_HELLO_WORLD",)),
    "bastion": Flag("bool", "service", env=("TUNNEL_BASTION",)),
    "unix-socket": Flag("str", "service", env=("TUNNEL_UNIX_SOCKET",)),
    "socks5": Flag("bool", "origin", "proxyType", env=("TUNNEL_SOCKS",)),
    "no-tls-verify": Flag("bool", "origin", "noTLSVerify", env=("NO_TLS_VERIFY",)),
    "origin-ca-pool": Flag("str", "origin", "caPool", env=("TUNNEL_ORIGIN_CA_POOL",)),
    "origin-server-name": Flag("str", "origin", "originServerName", env=("TUNNEL_ORIGIN_SERVER_NAME",)),
    "http-host-header": Flag("str", "origin", "httpHostHeader", env=("TUNNEL_HTTP_HOST_HEADER",)),
    "no-chunked-encoding": Flag("bool", "origin", "disableChunkedEncoding", env=("TUNNEL_NO_CHUNKED_ENCODING",)),
    "http2-origin": Flag("bool", "origin", "http2Origin", env=("TUNNEL_ORIGIN_ENABLE_HTTP2",)),
    "proxy-connect-timeout": Flag("duration", "origin", "connectTimeout"),
    "proxy-tls-timeout": Flag("duration", "origin", "tlsTimeout"),
    "proxy-tcp-keepalive": Flag("duration", "origin", "tcpKeepAlive"),
    "proxy-no-happy-eyeballs": Flag("bool", "origin", "noHappyEyeballs"),
    "proxy-keepalive-connections": Flag("int", "origin", "keepAliveConnections"),
    "proxy-keepalive-timeout": Flag("duration", "origin", "keepAliveTimeout"),
    "proxy-address": Flag("str", "origin", "proxyAddress", env=("TUNNEL_PROXY_ADDRESS",)),
    "proxy-port": Flag("int", "origin", "proxyPort", env=("TUNNEL_PROXY_PORT",)),
    "loglevel": Flag("str", "option", env=("TUNNEL_LOGLEVEL",)),
    "transport-loglevel": Flag("str", "option", env=("TUNNEL_PROTO_LOGLEVEL", "TUNNEL_TRANSPORT_LOGLEVEL")),
    "metrics": Flag("str", "option", env=("TUNNEL_METRICS",)),
    "protocol": Flag("str", "option", env=("TUNNEL_TRANSPORT_PROTOCOL",)),
    "region": Flag("str", "option", env=("TUNNEL_REGION",)),
    "edge-ip-version": Flag("str", "option", env=("TUNNEL_EDGE_IP_VERSION",)),
    "edge-bind-address": Flag("str", "option", env=("TUNNEL_EDGE_BIND_ADDRESS",)),
    "grace-period": Flag("duration", "option", env=("TUNNEL_GRACE_PERIOD",)),
    "ha-connections": Flag("int", "option"),
    "heartbeat-interval": Flag("duration", "drop"),
    "heartbeat-count": Flag("int", "drop"),
    "no-autoupdate": Flag("bool", "drop", env=("NO_AUTOUPDATE",)),
    "autoupdate-freq": Flag("str", "drop"),
    "logfile": Flag("str", "drop", env=("TUNNEL_LOGFILE",)),
    "log-directory": Flag("str", "drop", env=("TUNNEL_LOGDIRECTORY",)),
    "pidfile": Flag("str", "drop", env=("TUNNEL_PIDFILE",)),
    "origincert": Flag("str", "drop", env=("TUNNEL_ORIGIN_CERT",)),
    "retries": Flag("int", "drop", env=("TUNNEL_RETRIES",)),
    "force": Flag("bool", "drop"),
    "compression-quality": Flag("int", "drop"),
    "metrics-update-freq": Flag("str", "drop", env=("TUNNEL_METRICS_UPDATE_FREQ",)),
    "is-autoupdated": Flag("bool", "drop"),
    "config": Flag("str", "config"),
    "tunnel": Flag("str", "named"),
    "name": Flag("str", "named", env=("TUNNEL_NAME",)),
    "credentials-file": Flag("str", "named", env=("TUNNEL_CRED_FILE",)),
    "credentials-contents": Flag("str", "named", env=("TUNNEL_CRED_CONTENTS",), secret=True),
    "token": Flag("str", "named", env=("TUNNEL_TOKEN",), secret=True),
    "token-file": Flag("str", "named", env=("TUNNEL_TOKEN_FILE",)),
    "ingress": Flag("any", "named"),
    "originRequest": Flag("any", "named"),
    "warp-routing": Flag("any", "named"),
    "tag": Flag("list", "problem", env=("TUNNEL_TAG",), reason="connector tags " + _UNSUPPORTED),
    "ssh-server": Flag("bool", "problem", env=("TUNNEL_SSH_SERVER",), reason="the built-in SSH server " + _UNSUPPORTED),
    "api-key": Flag("str", "problem", env=("TUNNEL_API_KEY",), secret=True, reason="the pre-2018 API key login"),
    "api-email": Flag("str", "problem", env=("TUNNEL_API_EMAIL",), reason="the pre-2018 API key login"),
    "api-ca-key": Flag("str", "problem", env=("TUNNEL_API_CA_KEY",), secret=True, reason="the pre-2018 API key login"),
    "proxy-dns": Flag("bool", "problem", env=("TUNNEL_DNS",), reason="the DNS over HTTPS proxy is not a tunnel"),
}
for _dns_flag, _kind in (("port", "int"), ("address", "str"), ("upstream", "list"), ("bootstrap", "list")):
    FLAGS["proxy-dns-" + _dns_flag] = Flag(
        _kind, "problem", env=("TUNNEL_DNS_" + _dns_flag.upper(),), reason="the DNS over HTTPS proxy"
    )
FLAGS["proxy-dns-max-upstream-conns"] = Flag("int", "problem", reason="the DNS over HTTPS proxy")
FLAG_ALIASES = {"cred-file": "credentials-file", "n": "name"}
ENV_FLAGS = {env: name for name, flag in FLAGS.items() for env in flag.env}
NAMED_MARKERS = ("tunnel", "name", "credentials-file", "credentials-contents", "token", "token-file")
LEGACY_MARKERS = ("hostname", "lb-pool", "url", "hello-world", "bastion", "unix-socket")
SUBCOMMANDS = ("tunnel", "access", "proxy-dns", "service", "update", "run", "login", "create", "route")


# --- files under a root -------------------------------------------------------------------------------------------


class HostFS:
    """Read files of a host whose / is at `root`, following symlinks inside that root (absolute targets too)."""

    def __init__(self, root="/"):
        self.root = os.path.abspath(root)

    def real(self, path, _depth=0):
        parts = [p for p in path.split("/") if p]
        current = "/"
        for index, part in enumerate(parts):
            candidate = posixpath.join(current, part)
            local = self._local(candidate)
            # Absolute link targets mean the host's /, so they are re-rooted under root, never followed here.
            if os.path.islink(local):
                if _depth > 40:
                    return local
                target = os.readlink(local)
                base = target if target.startswith("/") else posixpath.join(current, target)
                rest = posixpath.join(posixpath.normpath(base), *parts[index + 1 :])
                return self.real(rest, _depth + 1)
            current = candidate
        return self._local(current)

    def _local(self, path):
        return self.root.rstrip("/") + path if self.root != "/" else path

    def isfile(self, path):
        return os.path.isfile(self.real(path))

    def isdir(self, path):
        return os.path.isdir(self.real(path))

    def read(self, path):
        with open(self.real(path), encoding="utf-8", errors="replace") as handle:
            return handle.read()

    def listdir(self, path):
        try:
            return sorted(os.listdir(self.real(path)))
        except OSError:
            return []

    def link_target(self, path):
        """The resolved host path of a symlink (None when not a link)."""
        local = self._local(posixpath.normpath(path))
        if not os.path.islink(local):
            return None
        target = os.readlink(local)
        if not target.startswith("/"):
            target = posixpath.normpath(posixpath.join(posixpath.dirname(path), target))
        return target


# --- YAML ---------------------------------------------------------------------------------------------------------


def load_config(text, use_yaml=None):
    """Parse a config file into a dict; raise ConfigParseError for anything else."""
    if use_yaml is None:
        use_yaml = HAS_YAML
    if use_yaml:
        try:
            data = yaml.safe_load(text)
        except yaml.YAMLError as exc:
            # Only the position and the problem: PyYAML's own message quotes the offending line, which may hold a
            # secret (a token or an API key of the legacy setup).
            mark = getattr(exc, "problem_mark", None)
            where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark is not None else ""
            raise ConfigParseError(where + (getattr(exc, "problem", None) or "not valid YAML")) from exc
    else:
        data = MiniYAML(text).parse()
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ConfigParseError("the top level is not a mapping of keys")
    return data


class MiniYAML:
    """Block mappings, block sequences, plain and quoted scalars and flat flow lists: the subset configs use."""

    def __init__(self, text):
        self.lines = []
        self.pos = 0
        for number, raw in enumerate(text.splitlines(), 1):
            line = _strip_comment(raw).rstrip()
            if not line.strip() or (not self.lines and line.strip() == "---"):
                continue
            if line.strip() in ("---", "..."):
                raise ConfigParseError(f"line {number}: more than one YAML document")
            body = line.lstrip(" ")
            if body.startswith("\t"):
                raise ConfigParseError(f"line {number}: tab used for indentation")
            self.lines.append((len(line) - len(body), body, number))

    def parse(self):
        if not self.lines:
            return None
        value = self._block(self.lines[0][0])
        if self.pos < len(self.lines):
            raise ConfigParseError(f"line {self.lines[self.pos][2]}: unexpected indentation or content")
        return value

    def _block(self, indent):
        body = self.lines[self.pos][1]
        if _is_item(body):
            return self._sequence(indent)
        return self._mapping(indent)

    def _nested(self, indent, allow_same_indent_sequence):
        if self.pos >= len(self.lines):
            return None
        next_indent, body, _number = self.lines[self.pos]
        if next_indent > indent:
            return self._block(next_indent)
        if allow_same_indent_sequence and next_indent == indent and _is_item(body):
            return self._sequence(indent)
        return None

    def _sequence(self, indent):
        items = []
        while self.pos < len(self.lines):
            line_indent, body, number = self.lines[self.pos]
            if line_indent != indent or not _is_item(body):
                break
            rest = body[1:].lstrip(" ")
            if not rest:
                self.pos += 1
                items.append(self._nested(indent, False))
            elif _split_key(rest) is not None:
                # "- key: value" opens a mapping whose keys line up with "key".
                self.lines[self.pos] = (indent + len(body) - len(rest), rest, number)
                items.append(self._mapping(indent + len(body) - len(rest)))
            else:
                self.pos += 1
                items.append(_scalar(rest, number))
        return items

    def _mapping(self, indent):
        result = {}
        while self.pos < len(self.lines):
            line_indent, body, number = self.lines[self.pos]
            if line_indent < indent or (line_indent == indent and _is_item(body)):
                break
            if line_indent > indent:
                raise ConfigParseError(f"line {number}: unexpected indentation")
            split = _split_key(body)
            if split is None:
                raise ConfigParseError(f"line {number}: expected 'key: value'")
            key, rest = split
            self.pos += 1
            if key in result:
                raise ConfigParseError(f"line {number}: duplicate key {key!r}")
            result[key] = _scalar(rest, number) if rest else self._nested(indent, True)
        return result


def _is_item(body):
    return body == "-" or body.startswith("- ")


def _strip_comment(line):
    quote = None
    for index, char in enumerate(line):
        if quote:
            if char == quote:
                quote = None
        elif char in "\"'" and (index == 0 or line[index - 1] in " :-[{,"):
            quote = char
        # As in YAML, "#" opens a comment only after whitespace, so URL fragments in values survive.
        elif char == "#" and (index == 0 or line[index - 1] in " \t"):
            return line[:index]
    return line


def _split_key(body):
    """Split 'key: rest' (key plain or quoted); None when the line is not a mapping entry."""
    if body[0] in "\"'":
        end = body.find(body[0], 1)
        if end < 0 or not body[end + 1 :].startswith(":"):
            return None
        key, rest = _scalar(body[: end + 1], 0), body[end + 2 :]
    else:
        match = re.match(r"^([^\s:][^:]*?)\s*:(?:\s+|$)", body)
        if not match or body[0] in "[{&*!|>%@`":
            return None
        key, rest = match.group(1), body[match.end() :]
    if rest and not rest[0].isspace() and body[0] in "\"'":
        return None
    return str(key), rest.strip()


def _scalar(text, number):
    text = text.strip()
    if text[0] in "&*!|>%@`" or (text[0] == "{" and text != "{}"):
        raise ConfigParseError(f"line {number}: YAML feature not supported without PyYAML: {text[:20]!r}")
    if text[0] == '"':
        if len(text) < 2 or not text.endswith('"'):
            raise ConfigParseError(f"line {number}: unterminated double-quoted string")
        try:
            return json.loads(text)
        except ValueError as exc:
            raise ConfigParseError(f"line {number}: unsupported escape in string") from exc
    if text[0] == "'":
        if len(text) < 2 or not text.endswith("'"):
            raise ConfigParseError(f"line {number}: unterminated single-quoted string")
        return text[1:-1].replace("''", "'")
    if text == "{}":
        return {}
    if text[0] == "[":
        if not text.endswith("]") or "[" in text[1:-1] or "{" in text[1:-1]:
            raise ConfigParseError(f"line {number}: only flat flow lists are supported without PyYAML")
        inner = text[1:-1].strip()
        return [_scalar(part, number) for part in inner.split(",") if part.strip()] if inner else []
    if text in ("~", "null", "Null", "NULL"):
        return None
    lowered = text.lower()
    if lowered in ("true", "yes", "on") and text in (lowered, lowered.capitalize(), lowered.upper()):
        return True
    if lowered in ("false", "no", "off") and text in (lowered, lowered.capitalize(), lowered.upper()):
        return False
    if re.fullmatch(r"[-+]?(0|[1-9][0-9]*)", text):
        return int(text)
    if re.fullmatch(r"[-+]?[0-9]+\.[0-9]*", text):
        return float(text)
    return text


# --- systemd ------------------------------------------------------------------------------------------------------


def parse_unit(texts):
    """Merge unit file texts (the unit, then its drop-ins) into {section: {key: [values]}}.

    An empty assignment resets the list, as systemd does for ExecStart= and Environment= in drop-ins.
    """
    sections = {}
    for text in texts:
        section = None
        pending = ""
        for raw in text.splitlines():
            line = pending + raw.strip()
            pending = ""
            if line.endswith("\\"):
                pending = line[:-1] + " "
                continue
            if not line or line[0] in "#;":
                continue
            if line.startswith("[") and line.endswith("]"):
                section = sections.setdefault(line[1:-1], {})
                continue
            key, sep, value = line.partition("=")
            if section is None or not sep:
                continue
            values = section.setdefault(key.strip(), [])
            if value.strip():
                values.append(value.strip())
            else:
                values.clear()
    return sections


def parse_environment_assignments(value):
    try:
        words = shlex.split(value)
    except ValueError:
        words = value.split()
    env = {}
    for word in words:
        key, sep, val = word.partition("=")
        if sep and key:
            env[key] = val
    return env


def parse_env_file(text):
    env = {}
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line[0] in "#;":
            continue
        if line.startswith("export "):
            line = line[len("export ") :].strip()
        key, sep, value = line.partition("=")
        if not sep:
            continue
        value = value.strip()
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
            value = value[1:-1]
        env[key.strip()] = value
    return env


def expand_specifiers(value, unit_name, user_home="/root", user="root"):
    stem = unit_name.rsplit(".", 1)[0]
    prefix, _at, instance = stem.partition("@")
    table = {
        "i": instance,
        "I": _unescape_unit(instance),
        "n": unit_name,
        "N": stem,
        "p": prefix,
        "P": _unescape_unit(prefix),
        "h": user_home,
        "u": user,
        "%": "%",
    }
    return re.sub(r"%(.)", lambda m: table.get(m.group(1), m.group(0)), value)


def _unescape_unit(value):
    value = value.replace("-", "/")
    return re.sub(r"\\x([0-9a-fA-F]{2})", lambda m: chr(int(m.group(1), 16)), value)


def exec_argv(value, env):
    """argv of an ExecStart= value: prefixes stripped, $VAR and ${VAR} expanded like systemd does."""
    value = value.lstrip("-:+!")
    at_prefix = value.startswith("@")
    words = shlex.split(value.lstrip("@"))
    if at_prefix and len(words) > 1:
        del words[1]
    argv = []
    # systemd splits an unbraced $VAR into words, but substitutes ${VAR} inside a single word.
    for word in words:
        whole = re.fullmatch(r"\$(\w+)", word)
        if whole:
            argv.extend(env.get(whole.group(1), "").split())
            continue
        argv.append(re.sub(r"\$\{(\w+)\}", lambda m: env.get(m.group(1), ""), word))
    return argv


def runs_cloudflared(argv):
    return bool(argv) and posixpath.basename(argv[0]).startswith("cloudflared")


# --- cloudflared command line -------------------------------------------------------------------------------------


class Invocation:
    """A cloudflared command line split into flags, subcommands and positional arguments."""

    def __init__(self, argv):
        self.flags = {}
        self.unknown = []
        self.commands = []
        self.positional = []
        self._parse(argv[1:])

    def _parse(self, args):
        index = 0
        only_positional = False
        while index < len(args):
            arg = args[index]
            index += 1
            if only_positional or not arg.startswith("-") or arg == "-":
                self._positional(arg)
                continue
            if arg == "--":
                only_positional = True
                continue
            # urfave/cli accepts -flag as well as --flag, and a value either after "=" or as the next word.
            name, sep, value = arg.lstrip("-").partition("=")
            name = FLAG_ALIASES.get(name, name)
            flag = FLAGS.get(name)
            takes_value = flag.kind != "bool" if flag else _looks_like_value(args, index)
            if not sep:
                if takes_value and index < len(args):
                    value = args[index]
                    index += 1
                elif takes_value:
                    value = None
                else:
                    value = "true"
            if flag is None:
                self.unknown.append(name)
            elif flag.kind == "list":
                self.flags.setdefault(name, []).append(value)
            else:
                self.flags[name] = value

    def _positional(self, arg):
        first = not self.commands and arg in ("tunnel", "access", "proxy-dns", "service", "update")
        second = self.commands == ["tunnel"] and arg in ("run", "login", "create", "route")
        if not self.positional and (first or second):
            self.commands.append(arg)
        else:
            self.positional.append(arg)

    @property
    def kind(self):
        """'tunnel' (classic mode), 'run' (named), or 'other' (a cloudflared command that is not a tunnel)."""
        if self.commands[:2] == ["tunnel", "run"]:
            return "run"
        if self.commands in ([], ["tunnel"]):
            return "tunnel"
        return "other"


def _looks_like_value(args, index):
    """Whether the word after an unknown flag is its value (a guess only used to keep parsing the rest)."""
    return index < len(args) and not args[index].startswith("-") and args[index] not in SUBCOMMANDS


# --- settings and translation -------------------------------------------------------------------------------------


class Settings:
    """Effective cloudflared settings with cloudflared's precedence: flag > environment > config file."""

    def __init__(self):
        self.values = {}
        self.origins = {}
        self.problems = []

    def layer(self, values, origin):
        for name, value in values.items():
            self.values[name] = value
            self.origins[name] = origin

    def add_config(self, data, path):
        layer = {}
        for key, value in data.items():
            name = FLAG_ALIASES.get(str(key), str(key))
            if name not in FLAGS:
                self.problems.append(f"unknown key {key!r} in {path}")
                continue
            layer[name] = value
        self.layer(layer, path)

    def add_env(self, env, origin):
        layer = {}
        for var, value in sorted(env.items()):
            name = ENV_FLAGS.get(var)
            if name is None:
                if var.startswith("TUNNEL_"):
                    self.problems.append(f"unknown environment variable {var} ({origin})")
                continue
            layer[name] = value
        self.layer(layer, origin)

    def add_flags(self, invocation):
        self.problems.extend(f"unknown flag --{name}" for name in invocation.unknown)
        self.layer(invocation.flags, "command line")

    def has(self, name):
        value = self.values.get(name)
        if FLAGS[name].kind == "bool":
            return self.get(name) is True
        return value not in (None, "", [])

    def get(self, name):
        """The value converted to the flag's kind; records a problem and returns None when it does not convert."""
        value = self.values.get(name)
        if value is None:
            return None
        flag = FLAGS[name]
        try:
            return _convert(flag.kind, value)
        except ValueError:
            shown = "(secret)" if flag.secret else repr(value)
            self.problems.append(f"{name} {shown} from {self.origins[name]} is not a valid {flag.kind}")
            self.values[name] = None
            return None


def _convert(kind, value):
    if kind == "bool":
        if isinstance(value, bool):
            return value
        text = str(value).strip()
        if text in ("1", "t", "T", "true", "TRUE", "True"):
            return True
        if text in ("0", "f", "F", "false", "FALSE", "False"):
            return False
        raise ValueError(value)
    if kind == "int":
        if isinstance(value, bool):
            raise ValueError(value)
        return int(str(value).strip())
    if kind == "duration":
        if isinstance(value, bool):
            raise ValueError(value)
        return format_duration(parse_duration(value))
    if kind == "list":
        return [str(item) for item in value] if isinstance(value, list) else [str(value)]
    if kind == "str":
        if isinstance(value, (dict, list)):
            raise ValueError(value)
        return str(value)
    return value


def normalise_url(value):
    """Normalise a legacy --url the way cloudflared's ValidateUrl did: scheme://host[:port], path and query dropped."""
    text = str(value).strip()
    if not text:
        raise ValueError("the URL is empty")
    bare = text[1:-1] if text.startswith("[") and text.endswith("]") else text
    if _is_ip(bare):
        return "http://" + _join_host_port(bare, None)

    parsed = urllib.parse.urlsplit(text)
    if parsed.scheme and parsed.netloc:
        scheme = parsed.scheme.lower()
        if scheme not in URL_SCHEMES:
            raise ValueError(f"scheme {scheme!r} is not one of {', '.join(URL_SCHEMES)}")
        host, port = _split_host_port(parsed.netloc.rpartition("@")[2])
        return f"{scheme}://{_join_host_port(host, port)}"

    # Without a scheme cloudflared read "host[:port][/path]" and defaulted to http.
    authority = re.split(r"[/?#]", text, maxsplit=1)[0]
    host, port = _split_host_port(authority)
    if not host:
        raise ValueError(f"no host in {text!r}")
    return "http://" + _join_host_port(host, port)


def _is_ip(text):
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return True


def _split_host_port(authority):
    if authority.startswith("["):
        host, _sep, rest = authority[1:].partition("]")
        port = rest[1:] if rest.startswith(":") else None
    elif authority.count(":") == 1:
        host, _sep, port = authority.partition(":")
    else:
        host, port = authority, None
    if port is not None and not port.isdigit():
        raise ValueError(f"invalid port in {authority!r}")
    return host, port or None


def _join_host_port(host, port):
    shown = f"[{host}]" if ":" in host else host
    return f"{shown}:{port}" if port else shown


def _decode_token(token):
    """Tunnel id and account tag from a tunnel token; the secret inside is never kept."""
    try:
        data = json.loads(base64.b64decode(token.strip() + "=" * (-len(token.strip()) % 4)))
        return {"tunnel_id": data.get("t"), "account_tag": data.get("a")}
    except (ValueError, TypeError, AttributeError):
        return {"tunnel_id": None, "account_tag": None}


class Source:
    """One place a tunnel is defined: a systemd unit, or a config file that no unit uses."""

    def __init__(self, kind, unit=None, unit_file=None, config_file=None, home="/root", enabled=None):
        self.kind = kind
        self.unit = unit
        self.unit_file = unit_file
        self.config_file = config_file
        self.home = home
        self.enabled = enabled
        self.env_files = []
        self.invocation = None
        self.settings = Settings()
        self.notes = []

    @property
    def label(self):
        return self.unit or self.config_file


class Translator:
    """Turns the effective settings of one source into a legacy or a named tunnel entry."""

    def __init__(self, fs, source, cert_dirs):
        self.fs = fs
        self.source = source
        self.settings = source.settings
        self.cert_dirs = cert_dirs

    def is_named(self):
        if self.source.invocation is not None and self.source.invocation.kind == "run":
            return True
        return any(self.settings.has(name) for name in NAMED_MARKERS)

    def is_dns_proxy_only(self):
        # Classic cloudflared with proxy-dns and no hostname ran only the DNS proxy (the Pi-hole setup).
        return self.settings.has("proxy-dns") and not any(self.settings.has(name) for name in LEGACY_MARKERS)

    def is_legacy(self):
        if any(self.settings.has(name) for name in LEGACY_MARKERS):
            return True
        # A unit running bare classic mode is a legacy tunnel even when it lacks a hostname.
        return self.source.invocation is not None and self.source.invocation.kind == "tunnel"

    def named(self):
        settings = self.settings
        entry = {
            "source": self.source.kind,
            "unit": self.source.unit,
            "enabled": self.source.enabled,
            "config_file": self.source.config_file,
            "tunnel": None,
            "tunnel_id": None,
            "tunnel_name": None,
            "credentials_file": _expand_home(settings.get("credentials-file"), self.source.home),
            "token_file": _expand_home(settings.get("token-file"), self.source.home),
            "mode": "credentials",
            "hostnames": _ingress_hostnames(settings.values.get("ingress")),
            "managed_by_role": self._managed_by_role(),
            "instance": _instance(self.source.unit),
        }
        invocation = self.source.invocation
        ref = None
        if invocation is not None and invocation.kind == "run" and invocation.positional:
            ref = invocation.positional[0]
        ref = ref or settings.get("tunnel") or settings.get("name")
        # A token names its tunnel itself and wins over a tunnel named in a config file.
        if settings.has("token"):
            entry["mode"] = "token"
            entry["tunnel_id"] = _decode_token(settings.get("token"))["tunnel_id"]
            ref = entry["tunnel_id"]
        elif settings.has("token-file"):
            entry["mode"] = "token_file"
            entry["tunnel_id"] = self._token_file_tunnel_id(entry["token_file"])
            ref = entry["tunnel_id"]
        elif settings.has("name") and not (settings.has("tunnel") or (invocation and invocation.kind == "run")):
            # "cloudflared tunnel --name N --hostname H" created and routed a named tunnel with a single origin.
            entry["mode"] = "adhoc"
            entry["hostnames"] = [settings.get("hostname")] if settings.has("hostname") else []
        elif entry["credentials_file"]:
            entry["tunnel_id"] = self._credentials_tunnel_id(entry["credentials_file"])
        if ref:
            entry["tunnel"] = str(ref)
            if UUID_RE.match(str(ref)):
                entry["tunnel_id"] = entry["tunnel_id"] or str(ref).lower()
            else:
                entry["tunnel_name"] = str(ref)
        return entry

    def _managed_by_role(self):
        unit = self.source.unit or ""
        match = re.fullmatch(r"cloudflared@(.+)\.service", unit)
        return bool(match) and self.source.config_file == f"/etc/cloudflared/{match.group(1)}.yml"

    def _token_file_tunnel_id(self, path):
        try:
            return _decode_token(self.fs.read(path))["tunnel_id"]
        except OSError:
            self.source.notes.append(f"token file {path} is not readable")
            return None

    def _credentials_tunnel_id(self, path):
        try:
            data = json.loads(self.fs.read(path))
        except (OSError, ValueError):
            self.source.notes.append(f"credentials file {path} is missing or not JSON")
            return None
        lowered = {str(key).lower(): value for key, value in data.items()} if isinstance(data, dict) else {}
        return lowered.get("tunnelid")

    def legacy(self):
        settings = self.settings
        problems = settings.problems
        dropped = []
        options = {}
        origin_request = {}

        for name in sorted(settings.values):
            flag = FLAGS[name]
            if settings.values[name] in (None, "", []):
                continue
            if flag.category == "problem":
                problems.append(f"{name} ({flag.reason}) cannot be migrated")
            elif flag.category == "named":
                problems.append(f"{name} belongs to named tunnels and cannot be combined with a legacy hostname")
            elif flag.category == "drop":
                dropped.append(name)
            elif flag.category == "option":
                value = settings.get(name)
                if value is not None:
                    options[name] = value
            elif flag.category == "origin":
                # A false boolean is cloudflared's default, so it adds nothing to originRequest.
                value = settings.get(name)
                if value is not None and not (flag.kind == "bool" and value is False):
                    origin_request[flag.target] = "socks" if name == "socks5" else value

        if options.get("protocol") == "h2mux":
            options["protocol"] = "http2"
            self.source.notes.append("protocol h2mux is no longer supported; http2 is what cloudflared now uses")

        hostname = settings.get("hostname")
        if not hostname:
            problems.append("no hostname: the legacy tunnel has no public hostname to route")
        elif "/" in hostname or "://" in hostname:
            problems.append(f"hostname {hostname!r} is not a bare DNS name")
        service = self._service()

        ingress = []
        if hostname and service:
            rule = {"hostname": hostname, "service": service}
            if origin_request:
                rule["originRequest"] = dict(origin_request)
            ingress = [rule, dict(CATCH_ALL)]
            # The same renderer the role uses must accept the translation, or the plan is refused here.
            try:
                local_config("00000000-0000-0000-0000-000000000000", "/dev/null", ingress, None, options)
            except IngressError as exc:
                problems.append(f"the translation is not a valid named tunnel configuration: {exc}")

        return {
            "source": self.source.kind,
            "unit": self.source.unit,
            "enabled": self.source.enabled,
            "config_file": self.source.config_file,
            "hostname": hostname,
            "service": service,
            "origin_request": origin_request,
            "lb_pool": settings.get("lb-pool") or None,
            "ingress": ingress,
            "options": options,
            "dropped": sorted(set(dropped)),
            "problems": problems,
            "notes": self.source.notes,
            "translatable": not problems,
            "retire": self._retire(),
        }

    def _service(self):
        settings = self.settings
        # cloudflared picked the single origin in this order; the others were ignored, not combined.
        chosen = None
        for name in ("hello-world", "bastion", "url", "unix-socket"):
            if settings.has(name):
                if chosen is None:
                    chosen = name
                else:
                    self.source.notes.append(f"{name} was ignored by cloudflared because {chosen} is set")
        if chosen == "hello-world":
            return "hello_world"
        if chosen == "bastion":
            return "bastion"
        if chosen == "unix-socket":
            return "unix:" + settings.get("unix-socket")
        if chosen is None:
            if self.source.invocation is not None and self.source.invocation.positional:
                raw = self.source.invocation.positional[0]
            else:
                self.source.notes.append("no origin set: cloudflared's default http://localhost:8080 is used")
                return "http://localhost:8080"
        else:
            raw = settings.get("url")
        try:
            service = normalise_url(raw)
        except ValueError as exc:
            settings.problems.append(f"url cannot be translated: {exc}")
            return None
        if service != str(raw).strip():
            self.source.notes.append(f"url {raw} is translated to {service} as cloudflared normalised it")
        return service

    def _retire(self):
        origincert = _expand_home(self.settings.get("origincert"), self.source.home)
        certs = [origincert] if origincert and self.fs.isfile(origincert) else []
        if origincert and not certs:
            self.source.notes.append(f"origincert {origincert} does not exist")
        if not origincert:
            # Without origincert, cloudflared used the first cert.pem along its search list.
            found = [p for p in (posixpath.join(d, "cert.pem") for d in self.cert_dirs) if self.fs.isfile(p)]
            certs = found[:1]
        update_units = []
        if self.source.unit == "cloudflared.service":
            update_units = [u for u in UPDATE_UNITS if any(self.fs.isfile(posixpath.join(d, u)) for d in UNIT_DIRS)]
        return {
            "unit": self.source.unit,
            "unit_file": self.source.unit_file,
            "init_script": self._init_script(),
            "update_units": update_units,
            "config_files": [self.source.config_file] if self.source.config_file else [],
            "env_files": list(self.source.env_files),
            "cert_pem": certs,
        }

    def _init_script(self):
        """The SysV script that ran a system-wide config file when no systemd unit did (pre-systemd installs)."""
        config = self.source.config_file or ""
        if self.source.unit or posixpath.dirname(config) != "/etc/cloudflared" or not self.fs.isfile(INIT_SCRIPT):
            return None
        self.source.notes.append(f"{INIT_SCRIPT} is assumed to run this config file; it was not inspected")
        return INIT_SCRIPT


def _expand_home(path, home):
    if not path:
        return None
    if path == "~" or path.startswith("~/"):
        return home.rstrip("/") + path[1:]
    return path


def _instance(unit):
    match = re.fullmatch(r"[^@]+@(.+)\.service", unit or "")
    return match.group(1) if match else None


def _ingress_hostnames(rules):
    if not isinstance(rules, list):
        return []
    return [r["hostname"] for r in rules if isinstance(r, dict) and r.get("hostname") not in (None, "", "*")]


# --- discovery ----------------------------------------------------------------------------------------------------


class Discovery:
    """Everything cloudflared-related found under one root, as the module's result."""

    def __init__(self, root="/", config_paths=(), unit_names=None, process_env=None, use_yaml=None):
        self.fs = HostFS(root)
        self.config_paths = list(config_paths or [])
        self.unit_names = [n if "." in n else n + ".service" for n in unit_names] if unit_names else None
        self.process_env = process_env
        self.use_yaml = use_yaml
        self.users = self._users()
        self.problems = []
        self.notes = []
        self.used_configs = set()

    def _users(self):
        users = {}
        try:
            text = self.fs.read("/etc/passwd")
        except OSError:
            text = ""
        for line in text.splitlines():
            fields = line.split(":")
            if len(fields) >= 7 and fields[5].startswith("/"):
                users.setdefault(fields[0], fields[5])
        users.setdefault("root", "/root")
        return users

    def home_dirs(self, home):
        return [posixpath.join(home, d) for d in HOME_CONFIG_DIRS]

    def default_dirs(self, home):
        """cloudflared's search list for config.yml and cert.pem, for a process whose home is `home`."""
        return self.home_dirs(home) + list(SYSTEM_CONFIG_DIRS)

    def run(self):
        sources = [s for s in (self._unit_source(name) for name in self._unit_candidates()) if s is not None]
        sources.extend(self._config_sources())
        legacy, named = [], []
        for source in sources:
            translator = Translator(self.fs, source, self.default_dirs(source.home))
            if translator.is_named():
                named.append(translator.named())
            elif translator.is_dns_proxy_only():
                self.notes.append(f"{source.label} runs only the DNS over HTTPS proxy, not a tunnel")
            elif translator.is_legacy():
                legacy.append(translator.legacy())
            elif source.settings.problems:
                self.problems.extend(f"{source.label}: {p}" for p in source.settings.problems)
            else:
                self.notes.append(f"{source.label} holds neither a legacy hostname nor a named tunnel")
        for tunnel in legacy:
            self.problems.extend(f"{tunnel['unit'] or tunnel['config_file']}: {p}" for p in tunnel["problems"])
        status = {(True, True): "mixed", (True, False): "legacy", (False, True): "named"}.get(
            (bool(legacy), bool(named)), "none"
        )
        return {
            "status": status,
            "legacy": legacy,
            "named": named,
            "cert_pem": self._cert_pems(legacy),
            "plan_ok": not self.problems,
            "problems": self.problems,
            "notes": self.notes,
            "yaml_parser": "pyyaml" if (self.use_yaml if self.use_yaml is not None else HAS_YAML) else "builtin",
        }

    # units

    def _unit_candidates(self):
        if self.unit_names is not None:
            return self.unit_names
        names = set()
        # A template runs only through its instances, which systemd records as links in .wants directories.
        for directory in UNIT_DIRS:
            for entry in self.fs.listdir(directory):
                path = posixpath.join(directory, entry)
                if entry.endswith(".service") and not entry.endswith("@.service") and self.fs.isfile(path):
                    names.add(entry)
                elif entry.endswith((".wants", ".requires")) and self.fs.isdir(path):
                    names.update(n for n in self.fs.listdir(path) if n.endswith(".service") and "@" in n)
        return sorted(names)

    def _unit_files(self, name):
        """The unit file and its drop-ins; a template instance falls back to the template."""
        stem, _sep, _suffix = name.rpartition(".")
        template = re.sub(r"@.*$", "@", stem) + ".service" if "@" in stem else None
        main = None
        for candidate in (name, template):
            if candidate is None or main:
                continue
            for directory in UNIT_DIRS:
                path = posixpath.join(directory, candidate)
                if self.fs.isfile(path) or self.fs.link_target(path) == "/dev/null":
                    main = path
                    break
        dropins = []
        for candidate in (template, name):
            for directory in UNIT_DIRS:
                if candidate is None:
                    continue
                folder = posixpath.join(directory, candidate + ".d")
                dropins.extend(posixpath.join(folder, f) for f in self.fs.listdir(folder) if f.endswith(".conf"))
        return main, dropins

    def _enabled(self, name):
        for directory in UNIT_DIRS[:3]:
            for entry in self.fs.listdir(directory):
                if entry.endswith(".wants") and name in self.fs.listdir(posixpath.join(directory, entry)):
                    return True
        return False

    def _unit_source(self, name):
        main, dropins = self._unit_files(name)
        if main is None:
            if self.unit_names is not None:
                self.notes.append(f"unit {name} not found")
            return None
        if self.fs.link_target(main) == "/dev/null":
            self.notes.append(f"unit {name} is masked")
            return None
        try:
            unit = parse_unit([self.fs.read(path) for path in [main, *dropins]])
        except OSError as exc:
            self.problems.append(f"{name}: cannot read unit: {exc.strerror}")
            return None
        service = unit.get("Service", {})
        user = (service.get("User") or ["root"])[-1]
        home = self.users.get(user, "/root")

        env = {}
        for value in service.get("Environment", []):
            env.update(parse_environment_assignments(expand_specifiers(value, name, home, user)))
        source = Source("unit", unit=name, unit_file=main, home=home)
        env_origins = {var: f"Environment= of {name}" for var in env}
        # EnvironmentFile= wins over Environment= whatever their order in the unit.
        for value in service.get("EnvironmentFile", []):
            value = expand_specifiers(value, name, home, user)
            optional = value.startswith("-")
            path = value.lstrip("-")
            try:
                file_env = parse_env_file(self.fs.read(path))
            except OSError:
                if not optional:
                    self.problems.append(f"{name}: EnvironmentFile {path} is missing")
                continue
            source.env_files.append(path)
            env.update(file_env)
            env_origins.update({var: path for var in file_env})

        argv = None
        for value in service.get("ExecStart", []):
            try:
                candidate = exec_argv(expand_specifiers(value, name, home, user), env)
            except ValueError:
                self.problems.append(f"{name}: ExecStart cannot be split into words")
                return None
            if runs_cloudflared(candidate):
                argv = candidate
                break
        if argv is None:
            if self.unit_names is not None:
                self.notes.append(f"unit {name} does not run cloudflared")
            return None
        source.invocation = Invocation(argv)
        if source.invocation.kind == "other":
            self.notes.append(f"{name} runs cloudflared {' '.join(source.invocation.commands)}, not a tunnel")
            return None
        source.enabled = self._enabled(name)

        config_path = _expand_home(source.invocation.flags.get("config"), home) or self._default_config(home)
        # Layers go from weakest to strongest: config file, then environment, then the command line.
        self._apply_config(source, config_path)
        by_origin = {}
        for var, value in env.items():
            by_origin.setdefault(env_origins[var], {})[var] = value
        for origin, values in by_origin.items():
            source.settings.add_env(values, origin)
        source.settings.add_flags(source.invocation)
        return source

    def _default_config(self, home):
        for directory in self.default_dirs(home):
            for config_name in CONFIG_NAMES:
                path = posixpath.join(directory, config_name)
                if self.fs.isfile(path):
                    return path
        return None

    def _apply_config(self, source, path):
        if not path:
            return
        source.config_file = path
        self.used_configs.add(path)
        try:
            data = load_config(self.fs.read(path), self.use_yaml)
        except OSError:
            source.settings.problems.append(f"config file {path} is missing")
            return
        except ConfigParseError as exc:
            source.settings.problems.append(f"cannot be parsed as YAML: {exc}")
            return
        source.settings.add_config(data, path)

    # config files that no unit uses

    def _config_sources(self):
        candidates = []
        for home in sorted(set(self.users.values())):
            candidates.extend((home, posixpath.join(d, n)) for d in self.home_dirs(home) for n in CONFIG_NAMES)
        root_home = self.users["root"]
        candidates.extend((root_home, posixpath.join(d, n)) for d in SYSTEM_CONFIG_DIRS for n in CONFIG_NAMES)
        candidates.extend((root_home, path) for path in self.config_paths)
        sources = []
        seen = set()
        for home, path in candidates:
            if path in seen or path in self.used_configs or not self.fs.isfile(path):
                continue
            seen.add(path)
            source = Source("config", home=home)
            self._apply_config(source, path)
            if self.process_env:
                source.settings.add_env(self.process_env, "the module's environment")
            sources.append(source)
        return sources

    def _cert_pems(self, legacy):
        paths = []
        dirs = [d for home in sorted(set(self.users.values())) for d in self.home_dirs(home)] + list(SYSTEM_CONFIG_DIRS)
        candidates = [posixpath.join(d, "cert.pem") for d in dirs]
        candidates.extend(p for tunnel in legacy for p in tunnel["retire"]["cert_pem"])
        for path in candidates:
            if path not in paths and self.fs.isfile(path):
                paths.append(path)
        return paths


def discover(root="/", config_paths=(), unit_names=None, process_env=None, use_yaml=None):
    return Discovery(root, config_paths, unit_names, process_env, use_yaml).run()
