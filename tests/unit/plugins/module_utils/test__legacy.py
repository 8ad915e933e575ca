"""Specification of legacy discovery: real-world legacy layouts as fixture trees, and the parsers underneath."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
import yaml
from ansible_collections.tunnelops.cloudflare.plugins.module_utils import _legacy
from ansible_collections.tunnelops.cloudflare.plugins.module_utils._legacy import (
    ConfigParseError,
    HostFS,
    Invocation,
    MiniYAML,
    discover,
    exec_argv,
    expand_specifiers,
    load_config,
    normalise_url,
    parse_env_file,
    parse_unit,
)

FIXTURES = Path(__file__).resolve().parents[3] / "unit" / "fixtures" / "legacy"
PARSERS = pytest.mark.parametrize("use_yaml", [True, False], ids=["pyyaml", "builtin"])

# Secrets planted in the fixture trees; none of them may appear in any result.
SECRETS = (
    "cfsecret-apikey-5d1e77",
    "c2VjcmV0LWZyb20tdG9rZW4tZmlsZS1ub3QtcmVhbC0wMTIzNDU2Nzg5",
    "c2VjcmV0LWluLWNyZWRlbnRpYWxzLWZpbGUtbm90LXJlYWw=",
    "c2VjcmV0LWluLXRlbXBsYXRlLWZpeHR1cmUtbm90LXJlYWw=",
    "c2VjcmV0LWluLXJvbGUtdG9rZW4tZmlsZS1ub3QtcmVhbA==",
    "legacy-fixture-not-a-token",
)


def run(case, use_yaml=True, **kwargs):
    return discover(str(FIXTURES / case), use_yaml=use_yaml, **kwargs)


def only_legacy(result):
    assert len(result["legacy"]) == 1, result
    return result["legacy"][0]


# case, expected fields of the single legacy tunnel
LAYOUTS = {
    "config_only": {
        "source": "config",
        "unit": None,
        "config_file": "/etc/cloudflared/config.yml",
        "hostname": "app.example.com",
        "service": "http://localhost:8000",
        "options": {"loglevel": "info"},
        "dropped": ["logfile", "no-autoupdate", "origincert"],
    },
    "flags_only": {
        "source": "unit",
        "unit": "cloudflared.service",
        "enabled": True,
        "config_file": None,
        "hostname": "app.example.com",
        "service": "http://127.0.0.1:8000",
        "dropped": ["no-autoupdate", "origincert", "retries"],
    },
    "env_only": {
        "unit": "cloudflared.service",
        "hostname": "env.example.com",
        "service": "http://localhost:3000",
        "dropped": ["no-autoupdate"],
    },
    "mixed": {
        "unit": "cloudflared.service",
        "config_file": "/etc/cloudflared/config.yml",
        "hostname": "env.example.com",
        "service": "http://localhost:9000",
        "options": {"loglevel": "warn", "metrics": "localhost:2000"},
    },
    "origin_options": {
        "hostname": "secure.example.com",
        "service": "https://localhost:8443",
        "origin_request": {
            "noTLSVerify": True,
            "originServerName": "origin.internal",
            "httpHostHeader": "secure.internal",
            "caPool": "/etc/ssl/origin-ca.pem",
            "disableChunkedEncoding": True,
            "http2Origin": True,
            "connectTimeout": "1m30s",
            "tlsTimeout": "10s",
            "tcpKeepAlive": "30s",
            "noHappyEyeballs": True,
            "keepAliveConnections": 50,
            "keepAliveTimeout": "2m0s",
        },
        "options": {"protocol": "http2"},
    },
    "lb_pool": {"hostname": "lb.example.com", "service": "http://localhost:8080", "lb_pool": "web-pool"},
    "unix_socket": {"hostname": "sock.example.com", "service": "unix:/run/app/app.sock"},
    "hello_world": {"hostname": "hello.example.com", "service": "hello_world"},
    "bastion_socks": {
        "hostname": "jump.example.com",
        "service": "bastion",
        "origin_request": {"proxyType": "socks", "proxyAddress": "127.0.0.1", "proxyPort": 1080},
        "dropped": ["origincert"],
    },
    "url_path_no_scheme": {"hostname": "path.example.com", "service": "http://localhost:8000"},
    "ipv6": {"hostname": "v6.example.com", "service": "http://[::1]"},
    "user_home": {"config_file": "/home/alice/.cloudflared/config.yaml", "hostname": "alice.example.com"},
}


@PARSERS
@pytest.mark.parametrize("case", sorted(LAYOUTS))
def test_legacy_layout_is_translated(case, use_yaml):
    tunnel = only_legacy(run(case, use_yaml))

    assert {key: tunnel[key] for key in LAYOUTS[case]} == LAYOUTS[case]


@PARSERS
@pytest.mark.parametrize("case", sorted(set(LAYOUTS) - {"user_home"}))
def test_translatable_layout_gives_ingress_with_catch_all(case, use_yaml):
    result = run(case, use_yaml)
    tunnel = only_legacy(result)

    rule = {"hostname": tunnel["hostname"], "service": tunnel["service"]}
    if tunnel["origin_request"]:
        rule["originRequest"] = tunnel["origin_request"]
    assert tunnel["ingress"] == [rule, {"service": "http_status:404"}]
    assert (tunnel["translatable"], result["plan_ok"], result["problems"]) == (True, True, [])


@pytest.mark.parametrize(
    ("case", "status"),
    [("config_only", "legacy"), ("no_legacy", "none"), ("already_named", "named"), ("template_instances", "mixed")],
)
def test_status_tells_legacy_named_mixed_and_none_apart(case, status):
    assert run(case)["status"] == status


def test_flag_beats_environment_beats_config_file():
    tunnel = only_legacy(run("mixed"))

    # hostname: config file says file.example.com, Environment= says env.example.com
    # url: config file says :8000, the command line says :9000; loglevel: config debug, environment warn
    assert (tunnel["hostname"], tunnel["service"], tunnel["options"]["loglevel"]) == (
        "env.example.com",
        "http://localhost:9000",
        "warn",
    )


@pytest.mark.parametrize(
    ("case", "problems"),
    [
        (
            "unknown_flags",
            [
                "cloudflared.service: unknown flag --frobnicate",
                "cloudflared.service: api-email (the pre-2018 API key login) cannot be migrated",
                "cloudflared.service: api-key (the pre-2018 API key login) cannot be migrated",
                "cloudflared.service: ssh-server (the built-in SSH server has no equivalent for named tunnels) "
                "cannot be migrated",
                "cloudflared.service: tag (connector tags has no equivalent for named tunnels) cannot be migrated",
            ],
        ),
        (
            "user_home",
            [
                "/home/alice/.cloudflared/config.yaml: tag (connector tags has no equivalent for named tunnels) "
                "cannot be migrated"
            ],
        ),
    ],
)
def test_untranslatable_settings_refuse_the_plan(case, problems):
    result = run(case)

    assert result["problems"] == problems
    assert (result["plan_ok"], only_legacy(result)["translatable"]) == (False, False)


@PARSERS
def test_unparseable_config_file_refuses_the_plan(tmp_path, use_yaml):
    # Built here rather than kept as a fixture: the repository's YAML linting would refuse the broken file.
    write_tree(tmp_path, {"etc/cloudflared/config.yml": "hostname: broken.example.com\nurl: [http://localhost:8000\n"})

    result = discover(str(tmp_path), use_yaml=use_yaml)

    assert result["plan_ok"] is False
    assert len(result["problems"]) == 1
    assert result["problems"][0].startswith("/etc/cloudflared/config.yml: cannot be parsed as YAML")


@pytest.mark.parametrize("case", sorted(p.name for p in FIXTURES.iterdir()))
def test_builtin_parser_reads_every_fixture_like_pyyaml(case):
    with_pyyaml = run(case, True)
    builtin = run(case, False)

    assert {**builtin, "yaml_parser": None} == {**with_pyyaml, "yaml_parser": None}


@pytest.mark.parametrize("case", sorted(p.name for p in FIXTURES.iterdir()))
def test_no_secret_from_the_host_reaches_the_result(case):
    text = json.dumps(run(case))

    assert [secret for secret in SECRETS if secret in text] == []


def test_retire_lists_unit_update_units_and_cert():
    retire = only_legacy(run("flags_only"))["retire"]

    assert retire == {
        "unit": "cloudflared.service",
        "unit_file": "/etc/systemd/system/cloudflared.service",
        "init_script": None,
        "update_units": ["cloudflared-update.service", "cloudflared-update.timer"],
        "config_files": [],
        "env_files": [],
        "cert_pem": ["/etc/cloudflared/cert.pem"],
    }


def test_sysv_init_script_is_retired_with_a_system_config_file(tmp_path):
    write_tree(
        tmp_path,
        {
            "etc/cloudflared/config.yml": "hostname: a.example.com\nurl: http://localhost:1\n",
            "etc/init.d/cloudflared": "#!/bin/sh\n",
        },
    )

    tunnel = only_legacy(discover(str(tmp_path)))

    assert tunnel["retire"]["init_script"] == "/etc/init.d/cloudflared"
    assert tunnel["notes"] == ["/etc/init.d/cloudflared is assumed to run this config file; it was not inspected"]


def test_retire_lists_env_files_and_default_cert():
    retire = only_legacy(run("env_only"))["retire"]

    # /etc/sysconfig/cloudflared is optional (leading -) and absent, so only the file that exists is listed.
    assert (retire["env_files"], retire["cert_pem"]) == (["/etc/default/cloudflared"], ["/root/.cloudflared/cert.pem"])


def test_named_config_unit_reports_tunnel_id_and_hostnames():
    named = {entry["unit"]: entry for entry in run("already_named")["named"]}

    assert named["cloudflared.service"] == {
        "source": "unit",
        "unit": "cloudflared.service",
        "enabled": True,
        "config_file": "/etc/cloudflared/config.yml",
        "tunnel": "6ff42ae2-765d-4adf-8112-31c55c1551ef",
        "tunnel_id": "6ff42ae2-765d-4adf-8112-31c55c1551ef",
        "tunnel_name": None,
        "credentials_file": "/etc/cloudflared/6ff42ae2-765d-4adf-8112-31c55c1551ef.json",
        "token_file": None,
        "mode": "credentials",
        "hostnames": ["app.example.com"],
        "managed_by_role": False,
        "instance": None,
    }


def test_token_file_unit_reports_the_tunnel_id_inside_the_token():
    named = {entry["unit"]: entry for entry in run("already_named")["named"]}

    entry = named["cloudflared-remote.service"]
    assert (entry["mode"], entry["tunnel_id"], entry["token_file"]) == (
        "token_file",
        "5c2f8a9e-4b1d-4e3a-9f6c-2d7b8e1a0c33",
        "/etc/cloudflared/token",
    )


@pytest.mark.parametrize(
    ("unit", "expected"),
    [
        (
            "cloudflared@web.service",
            {
                "config_file": "/etc/cloudflared/web.yml",
                "mode": "credentials",
                "tunnel_id": "0b4b4f7e-2f0e-4b8e-9a55-7e1c2d3f4a5b",
                "credentials_file": "/etc/cloudflared/web.json",
                "hostnames": ["web.example.com", "*.web.example.com"],
                "instance": "web",
                "managed_by_role": True,
            },
        ),
        (
            "cloudflared@api.service",
            {
                "config_file": "/etc/cloudflared/api.yml",
                "mode": "token_file",
                "tunnel_id": "e3b0c442-98fc-4c14-9afb-f4c8996fb924",
                "token_file": "/etc/cloudflared/api.token",
                "hostnames": [],
                "instance": "api",
                "managed_by_role": True,
            },
        ),
    ],
)
def test_enabled_instances_of_the_role_are_named_and_managed(unit, expected):
    named = {entry["unit"]: entry for entry in run("template_instances")["named"]}

    assert {key: named[unit][key] for key in expected} == expected


def test_half_migrated_host_still_reports_its_legacy_unit():
    tunnel = only_legacy(run("template_instances"))

    assert (tunnel["unit"], tunnel["hostname"], tunnel["service"]) == (
        "cloudflared.service",
        "old.example.com",
        "http://localhost:5000",
    )


def test_cert_pem_lists_every_cert_found():
    assert run("user_home")["cert_pem"] == ["/home/alice/.cloudflared/cert.pem"]


def test_url_path_drop_is_noted():
    notes = only_legacy(run("url_path_no_scheme"))["notes"]

    assert notes == [
        "url localhost:8000/app/?debug=1 is translated to http://localhost:8000 as cloudflared normalised it"
    ]


def test_unit_names_restricts_the_units_and_notes_missing_ones():
    result = run("template_instances", unit_names=["cloudflared@web.service", "cloudflared-old.service"])

    # The legacy config file is still reported on its own, since no inspected unit uses it.
    assert (result["status"], [n["unit"] for n in result["named"]]) == ("mixed", ["cloudflared@web.service"])
    assert [t["source"] for t in result["legacy"]] == ["config"]
    assert result["notes"] == ["unit cloudflared-old.service not found"]


def test_unit_names_without_suffix_mean_services():
    result = run("flags_only", unit_names=["cloudflared"])

    assert [t["unit"] for t in result["legacy"]] == ["cloudflared.service"]


def test_adhoc_named_tunnel_is_named_with_its_hostname(tmp_path):
    write_tree(
        tmp_path,
        {
            "etc/systemd/system/cloudflared.service": (
                "[Service]\nExecStart=/usr/bin/cloudflared tunnel --name shop --hostname shop.example.com "
                "--url http://localhost:3000\n"
            )
        },
    )

    result = discover(str(tmp_path))

    (entry,) = result["named"]
    assert (result["status"], entry["mode"], entry["tunnel_name"], entry["hostnames"]) == (
        "named",
        "adhoc",
        "shop",
        ["shop.example.com"],
    )


def test_process_environment_applies_to_config_files_only_when_given():
    without = only_legacy(run("config_only"))
    with_env = only_legacy(run("config_only", process_env={"TUNNEL_URL": "http://localhost:7000", "HOME": "/x"}))

    assert (without["service"], with_env["service"]) == ("http://localhost:8000", "http://localhost:7000")


def test_unknown_tunnel_environment_variable_is_a_problem(tmp_path):
    write_tree(tmp_path, {"etc/cloudflared/config.yml": "hostname: a.example.com\n"})

    result = discover(str(tmp_path), process_env={"TUNNEL_MYSTERY": "1"})

    assert result["problems"] == [
        "/etc/cloudflared/config.yml: unknown environment variable TUNNEL_MYSTERY (the module's environment)"
    ]


CLASSIC_UNIT = "[Service]\nExecStart=/usr/bin/cloudflared --hostname a.example.com\n"


def write_tree(root, files, links=None):
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    for rel, target in (links or {}).items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.symlink_to(target)


def test_drop_in_replaces_exec_start(tmp_path):
    write_tree(
        tmp_path,
        {
            "lib/systemd/system/cloudflared.service": CLASSIC_UNIT,
            "etc/systemd/system/cloudflared.service.d/override.conf": (
                "[Service]\nExecStart=\nExecStart=/usr/bin/cloudflared --hostname b.example.com --url localhost:81\n"
            ),
        },
    )

    tunnel = only_legacy(discover(str(tmp_path)))

    assert (tunnel["hostname"], tunnel["service"]) == ("b.example.com", "http://localhost:81")


def test_masked_unit_is_skipped(tmp_path):
    write_tree(
        tmp_path,
        {
            "lib/systemd/system/cloudflared.service": CLASSIC_UNIT,
        },
        {"etc/systemd/system/cloudflared.service": "/dev/null"},
    )

    result = discover(str(tmp_path), unit_names=["cloudflared.service"])

    assert (result["status"], result["notes"]) == ("none", ["unit cloudflared.service is masked"])


def test_unit_that_runs_another_cloudflared_command_is_not_a_tunnel(tmp_path):
    write_tree(
        tmp_path,
        {"etc/systemd/system/doh.service": "[Service]\nExecStart=/usr/local/bin/cloudflared proxy-dns --port 5053\n"},
    )

    result = discover(str(tmp_path))

    assert (result["status"], result["notes"]) == ("none", ["doh.service runs cloudflared proxy-dns, not a tunnel"])


def test_dns_proxy_without_hostname_is_not_a_tunnel(tmp_path):
    write_tree(
        tmp_path,
        {
            "etc/systemd/system/cloudflared.service": (
                "[Service]\nExecStart=/usr/local/bin/cloudflared --config /etc/cloudflared/config.yml --no-autoupdate\n"
            ),
            "etc/cloudflared/config.yml": (
                "proxy-dns: true\nproxy-dns-port: 5053\nproxy-dns-upstream:\n  - https://1.1.1.1/dns-query\n"
            ),
        },
    )

    result = discover(str(tmp_path))

    assert (result["status"], result["plan_ok"], result["notes"]) == (
        "none",
        True,
        ["cloudflared.service runs only the DNS over HTTPS proxy, not a tunnel"],
    )


def test_dns_proxy_beside_a_legacy_hostname_is_a_problem(tmp_path):
    write_tree(tmp_path, {"etc/cloudflared/config.yml": "hostname: a.example.com\nproxy-dns: true\n"})

    tunnel = only_legacy(discover(str(tmp_path)))

    assert tunnel["problems"] == ["proxy-dns (the DNS over HTTPS proxy is not a tunnel) cannot be migrated"]


def test_missing_required_environment_file_is_a_problem(tmp_path):
    write_tree(
        tmp_path,
        {
            "etc/systemd/system/cloudflared.service": (
                "[Service]\nEnvironmentFile=/etc/default/cloudflared\nExecStart=/usr/bin/cloudflared tunnel\n"
            )
        },
    )

    result = discover(str(tmp_path))

    assert "cloudflared.service: EnvironmentFile /etc/default/cloudflared is missing" in result["problems"]


def test_classic_unit_without_hostname_is_legacy_but_untranslatable(tmp_path):
    write_tree(
        tmp_path, {"etc/systemd/system/cloudflared.service": "[Service]\nExecStart=/usr/bin/cloudflared tunnel\n"}
    )

    tunnel = only_legacy(discover(str(tmp_path)))

    assert tunnel["problems"] == ["no hostname: the legacy tunnel has no public hostname to route"]
    assert tunnel["ingress"] == []


CONFIG = "/etc/cloudflared/config.yml"


@pytest.mark.parametrize(
    ("line", "problem"),
    [
        ("proxy-connect-timeout: soon", f"proxy-connect-timeout 'soon' from {CONFIG} is not a valid duration"),
        ("proxy-keepalive-connections: many", f"proxy-keepalive-connections 'many' from {CONFIG} is not a valid int"),
        ("no-tls-verify: maybe", f"no-tls-verify 'maybe' from {CONFIG} is not a valid bool"),
        ("lb-pool: [a, b]", f"lb-pool ['a', 'b'] from {CONFIG} is not a valid str"),
        (
            "protocol: carrier-pigeon",
            "the translation is not a valid named tunnel configuration: "
            "option protocol must be one of auto, quic, http2, not 'carrier-pigeon'",
        ),
    ],
)
def test_invalid_legacy_value_is_a_problem(tmp_path, line, problem):
    write_tree(tmp_path, {"etc/cloudflared/config.yml": f"hostname: a.example.com\nurl: http://localhost:1\n{line}\n"})

    tunnel = only_legacy(discover(str(tmp_path)))

    assert problem in tunnel["problems"]
    assert tunnel["translatable"] is False


def test_translation_refused_by_the_ingress_model_is_a_problem(tmp_path):
    write_tree(tmp_path, {"etc/cloudflared/config.yml": "hostname: app.example.com:8443\nurl: http://localhost:1\n"})

    tunnel = only_legacy(discover(str(tmp_path)))

    assert tunnel["translatable"] is False
    assert tunnel["problems"] == [
        "the translation is not a valid named tunnel configuration: Rule #1: Hostname cannot contain a port"
    ]


def test_host_fs_follows_absolute_symlinks_inside_the_root(tmp_path):
    write_tree(tmp_path, {"usr/lib/systemd/system/x.service": "inside"}, {"lib": "/usr/lib"})

    assert HostFS(str(tmp_path)).read("/lib/systemd/system/x.service") == "inside"


@pytest.mark.parametrize(
    ("url", "service"),
    [
        ("http://localhost:8000", "http://localhost:8000"),
        ("localhost:8000", "http://localhost:8000"),
        ("localhost", "http://localhost"),
        ("localhost:8000/app?x=1", "http://localhost:8000"),
        ("https://app.internal/path/?q#f", "https://app.internal"),
        ("HTTPS://app.internal:8443/", "https://app.internal:8443"),
        ("ssh://localhost:22", "ssh://localhost:22"),
        ("tcp://10.0.0.5:5432", "tcp://10.0.0.5:5432"),
        ("127.0.0.1", "http://127.0.0.1"),
        ("127.0.0.1:8080", "http://127.0.0.1:8080"),
        ("::1", "http://[::1]"),
        ("[::1]", "http://[::1]"),
        ("[::1]:8080", "http://[::1]:8080"),
        ("http://[2001:db8::1]:8080/x", "http://[2001:db8::1]:8080"),
        ("http://user:pw@localhost:8000", "http://localhost:8000"),
    ],
)
def test_url_is_normalised_like_cloudflared(url, service):
    assert normalise_url(url) == service


@pytest.mark.parametrize("url", ["", "ftp://files.internal", "localhost:http", "http://localhost:99x/"])
def test_url_that_cloudflared_refused_is_rejected(url):
    with pytest.raises(ValueError):
        normalise_url(url)


@pytest.mark.parametrize(
    ("argv", "flags", "commands", "positional", "unknown"),
    [
        (
            "cloudflared --no-autoupdate tunnel --hostname a.example.com --url=http://x:1",
            {"no-autoupdate": "true", "hostname": "a.example.com", "url": "http://x:1"},
            ["tunnel"],
            [],
            [],
        ),
        (
            "cloudflared tunnel run --token-file /t my-tunnel",
            {"token-file": "/t"},
            ["tunnel", "run"],
            ["my-tunnel"],
            [],
        ),
        ("cloudflared -hello-world --tag a=1 --tag b=2", {"hello-world": "true", "tag": ["a=1", "b=2"]}, [], [], []),
        ("cloudflared --mystery tunnel run", {}, ["tunnel", "run"], [], ["mystery"]),
        ("cloudflared --mystery value --cred-file /c tunnel", {"credentials-file": "/c"}, ["tunnel"], [], ["mystery"]),
        (
            "cloudflared tunnel --hostname h.example.com localhost:80",
            {"hostname": "h.example.com"},
            ["tunnel"],
            ["localhost:80"],
            [],
        ),
        ("cloudflared --no-tls-verify=false -- --url", {"no-tls-verify": "false"}, [], ["--url"], []),
    ],
)
def test_command_line_is_split_into_flags_commands_and_arguments(argv, flags, commands, positional, unknown):
    invocation = Invocation(argv.split())

    assert (invocation.flags, invocation.commands, invocation.positional, invocation.unknown) == (
        flags,
        commands,
        positional,
        unknown,
    )


@pytest.mark.parametrize(
    ("argv", "kind"),
    [
        ("cloudflared", "tunnel"),
        ("cloudflared tunnel", "tunnel"),
        ("cloudflared tunnel run", "run"),
        ("cloudflared access tcp", "other"),
        ("cloudflared update", "other"),
    ],
)
def test_invocation_kind(argv, kind):
    assert Invocation(argv.split()).kind == kind


def test_unit_parser_joins_continuations_and_resets_on_empty_assignment():
    unit = parse_unit(
        [
            "[Service]\nEnvironment=A=1\nExecStart=/bin/old\n# comment\nExecStart=/usr/bin/cloudflared \\\n  --url x\n",
            "[Service]\nEnvironment=\nEnvironment=B=2\n",
        ]
    )

    assert unit["Service"] == {"Environment": ["B=2"], "ExecStart": ["/bin/old", "/usr/bin/cloudflared  --url x"]}


@pytest.mark.parametrize(
    ("value", "argv"),
    [
        ("-/usr/bin/cloudflared --url ${URL}", ["/usr/bin/cloudflared", "--url", "http://a:1"]),
        ("/usr/bin/cloudflared $OPTS", ["/usr/bin/cloudflared", "--hostname", "h.example.com"]),
        ("@/usr/bin/cloudflared cloudflared-legacy tunnel", ["/usr/bin/cloudflared", "tunnel"]),
        ("/usr/bin/cloudflared \"--url\" '${UNSET}'", ["/usr/bin/cloudflared", "--url", ""]),
    ],
)
def test_exec_start_expands_variables_like_systemd(value, argv):
    env = {"URL": "http://a:1", "OPTS": "--hostname h.example.com"}

    assert exec_argv(value, env) == argv


def test_specifiers_expand_instance_and_home():
    assert expand_specifiers("/etc/cloudflared/%i.yml %h %n %p %%", "cloudflared@web.service", "/home/c") == (
        "/etc/cloudflared/web.yml /home/c cloudflared@web.service cloudflared %"
    )


def test_env_file_strips_quotes_comments_and_export():
    text = (
        "# c\nTUNNEL_URL=\"http://a:1\"\nexport TUNNEL_HOSTNAME=h.example.com\n; other\nNO_TLS_VERIFY='true'\nbroken\n"
    )

    assert parse_env_file(text) == {
        "TUNNEL_URL": "http://a:1",
        "TUNNEL_HOSTNAME": "h.example.com",
        "NO_TLS_VERIFY": "true",
    }


YAML_SNIPPETS = [
    "hostname: a.example.com\nurl: http://localhost:8000 # origin\n",
    "ingress:\n  - hostname: a.example.com\n    service: http://x:1\n    originRequest:\n      noTLSVerify: yes\n"
    "  - service: http_status:404\n",
    "ingress:\n- hostname: '*.example.com'\n  path: ^/api\n  service: https://x:2\n- service: http_status:404\n",
    "tag: [a=1, 'b=2']\nproxy-keepalive-connections: 100\nratio: 1.5\nempty:\nnothing: ~\n",
    '---\nkey: "quoted # not a comment"\nother: it\'s\nflag: False\n',
    "list:\n  - one\n  -\n    nested: true\n  - 'three'\n",
    "",
    "# only a comment\n",
]


@pytest.mark.parametrize("text", YAML_SNIPPETS)
def test_builtin_yaml_parser_agrees_with_pyyaml(text):
    assert MiniYAML(text).parse() == yaml.safe_load(text)


@pytest.mark.parametrize(
    "text",
    [
        "base: &b\n  a: 1\nother: *b\n",
        "a: {b: 1}\n",
        "a: |\n  text\n",
        "a: 1\n  b: 2\n",
        "a: 1\na: 2\n",
        "a: [1, [2]]\n",
        "just a string\n",
        "a: 1\n---\nb: 2\n",
    ],
)
def test_builtin_yaml_parser_refuses_what_it_does_not_support(text):
    with pytest.raises(ConfigParseError):
        load_config(text, use_yaml=False)


@PARSERS
def test_a_parse_error_names_the_position_and_never_quotes_the_file(use_yaml):
    text = "hostname: a.example.com\ntoken: eyJhIjoiczNjcjN0In0\nurl: [http://localhost:8000\n"

    with pytest.raises(ConfigParseError) as caught:
        load_config(text, use_yaml=use_yaml)

    assert "eyJhIjoiczNjcjN0In0" not in str(caught.value)
    assert "line" in str(caught.value)


@PARSERS
def test_config_that_is_not_a_mapping_is_refused(use_yaml):
    with pytest.raises(ConfigParseError, match="not a mapping"):
        load_config("- a\n- b\n", use_yaml=use_yaml)


def test_module_falls_back_to_builtin_parser_without_pyyaml(monkeypatch):
    monkeypatch.setattr(_legacy, "HAS_YAML", False)

    result = discover(str(FIXTURES / "config_only"))

    assert (result["yaml_parser"], only_legacy(result)["hostname"]) == ("builtin", "app.example.com")


def test_fixture_symlinks_stay_inside_the_repository():
    links = [Path(dirpath) / name for dirpath, dirs, files in os.walk(FIXTURES) for name in dirs + files]
    outside = [str(p) for p in links if p.is_symlink() and os.readlink(p).startswith("/")]

    assert outside == []
