"""The bridge's pure rules: API keys, which community a system may act for, how outside data
becomes our request fields, and when a failed command is retried or given up. No I/O here."""

import hashlib
import secrets
from dataclasses import dataclass

from common.errors import Forbidden, ValidationFailed

KEY_PREFIX = "bd_"
COMMAND_TYPES = ("request.place", "request.confirm", "members.update")
MAX_ATTEMPTS = 8  # as common.messaging.MAX_ATTEMPTS: tried this often for a passing reason, then dead-lettered


def new_api_key() -> str:
    return KEY_PREFIX + secrets.token_urlsafe(32)


def hash_api_key(api_key: str) -> str:
    """Keys are 256 random bits, so a plain SHA-256 cannot be reversed by guessing."""
    return hashlib.sha256(api_key.encode()).hexdigest()


def new_token() -> str:
    """The Open311 token of a request posted without an Idempotency-Key."""
    return "t-" + secrets.token_hex(12)


def check_community(system: dict, community_id: int):
    """A key may be limited to some communities (a street's hotline desk); None means all."""
    allowed = system.get("communities")
    if allowed is not None and community_id not in allowed:
        raise Forbidden(code="JURISDICTION_FORBIDDEN",
                        message=f"系统“{system['system']}”无权向该社区（{community_id}）提交或查询")


def default_community(system: dict) -> int | None:
    allowed = system.get("communities")
    return allowed[0] if allowed and len(allowed) == 1 else None


def coerce_fields(definitions: list[dict], values: dict) -> dict:
    """Outside systems send every answer as text (Open311 forms); give each the type its field
    definition declares, so dispatch's own checks see numbers as numbers and lists as lists."""
    kinds = {d["code"]: d.get("datatype", "string") for d in definitions}
    out, errors = {}, {}
    for code, value in values.items():
        kind = kinds.get(code)
        if kind == "number" and isinstance(value, str):
            try:
                number = float(value.strip())
            except ValueError:
                errors[code] = ["应为数字"]
                continue
            out[code] = int(number) if number.is_integer() else number
        elif kind == "multivaluelist" and not isinstance(value, list):
            out[code] = [value]
        elif kind in ("string", "text", "singlevaluelist", "datetime") and isinstance(value, list):
            out[code] = value[0] if len(value) == 1 else value
        else:
            out[code] = value
    if errors:
        raise ValidationFailed(fields={"fields": errors})
    return out


def fill_address(definitions: list[dict], answers: dict, description: str, address: str) -> tuple[dict, str]:
    """An Open311 ``address_string`` fills the item's address field if it has one, else the text."""
    if not address:
        return answers, description
    codes = {d["code"] for d in definitions}
    if "address" in codes and not answers.get("address"):
        return {**answers, "address": address}, description
    return answers, (f"{description}\n地址：{address}" if description else f"地址：{address}")


@dataclass(frozen=True)
class Retry:
    """What to do with a command that failed for a passing reason (a service down)."""

    again: bool
    attempt: int


def after_transient_failure(attempts_so_far: int, max_attempts: int = MAX_ATTEMPTS) -> Retry:
    attempt = attempts_so_far + 1
    return Retry(again=attempt < max_attempts, attempt=attempt)


def check_roster_scope(system: dict, rows: list[dict]):
    allowed = system.get("communities")
    if allowed is None:
        return
    outside = sorted({r.get("community_id") for r in rows if r.get("community_id") not in allowed},
                     key=str)
    if outside:
        raise Forbidden(code="JURISDICTION_FORBIDDEN",
                        message=f"系统“{system['system']}”无权更新这些社区的党员：{outside}")
