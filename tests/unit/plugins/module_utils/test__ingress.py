# Copyright (c) 2026, tunnelops maintainers
# SPDX-License-Identifier: GPL-3.0-or-later
"""Specification of the ingress model: cloudflared's validation rules, durations and the two config renderings."""

from __future__ import annotations

import re

import pytest
from ansible_collections.tunnelops.cloudflare.plugins.module_utils._ingress import (
    IngressError,
    format_duration,
    global_options,
    hostnames,
    local_config,
    match_rule,
    normalise_remote_config,
    normalise_service,
    origin_request_to_api,
    origin_request_to_yaml,
    parse_duration,
    remote_config,
    validate_hostname,
    validate_ingress,
)

CATCH_ALL = {"service": "http_status:404"}


def rules_with(*rules):
    return [*rules, CATCH_ALL]


VALID = {
    "catch-all only": [CATCH_ALL],
    "catch-all with star hostname": [{"hostname": "*", "service": "http_status:404"}],
    "http origin": rules_with({"hostname": "app.example.com", "service": "http://127.0.0.1:8080"}),
    "https origin with query": rules_with({"hostname": "app.example.com", "service": "https://localhost:8443?x=1"}),
    "ipv6 origin": rules_with({"hostname": "app.example.com", "service": "http://[::1]:8080"}),
    "wildcard hostname": rules_with({"hostname": "*.example.com", "service": "http://127.0.0.1:80"}),
    "path only rule": rules_with({"path": "^/api/", "service": "http://127.0.0.1:80"}),
    "star hostname with path": rules_with({"hostname": "*", "path": "^/x$", "service": "http://127.0.0.1:80"}),
    "unix socket": rules_with({"hostname": "a.example.com", "service": "unix:/run/app.sock"}),
    "unix tls socket": rules_with({"hostname": "a.example.com", "service": "unix+tls:/run/app.sock"}),
    "ssh origin": rules_with({"hostname": "ssh.example.com", "service": "ssh://localhost:22"}),
    "tcp origin without port": rules_with({"hostname": "db.example.com", "service": "tcp://localhost"}),
    "hello world": rules_with({"hostname": "a.example.com", "service": "hello_world"}),
    "hello-world spelling": rules_with({"hostname": "a.example.com", "service": "hello-world"}),
    "socks proxy with ip rules": rules_with(
        {
            "hostname": "socks.example.com",
            "service": "socks-proxy",
            "originRequest": {"ipRules": [{"prefix": "10.0.0.0/8", "ports": [80, 443], "allow": True}]},
        }
    ),
    "bastion": rules_with({"hostname": "jump.example.com", "service": "bastion"}),
    "bastionMode skips url checks": rules_with(
        {"hostname": "jump.example.com", "service": "anything", "originRequest": {"bastionMode": True}}
    ),
    "status codes at both ends": rules_with(
        {"hostname": "a.example.com", "service": "http_status:100"},
        {"hostname": "b.example.com", "service": "http_status:999"},
    ),
    "access complete": rules_with(
        {
            "hostname": "a.example.com",
            "service": "http://127.0.0.1:80",
            "originRequest": {"access": {"required": True, "teamName": "ops", "audTag": ["aud1"]}},
        }
    ),
    "access required without tags": rules_with(
        {"hostname": "a.example.com", "service": "http://127.0.0.1:80", "originRequest": {"access": {"required": True}}}
    ),
    "internationalised hostname": rules_with({"hostname": "bücher.example.com", "service": "http://127.0.0.1:80"}),
    "escaped plus repeated": rules_with({"hostname": "a.example.com", "path": r"^/c\++$", "service": "http://x"}),
    "same hostname twice": rules_with(
        {"hostname": "a.example.com", "path": "^/api", "service": "http://127.0.0.1:81"},
        {"hostname": "a.example.com", "service": "http://127.0.0.1:80"},
    ),
}

INVALID = {
    "no rules": ([], "The config file doesn't contain any ingress rules"),
    "last rule not catch-all": (
        [{"hostname": "a.example.com", "service": "http://127.0.0.1:80"}],
        "Rule #1: The last ingress rule must match all URLs (i.e. it should not have a hostname or path filter)",
    ),
    "last rule has only a path": (
        [{"hostname": "a.example.com", "service": "http://x"}, {"path": "/", "service": "http://x"}],
        "Rule #2: The last ingress rule must match all URLs (i.e. it should not have a hostname or path filter)",
    ),
    "catch-all before the end": (
        [{"service": "http://127.0.0.1:80"}, CATCH_ALL],
        "Rule #1 is matching the hostname '', but this will match every hostname, meaning the rules which follow "
        "it will never be triggered.",
    ),
    "star before the end": (
        [{"hostname": "a.example.com", "service": "http://x"}, {"hostname": "*", "service": "http://x"}, CATCH_ALL],
        "Rule #2 is matching the hostname '*', but this will match every hostname, meaning the rules which follow "
        "it will never be triggered.",
    ),
    "port in hostname": (
        rules_with({"hostname": "a.example.com:8080", "service": "http://x"}),
        "Rule #1: Hostname cannot contain a port",
    ),
    "wildcard in the middle": (
        rules_with({"hostname": "a.*.example.com", "service": "http://x"}),
        'Rule #1: Hostname patterns can have at most one wildcard character ("*") and it can only be used for '
        'subdomains, e.g. "*.example.com"',
    ),
    "two wildcards": (
        rules_with({"hostname": "*.*.example.com", "service": "http://x"}),
        'Rule #1: Hostname patterns can have at most one wildcard character ("*")',
    ),
    "wildcard without dot": (
        rules_with({"hostname": "*example.com", "service": "http://x"}),
        "Rule #1: Hostname patterns can have at most one wildcard",
    ),
    "service without scheme": (
        rules_with({"hostname": "a.example.com", "service": "localhost:8000"}),
        "Rule #1: localhost:8000 is an invalid address, please make sure it has a scheme and a hostname",
    ),
    "service with trailing slash": (
        rules_with({"hostname": "a.example.com", "service": "http://localhost:8000/"}),
        "Rule #1: http://localhost:8000/ is an invalid address, ingress rules don't support proxying to a different "
        "path on the origin service. The path will be the same as the eyeball request's path",
    ),
    "service with bad port": (
        rules_with({"hostname": "a.example.com", "service": "http://localhost:http"}),
        'Rule #1: parse "http://localhost:http"',
    ),
    "missing service": (rules_with({"hostname": "a.example.com"}), "Rule #1: The rule has no service"),
    "status below range": ([{"service": "http_status:99"}], "Rule #1: invalid HTTP status code: 99"),
    "status above range": ([{"service": "http_status:1000"}], "Rule #1: invalid HTTP status code: 1000"),
    "status not a number": (
        [{"service": "http_status:abc"}],
        'Rule #1: invalid HTTP status code: strconv.Atoi: parsing "abc": invalid syntax',
    ),
    "invalid path regex": (
        rules_with({"hostname": "a.example.com", "path": "*", "service": "http://x"}),
        "Rule #1 has an invalid regex: ",
    ),
    "lookahead is not RE2": (
        rules_with({"hostname": "a.example.com", "path": "^/(?!admin)", "service": "http://x"}),
        "Rule #1 has an invalid regex: ",
    ),
    "possessive repetition is not RE2": (
        rules_with({"hostname": "a.example.com", "path": "^/a++", "service": "http://x"}),
        "Rule #1 has an invalid regex: ",
    ),
    "access without team name": (
        rules_with(
            {
                "hostname": "a.example.com",
                "service": "http://x",
                "originRequest": {"access": {"required": True, "audTag": ["aud1"]}},
            }
        ),
        "Rule #1: access.TeamName cannot be blank when access.audTags are present",
    ),
    "unknown rule key": (
        rules_with({"hostname": "a.example.com", "service": "http://x", "url": "http://y"}),
        "Rule #1: unknown key 'url'",
    ),
    "unknown originRequest key": (
        rules_with({"hostname": "a.example.com", "service": "http://x", "originRequest": {"connectTimeOut": "5s"}}),
        "Rule #1: originRequest has an unknown key 'connectTimeOut'",
    ),
    "bad duration": (
        rules_with({"hostname": "a.example.com", "service": "http://x", "originRequest": {"tlsTimeout": "ten"}}),
        "Rule #1: originRequest.tlsTimeout 'ten' is not a valid duration",
    ),
    "bool of wrong type": (
        rules_with({"hostname": "a.example.com", "service": "http://x", "originRequest": {"noTLSVerify": "maybe"}}),
        "Rule #1: originRequest.noTLSVerify must be a boolean",
    ),
    "bad proxy type": (
        rules_with({"hostname": "a.example.com", "service": "http://x", "originRequest": {"proxyType": "http"}}),
        'Rule #1: originRequest.proxyType must be "" or "socks"',
    ),
    "bad ip rule prefix": (
        rules_with(
            {"hostname": "s.example.com", "service": "socks-proxy", "originRequest": {"ipRules": [{"prefix": "x"}]}}
        ),
        "Rule #1: originRequest.ipRules[1].prefix is not a valid CIDR prefix",
    ),
    "hostname not a dns name": (
        rules_with({"hostname": "app_1.example.com", "service": "http://x"}),
        "Rule #1: Hostname 'app_1.example.com' is not a valid DNS name",
    ),
    "hostname label too long": (
        rules_with({"hostname": "a" * 64 + ".example.com", "service": "http://x"}),
        f"Rule #1: Hostname '{'a' * 64}.example.com' is not a valid DNS name",
    ),
    "hostname not qualified": (
        rules_with({"hostname": "localhost", "service": "http://x"}),
        "Rule #1: Hostname 'localhost' is not a fully qualified domain name",
    ),
    "second rule is named": (
        rules_with(
            {"hostname": "a.example.com", "service": "http://x"}, {"hostname": "b.example.com", "service": "ftp"}
        ),
        "Rule #2: ftp is an invalid address",
    ),
    "rule not a mapping": (["http://x", CATCH_ALL], "Rule #1: an ingress rule must be a mapping"),
    "rules not a list": ({"service": "http://x"}, "ingress must be a list of rules"),
}


@pytest.mark.parametrize("rules", VALID.values(), ids=VALID.keys())
def test_valid_ingress_is_accepted_and_keeps_the_users_values(rules):
    normalised = validate_ingress(rules)

    assert [rule.get("hostname") for rule in normalised] == [rule.get("hostname") for rule in rules]
    assert [rule["service"] for rule in normalised] == [rule["service"] for rule in rules]


@pytest.mark.parametrize(("rules", "message"), INVALID.values(), ids=INVALID.keys())
def test_invalid_ingress_is_refused_with_cloudflareds_message(rules, message):
    with pytest.raises(IngressError) as caught:
        validate_ingress(rules)

    assert str(caught.value).startswith(message)


def test_error_carries_rule_number_and_bare_reason():
    with pytest.raises(IngressError) as caught:
        validate_ingress(
            rules_with(CATCH_ALL | {"hostname": "ok.example.com"}, {"hostname": "a:1", "service": "http://x"})
        )

    assert (caught.value.rule, caught.value.reason) == (2, "Hostname cannot contain a port")


def test_top_level_origin_request_is_validated():
    with pytest.raises(IngressError, match=r"^originRequest has an unknown key 'foo'"):
        validate_ingress([CATCH_ALL], {"foo": 1})


def test_top_level_bastion_mode_applies_to_every_rule():
    rules = rules_with({"hostname": "jump.example.com", "service": "not-a-url"})

    assert validate_ingress(rules, {"bastionMode": True})[0]["service"] == "not-a-url"


def test_normalised_rules_drop_unset_keys_and_hold_durations_in_seconds():
    rules = [
        {"hostname": "a.example.com", "path": None, "service": "http://x", "originRequest": {"connectTimeout": "1m"}},
        {"hostname": "", "path": "", "service": "http_status:0404", "originRequest": {"tlsTimeout": None}},
    ]

    assert validate_ingress(rules) == [
        {"hostname": "a.example.com", "service": "http://x", "originRequest": {"connectTimeout": 60}},
        {"service": "http_status:404"},
    ]


@pytest.mark.parametrize(
    ("value", "seconds"),
    [(0, 0), (30, 30), ("30", 30), ("30s", 30), ("1m30s", 90), ("1h", 3600), ("1.5m", 90), ("1500ms", None),
     ("2h45m", 9900), ("1h0m0s", 3600), ("0s", 0), ("-5s", None), (-1, None), ("ten", None), ("", None),
     (True, None), ("30 s", None), ("3d", None)],
)  # fmt: skip
def test_parse_duration_reads_seconds_and_go_durations(value, seconds):
    if seconds is None:
        with pytest.raises(IngressError):
            parse_duration(value)
    else:
        assert parse_duration(value) == seconds


@pytest.mark.parametrize(
    ("seconds", "text"), [(0, "0s"), (30, "30s"), (60, "1m0s"), (90, "1m30s"), (3600, "1h0m0s"), (3661, "1h1m1s")]
)
def test_format_duration_writes_what_go_prints(seconds, text):
    assert format_duration(seconds) == text
    assert parse_duration(text) == seconds


@pytest.mark.parametrize(
    ("hostname", "punycode"),
    [
        ("app.example.com", "app.example.com"),
        ("App.Example.COM", "app.example.com"),
        ("*.example.com", "*.example.com"),
        ("bücher.example.com", "xn--bcher-kva.example.com"),
        ("*.bücher.example", "*.xn--bcher-kva.example"),
        ("", ""),
        ("*", "*"),
    ],
)
def test_validate_hostname_returns_the_punycode_form(hostname, punycode):
    assert validate_hostname(hostname) == punycode


@pytest.mark.parametrize(
    ("service", "legacy", "expected"),
    [
        ("http://127.0.0.1:8080", False, "http://127.0.0.1:8080"),
        (" hello_world ", False, "hello_world"),
        ("http_status:0404", False, "http_status:404"),
        ("localhost:8000", True, "http://localhost:8000"),
        ("https://localhost:8443/app/", True, "https://localhost:8443"),
        ("HTTP://[::1]:80/x", True, "http://[::1]:80"),
    ],
)
def test_normalise_service_gives_the_canonical_form(service, legacy, expected):
    assert normalise_service(service, legacy=legacy) == expected


ORIGIN = {"connectTimeout": "1m30s", "keepAliveTimeout": 90, "noTLSVerify": True, "httpHostHeader": "h"}


def test_origin_request_for_the_api_uses_integer_seconds():
    assert origin_request_to_api(ORIGIN) == {
        "connectTimeout": 90,
        "keepAliveTimeout": 90,
        "noTLSVerify": True,
        "httpHostHeader": "h",
    }


def test_origin_request_for_yaml_uses_go_durations():
    assert origin_request_to_yaml(ORIGIN) == {
        "connectTimeout": "1m30s",
        "keepAliveTimeout": "1m30s",
        "noTLSVerify": True,
        "httpHostHeader": "h",
    }


RULES = [
    {"hostname": "bücher.example.com", "service": "http://127.0.0.1:8080", "originRequest": {"tlsTimeout": "10s"}},
    {"hostname": "*.example.com", "path": "^/api/", "service": "https://127.0.0.1:8443"},
    {"hostname": "plain.example.com", "service": "http://127.0.0.1:8081"},
    {"hostname": "BÜCHER.example.com", "service": "http://127.0.0.1:8082"},
    {"service": "http_status:404"},
]


def test_remote_config_is_the_put_body_config():
    assert remote_config(RULES, {"connectTimeout": "30s"}, warp_routing=False) == {
        "ingress": [
            {"hostname": "bücher.example.com", "service": "http://127.0.0.1:8080", "originRequest": {"tlsTimeout": 10}},
            {"hostname": "*.example.com", "path": "^/api/", "service": "https://127.0.0.1:8443"},
            {"hostname": "plain.example.com", "service": "http://127.0.0.1:8081"},
            {"hostname": "BÜCHER.example.com", "service": "http://127.0.0.1:8082"},
            {"service": "http_status:404"},
        ],
        "originRequest": {"connectTimeout": 30},
        "warp-routing": {"enabled": False},
    }


def test_remote_config_refuses_invalid_rules():
    with pytest.raises(IngressError, match="The last ingress rule must match all URLs"):
        remote_config(RULES[:1])


def test_normalised_remote_config_equals_what_the_api_echoes_back():
    desired = remote_config(RULES, {"connectTimeout": "30s"})
    returned = {
        "ingress": [
            {"hostname": "xn--bcher-kva.example.com", "service": "http://127.0.0.1:8080",
             "originRequest": {"tlsTimeout": 10}},
            {"hostname": "*.example.com", "path": "^/api/", "service": "https://127.0.0.1:8443", "originRequest": {}},
            {"hostname": "plain.example.com", "path": "", "service": "http://127.0.0.1:8081"},
            {"hostname": "xn--bcher-kva.example.com", "service": "http://127.0.0.1:8082"},
            {"hostname": "", "service": "http_status:404"},
        ],
        "originRequest": {"connectTimeout": 30},
        "warp-routing": {"enabled": False},
    }  # fmt: skip

    assert normalise_remote_config(returned) == normalise_remote_config(desired)


@pytest.mark.parametrize(
    "change",
    [
        lambda c: c["ingress"][0].update(service="http://127.0.0.1:9999"),
        lambda c: c["ingress"][1].update(path="^/v2/"),
        lambda c: c["ingress"].pop(2),
        lambda c: c["originRequest"].update(connectTimeout=31),
        lambda c: c.update({"warp-routing": {"enabled": True}}),
    ],
    ids=["service", "path", "rule removed", "duration", "warp routing"],
)
def test_normalised_remote_config_sees_each_difference(change):
    desired = remote_config(RULES, {"connectTimeout": "30s"})
    returned = remote_config(RULES, {"connectTimeout": "30s"})
    change(returned)

    assert normalise_remote_config(returned) != normalise_remote_config(desired)


def test_normalise_remote_config_keeps_keys_it_does_not_know():
    config = {"ingress": [{"service": "http_status:404", "originRequest": {"newKey": 1}}]}

    assert normalise_remote_config(config)["ingress"][0]["originRequest"] == {"newKey": 1}


def test_normalise_remote_config_of_nothing_is_empty():
    assert normalise_remote_config(None) == {"ingress": []}


def test_local_config_is_the_config_yml_content():
    config = local_config(
        "6ff42ae2-765d-4adf-8112-31c55c1551ef",
        "/etc/cloudflared/6ff42ae2-765d-4adf-8112-31c55c1551ef.json",
        RULES[1:],
        {"keepAliveTimeout": 3600},
        {"loglevel": "info", "no_autoupdate": True, "metrics": "127.0.0.1:20241", "grace-period": 30, "protocol": None},
    )

    assert list(config) == [
        "tunnel", "credentials-file", "loglevel", "no-autoupdate", "metrics", "grace-period",
        "originRequest", "ingress",
    ]  # fmt: skip
    assert config["grace-period"] == "30s"
    assert config["originRequest"] == {"keepAliveTimeout": "1h0m0s"}
    assert config["ingress"][-1] == {"service": "http_status:404"}


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"hostname": "a.example.com"}, "option hostname belongs to legacy (classic) tunnels"),
        ({"url": "http://x"}, "option url belongs to legacy (classic) tunnels"),
        ({"tunnel": "x"}, "option tunnel is set by the collection itself"),
        ({"loglevel": "loud"}, "option loglevel must be one of debug, info, warn, error, fatal"),
        ({"protocol": "h2mux"}, "option protocol must be one of auto, quic, http2"),
        ({"metrics": "localhost"}, "option metrics must be an address"),
        ({"grace_period": "soon"}, "grace-period 'soon' is not a valid duration"),
        ({"colour": "blue"}, "unknown global option 'colour'"),
    ],
)
def test_local_config_refuses_bad_global_options(options, message):
    with pytest.raises(IngressError, match=re.escape(message)):
        local_config("id", "/etc/cloudflared/id.json", [CATCH_ALL], options=options)


def test_hostnames_lists_routable_names_once_in_order():
    assert hostnames(RULES) == ["bücher.example.com", "plain.example.com"]


def test_hostnames_can_include_wildcards():
    assert hostnames(RULES, include_wildcards=True) == ["bücher.example.com", "*.example.com", "plain.example.com"]


@pytest.mark.parametrize(
    ("url", "index"),
    [
        ("https://bücher.example.com/", 0),
        ("https://xn--bcher-kva.example.com:8443/x", 0),
        ("https://deep.sub.example.com/api/v1", 1),
        ("https://sub.example.com/web", 4),
        ("https://example.com/api/", 4),
        ("plain.example.com", 2),
        ("https://other.example.net/", 4),
    ],
)
def test_match_rule_finds_the_first_matching_rule(url, index):
    rules = validate_ingress(RULES)

    assert match_rule(rules, url) == (index, rules[index])


def test_global_options_are_the_config_keys_without_ingress():
    assert global_options({"no_autoupdate": True, "protocol": "quic", "tag": "env=prod"}) == {
        "no-autoupdate": True,
        "protocol": "quic",
        "tag": ["env=prod"],
    }


def test_global_options_of_nothing_are_empty():
    assert global_options(None) == {}
