"""Helpers for the emulator's own tests: account-relative paths and envelope checks."""

from __future__ import annotations

import pytest
from harness import ACCOUNT_ID

TUNNELS = f"/accounts/{ACCOUNT_ID}/cfd_tunnel"
SECRET_32 = "dGhpcyBpcyBhIHRlc3Qgc2VjcmV0IG9mIDMyIGJ5dGVzIQ=="  # base64 of 32 bytes


def ok(answer):
    """Unwrap a successful answer to its result, failing with the envelope otherwise."""
    status, envelope, _ignored = answer
    assert status == 200 and envelope["success"] is True, envelope
    assert envelope["errors"] == []
    return envelope["result"]


def error(answer, status: int, code: int) -> str:
    """Check an error answer's HTTP status and Cloudflare code; return the message."""
    got_status, envelope, _ignored = answer
    assert (got_status, envelope["success"], envelope["result"]) == (status, False, None), envelope
    assert envelope["errors"][0]["code"] == code, envelope
    return envelope["errors"][0]["message"]


@pytest.fixture
def make_tunnel(cfemu):
    def create(name: str, **extra) -> dict:
        return ok(cfemu.api("POST", TUNNELS, body={"name": name, **extra}))

    return create
