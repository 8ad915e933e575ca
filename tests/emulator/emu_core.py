"""Shared pieces of the Cloudflare API emulator: errors, clocks, identifiers, validation and pagination."""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import re
import uuid

HEX32 = re.compile(r"^[0-9a-f]{32}$")
UUID_RE = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")


class ApiError(Exception):
    """An answer with success=false: HTTP status plus Cloudflare's errors list."""

    def __init__(self, status: int, code: int, message: str, chain: list[dict] | None = None, headers=None):
        super().__init__(message)
        self.status = status
        self.errors = [{"code": code, "message": message}]
        if chain:
            self.errors[0]["error_chain"] = chain
        self.headers = headers or {}


def now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def stamp(moment: dt.datetime | None = None) -> str:
    """RFC 3339 with microseconds and a Z, the way the tunnel and DNS APIs print times."""
    return (moment or now()).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def parse_time(value: str, name: str) -> dt.datetime:
    text = value.strip()
    if text.endswith("Z"):
        text = text[:-1] + "+00:00"
    try:
        moment = dt.datetime.fromisoformat(text)
    except ValueError:
        raise ApiError(400, 1001, f"Invalid value for {name}: expected an RFC 3339 timestamp, got {value!r}") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)
    return moment


def hex_id() -> str:
    return uuid.uuid4().hex


def uuid_id() -> str:
    return str(uuid.uuid4())


def decode_secret(value) -> bytes | None:
    """Standard base64 (padding optional); None when it is not base64 at all."""
    if not isinstance(value, str):
        return None
    try:
        return base64.b64decode(value + "=" * (-len(value) % 4), validate=True)
    except (binascii.Error, ValueError):
        return None


# --- request body validation -------------------------------------------------------------------------------------

_TYPE_NAMES = {str: "string", bool: "boolean", int: "integer", float: "number", list: "array", dict: "object"}


def check_type(value, types, name: str, code: int) -> None:
    """Reject a JSON value of the wrong type; bools are never accepted where numbers are expected."""
    types = types if isinstance(types, tuple) else (types,)
    ok = False if isinstance(value, bool) and bool not in types else isinstance(value, types)
    if not ok:
        wanted = " or ".join(_TYPE_NAMES.get(t, t.__name__) for t in types)
        raise ApiError(400, code, f"Invalid type for field '{name}': expected {wanted}")


def field(body: dict, name: str, types, code: int, required: bool = False, default=None, nullable: bool = False):
    if name not in body or (body[name] is None and not required):
        if required:
            raise ApiError(400, code, f"Missing required field '{name}'")
        return default
    value = body[name]
    if value is None and nullable:
        return None
    check_type(value, types, name, code)
    return value


def require_object(body, code: int = 9207) -> dict:
    if not isinstance(body, dict):
        raise ApiError(400, code, "Request body is invalid.")
    return body


# --- query parameters -------------------------------------------------------------------------------------------


def qget(query: dict, name: str, default=None):
    values = query.get(name)
    return values[-1] if values else default


def qbool(query: dict, name: str):
    value = qget(query, name)
    if value is None or value == "":
        return None
    if value.lower() in ("true", "1"):
        return True
    if value.lower() in ("false", "0"):
        return False
    raise ApiError(400, 1001, f"Invalid value for {name}: expected true or false, got {value!r}")


def qint(query: dict, name: str, default: int, minimum: int, maximum: int | None, code: int = 1001) -> int:
    value = qget(query, name)
    if value is None or value == "":
        return default
    try:
        number = int(value)
    except ValueError:
        raise ApiError(400, code, f"Invalid value for {name}: expected an integer, got {value!r}") from None
    if number < minimum or (maximum is not None and number > maximum):
        bounds = f"between {minimum} and {maximum}" if maximum is not None else f"at least {minimum}"
        raise ApiError(400, code, f"Invalid value for {name}: must be {bounds}, got {number}")
    return number


def paginate(items: list, query: dict, default_per_page: int, min_per_page: int, max_per_page: int | None):
    """Slice items by page/per_page and build Cloudflare's result_info."""
    per_page = qint(query, "per_page", default_per_page, min_per_page, max_per_page)
    page = qint(query, "page", 1, 1, None)
    total = len(items)
    chunk = items[(page - 1) * per_page : page * per_page]
    info = {
        "page": page,
        "per_page": per_page,
        "count": len(chunk),
        "total_count": total,
        "total_pages": (total + per_page - 1) // per_page if total else 1,
    }
    return chunk, info
