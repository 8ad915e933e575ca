"""Zones and DNS records: filters, validation, Cloudflare's conflict codes and the all-or-nothing batch."""

from __future__ import annotations

import pytest
from conftest import error, ok
from harness import ACCOUNT_ID, TOKEN_READONLY, ZONES

ZONE = ZONES["example.com"]
RECORDS = f"/zones/{ZONE}/dns_records"
TUNNEL_TARGET = "6ff42ae2-765d-4adf-8112-31c55c1551ef.cfargotunnel.com"


def post(cfemu, **body):
    return cfemu.api("POST", RECORDS, body=body)


def names(answer) -> list:
    return sorted(r["name"] + "/" + r["type"] for r in ok(answer))


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({"name": "example.com"}, ["example.com"]),
        ({"account.id": ACCOUNT_ID}, ["dev.example.com", "example.com", "example.net"]),
        ({"name": "example.org"}, []),
        ({"account.name": "Example Ops", "name": "example.net"}, ["example.net"]),
        ({"name": "example.net", "account.id": "0" * 32, "match": "any"}, ["example.net"]),
    ],
)
def test_zone_list_filters(cfemu, query, expected):
    assert sorted(z["name"] for z in ok(cfemu.api("GET", "/zones", query=query))) == expected


def test_zone_shape_names_its_account(cfemu):
    zone = ok(cfemu.api("GET", f"/zones/{ZONE}"))

    assert (zone["id"], zone["name"], zone["status"]) == (ZONE, "example.com", "active")
    assert zone["account"] == {"id": ACCOUNT_ID, "name": "Example Ops"}


@pytest.mark.parametrize("per_page", ["4", "51"])
def test_zone_per_page_is_bounded_like_cloudflare(cfemu, per_page):
    error(cfemu.api("GET", "/zones", query={"per_page": per_page}), 400, 1001)


def test_create_returns_the_documented_record_shape(cfemu):
    record = ok(
        post(
            cfemu,
            type="CNAME",
            name="App.Example.com.",
            content=TUNNEL_TARGET,
            proxied=True,
            comment="managed",
            tags=["owner:ops"],
        )
    )

    assert record["name"] == "app.example.com" and record["zone_id"] == ZONE and record["zone_name"] == "example.com"
    assert (record["type"], record["content"], record["proxied"], record["proxiable"], record["ttl"]) == (
        "CNAME",
        TUNNEL_TARGET,
        True,
        True,
        1,
    )
    assert len(record["id"]) == 32 and record["comment"] == "managed" and record["tags"] == ["owner:ops"]
    assert {"created_on", "modified_on", "meta", "settings"} <= set(record)


@pytest.mark.parametrize(("name", "expected"), [("@", "example.com"), ("api", "api.example.com")])
def test_relative_names_are_completed_with_the_zone(cfemu, name, expected):
    assert ok(post(cfemu, type="TXT", name=name, content="hello"))["name"] == expected


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({"name": "a.example.com", "content": "192.0.2.1"}, 9020),
        ({"type": "A", "content": "192.0.2.1"}, 9000),
        ({"type": "A", "name": "a.example.com"}, 9005),
        ({"type": "A", "name": "a.example.org", "content": "192.0.2.1"}, 9000),
        ({"type": "A", "name": "a.example.com", "content": "300.1.1.1"}, 9005),
        ({"type": "AAAA", "name": "a.example.com", "content": "192.0.2.1"}, 9005),
        ({"type": "A", "name": "a.example.com", "content": "192.0.2.1", "ttl": 30}, 9021),
        ({"type": "CNAME", "name": "a.example.com", "content": TUNNEL_TARGET, "proxied": True, "ttl": 300}, 9021),
        ({"type": "TXT", "name": "a.example.com", "content": "x", "proxied": True}, 9004),
        ({"type": "A", "name": "a.example.com", "content": "192.0.2.1", "proxied": "yes"}, 1004),
        ({"type": "BOGUS", "name": "a.example.com", "content": "x"}, 9020),
        ({"type": "A", "name": "a b.example.com", "content": "192.0.2.1"}, 9000),
    ],
)
def test_invalid_records_are_refused_with_400(cfemu, body, code):
    error(post(cfemu, **body), 400, code)


@pytest.mark.parametrize(
    ("existing", "new", "code"),
    [
        ({"type": "A", "content": "192.0.2.1"}, {"type": "CNAME", "content": TUNNEL_TARGET}, 81053),
        ({"type": "AAAA", "content": "100::"}, {"type": "CNAME", "content": TUNNEL_TARGET}, 81053),
        ({"type": "CNAME", "content": "other.example.net"}, {"type": "CNAME", "content": TUNNEL_TARGET}, 81053),
        ({"type": "CNAME", "content": TUNNEL_TARGET}, {"type": "A", "content": "192.0.2.1"}, 81054),
        ({"type": "CNAME", "content": TUNNEL_TARGET}, {"type": "TXT", "content": "x"}, 81054),
        ({"type": "A", "content": "192.0.2.1"}, {"type": "A", "content": "192.0.2.1"}, 81058),
        ({"type": "A", "content": "192.0.2.1"}, {"type": "A", "content": "192.0.2.1", "ttl": 300}, 81057),
    ],
)
def test_conflicting_records_get_cloudflares_codes(cfemu, existing, new, code):
    ok(post(cfemu, name="app.example.com", **existing))

    error(post(cfemu, name="app.example.com", **new), 400, code)


def test_address_records_of_one_name_coexist(cfemu):
    ok(post(cfemu, type="A", name="app.example.com", content="192.0.2.1"))
    ok(post(cfemu, type="A", name="app.example.com", content="192.0.2.2"))
    ok(post(cfemu, type="AAAA", name="app.example.com", content="100::"))

    assert len(ok(cfemu.api("GET", RECORDS, query={"name": "app.example.com"}))) == 3


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({"name": "APP.example.com"}, ["app.example.com/CNAME"]),
        ({"name.exact": "app.example.com"}, ["app.example.com/CNAME"]),
        ({"name.contains": "pp"}, ["app.example.com/CNAME", "ppl.example.com/A"]),
        ({"name.startswith": "app"}, ["app.example.com/CNAME"]),
        ({"name.endswith": ".example.com", "type": "A"}, ["ppl.example.com/A", "www.example.com/A"]),
        ({"type": "TXT"}, ["example.com/TXT", "txt.example.com/TXT"]),
        ({"content": TUNNEL_TARGET.upper()}, ["app.example.com/CNAME"]),
        ({"content.contains": "cfargotunnel"}, ["app.example.com/CNAME"]),
        ({"proxied": "false"}, ["example.com/TXT", "ppl.example.com/A", "txt.example.com/TXT"]),
        ({"comment": "route"}, ["app.example.com/CNAME"]),
        ({"comment.startswith": "ro"}, ["app.example.com/CNAME"]),
        ({"comment.present": "1"}, ["app.example.com/CNAME", "txt.example.com/TXT"]),
        ({"comment.absent": "1", "type": "A"}, ["ppl.example.com/A", "www.example.com/A"]),
        ({"type": "CNAME", "name": "ppl.example.com", "match": "any"}, ["app.example.com/CNAME", "ppl.example.com/A"]),
        ({"tag": "team:web"}, ["app.example.com/CNAME"]),
        ({"tag.present": "team"}, ["app.example.com/CNAME"]),
        ({"tag.absent": "team", "type": "TXT"}, ["example.com/TXT", "txt.example.com/TXT"]),
        ({"tag.contains": "team:we"}, ["app.example.com/CNAME"]),
        ({"content.exact": "192.0.2.5"}, ["ppl.example.com/A"]),
        ({"content.endswith": ".cfargotunnel.com"}, ["app.example.com/CNAME"]),
        ({"comment.exact": "note"}, ["txt.example.com/TXT"]),
        ({"comment.contains": "OU"}, ["app.example.com/CNAME"]),
        ({"search": "hello"}, ["txt.example.com/TXT"]),
    ],
)
def test_list_filters(cfemu, query, expected):
    ok(post(cfemu, type="CNAME", name="app", content=TUNNEL_TARGET, proxied=True, comment="route", tags=["team:web"]))
    ok(post(cfemu, type="A", name="ppl", content="192.0.2.5"))
    ok(post(cfemu, type="TXT", name="txt", content="hello", comment="note"))

    assert names(cfemu.api("GET", RECORDS, query=query)) == expected


def test_list_pages_through_three_pages_in_a_stable_order(cfemu):
    for index in range(7):
        ok(post(cfemu, type="TXT", name=f"p{index}", content="page"))

    pages = [
        cfemu.api("GET", RECORDS, query={"type": "TXT", "per_page": 3, "page": n, "order": "name"}) for n in (1, 2, 3)
    ]

    seen = [r["name"] for answer in pages for r in ok(answer)]
    infos = [answer[1]["result_info"] for answer in pages]
    assert len(seen) == len(set(seen)) == 8
    assert [(i["page"], i["count"], i["total_count"], i["total_pages"]) for i in infos] == [
        (1, 3, 8, 3),
        (2, 3, 8, 3),
        (3, 2, 8, 3),
    ]


def test_per_page_above_5000_is_refused(cfemu):
    error(cfemu.api("GET", RECORDS, query={"per_page": 5001}), 400, 1001)


def test_put_replaces_and_patch_merges(cfemu):
    record = ok(post(cfemu, type="A", name="app", content="192.0.2.1", comment="old"))
    path = f"{RECORDS}/{record['id']}"

    patched = ok(cfemu.api("PATCH", path, body={"content": "192.0.2.2"}))
    put = ok(cfemu.api("PUT", path, body={"type": "AAAA", "name": "app.example.com", "content": "100::1"}))

    assert (patched["content"], patched["comment"]) == ("192.0.2.2", "old")
    assert (put["id"], put["type"], put["content"], put["comment"]) == (record["id"], "AAAA", "100::1", None)
    assert ok(cfemu.api("GET", path)) == put


def test_put_needs_the_full_record(cfemu):
    record = ok(post(cfemu, type="A", name="app", content="192.0.2.1"))

    error(cfemu.api("PUT", f"{RECORDS}/{record['id']}", body={"content": "192.0.2.9"}), 400, 9020)


def test_delete_returns_the_id_and_then_the_record_is_gone(cfemu):
    record = ok(post(cfemu, type="A", name="app", content="192.0.2.1"))
    path = f"{RECORDS}/{record['id']}"

    assert ok(cfemu.api("DELETE", path)) == {"id": record["id"]}
    error(cfemu.api("GET", path), 404, 81044)


def test_a_record_of_another_zone_is_not_found(cfemu):
    record = ok(post(cfemu, type="A", name="app", content="192.0.2.1"))

    error(cfemu.api("GET", f"/zones/{ZONES['example.net']}/dns_records/{record['id']}"), 404, 81044)


def test_batch_replaces_an_address_record_with_a_cname_in_one_request(cfemu):
    aaaa = ok(post(cfemu, type="AAAA", name="app", content="100::"))
    txt = ok(post(cfemu, type="TXT", name="note", content="before"))

    result = ok(
        cfemu.api(
            "POST",
            f"{RECORDS}/batch",
            body={
                "deletes": [{"id": aaaa["id"]}],
                "patches": [{"id": txt["id"], "content": "after"}],
                "posts": [{"type": "CNAME", "name": "app.example.com", "content": TUNNEL_TARGET, "proxied": True}],
            },
        )
    )

    assert [r["id"] for r in result["deletes"]] == [aaaa["id"]]
    assert result["patches"][0]["content"] == "after" and result["puts"] == []
    assert result["posts"][0]["type"] == "CNAME"
    assert names(cfemu.api("GET", RECORDS, query={"name": "app.example.com"})) == ["app.example.com/CNAME"]


def test_a_failing_batch_changes_nothing(cfemu):
    aaaa = ok(post(cfemu, type="AAAA", name="app", content="100::"))
    before = cfemu.state()["dns_records"]

    answer = cfemu.api(
        "POST",
        f"{RECORDS}/batch",
        body={
            "deletes": [{"id": aaaa["id"]}],
            "posts": [
                {"type": "CNAME", "name": "app", "content": TUNNEL_TARGET, "proxied": True},
                {"type": "CNAME", "name": "app", "content": TUNNEL_TARGET, "proxied": True},
            ],
        },
    )

    error(answer, 400, 81053)
    assert cfemu.state()["dns_records"] == before


def test_batch_deleting_an_unknown_record_fails(cfemu):
    error(cfemu.api("POST", f"{RECORDS}/batch", body={"deletes": [{"id": "0" * 32}]}), 404, 81044)


def test_batch_is_limited_to_200_changes_on_a_free_zone(cfemu):
    posts = [{"type": "TXT", "name": f"n{i}", "content": "x"} for i in range(201)]

    error(cfemu.api("POST", f"{RECORDS}/batch", body={"posts": posts}), 400, 81071)


def test_the_read_only_token_reads_but_cannot_write(cfemu):
    ok(cfemu.api("GET", RECORDS, token=TOKEN_READONLY))

    error(
        cfemu.api("POST", RECORDS, token=TOKEN_READONLY, body={"type": "A", "name": "a", "content": "192.0.2.1"}),
        403,
        10000,
    )


@pytest.mark.parametrize(("direction", "expected"), [("asc", ["a", "b", "c"]), ("desc", ["c", "b", "a"])])
def test_list_orders_by_the_requested_field(cfemu, direction, expected):
    for label in ("b", "c", "a"):
        ok(post(cfemu, type="TXT", name=label, content=f"order {label}"))

    answer = cfemu.api("GET", RECORDS, query={"content.startswith": "order", "order": "name", "direction": direction})

    assert [r["name"].split(".")[0] for r in ok(answer)] == expected


@pytest.mark.parametrize("query", [{"order": "colour"}, {"direction": "up"}, {"match": "some"}])
def test_invalid_list_parameters_are_refused(cfemu, query):
    error(cfemu.api("GET", RECORDS, query=query), 400, 1004)
