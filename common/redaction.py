"""Scrub ID numbers and phone numbers out of text that leaves the service for operators' eyes:
dead letters, their ``x-reason`` header, error lines. Recognises them by shape, wherever they are
(a payload field, a database error's DETAIL line), so nothing personal sits in a queue or a log."""

import re

from common.masking import mask_phone

# 18-digit resident ID (last may be X) and 15-digit legacy ones; mainland mobiles 1[3-9]xxxxxxxxx
ID_NUMBER = re.compile(r"(?<![0-9A-Za-z])(\d{17}[\dXx]|\d{15})(?![0-9A-Za-z])")
# not inside a longer token: a hex request id or a UUID may hold a run of eleven digits
PHONE = re.compile(r"(?<![0-9A-Za-z])(?:\+?86[- ]?)?(1[3-9]\d)(\d{4})(\d{4})(?![0-9A-Za-z])")
KEEP = ("event_id", "command_id")  # the ids replay and deduplication rely on stay as they are
ID_MARK = "[证件号已隐去]"


def redact_text(text: str) -> str:
    text = ID_NUMBER.sub(ID_MARK, text)
    return PHONE.sub(_masked, text)


def _masked(match) -> str:
    return mask_phone("".join(match.groups()))  # the one masking rule: 138****1234


def redact(value):
    """A copy of a JSON-shaped value with every string (keys included) scrubbed."""
    if isinstance(value, str):
        return redact_text(value)
    if isinstance(value, dict):
        return {redact(k): (v if k in KEEP else redact(v)) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [redact(v) for v in value]
    return value


def redact_bytes(raw: bytes) -> bytes:
    """A raw message body, scrubbed whether or not it is UTF-8 text."""
    try:
        return redact_text(raw.decode("utf-8")).encode("utf-8")
    except UnicodeDecodeError:
        # not text: digits are ASCII bytes whatever surrounds them
        text = ID_NUMBER.sub("[ID]", raw.decode("latin-1"))
        return PHONE.sub(_masked, text).encode("latin-1")


def _masked(match) -> str:
    return mask_phone("".join(match.groups()))  # the one masking rule: 138****1234
