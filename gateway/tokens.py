"""Signed, expiring bearer tokens: the gateway checks them without a round trip."""

import base64
import hashlib
import hmac
import json
import os
import time

from common import config
from common.errors import Unauthorized

TTL_SECONDS = int(os.environ.get("TOKEN_TTL_SECONDS", str(12 * 3600)))


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _key() -> bytes:
    return config.secret("TOKEN_SECRET", "baodao-demo-token-secret")


def issue(principal: dict, now: float | None = None) -> tuple[str, int]:
    expires = int((now or time.time()) + TTL_SECONDS)
    body = _b64(json.dumps({**principal, "exp": expires}, separators=(",", ":")).encode())
    signature = _b64(hmac.new(_key(), body.encode(), hashlib.sha256).digest())
    return f"{body}.{signature}", expires


def verify(token: str, now: float | None = None) -> dict:
    try:
        body, signature = token.split(".", 1)
        expected = _b64(hmac.new(_key(), body.encode(), hashlib.sha256).digest())
        if not hmac.compare_digest(signature, expected):
            raise ValueError("bad signature")
        claims = json.loads(_unb64(body))
    except (ValueError, json.JSONDecodeError):
        raise Unauthorized(code="INVALID_TOKEN", message="登录凭证无效，请重新登录") from None
    if claims.get("exp", 0) < (now or time.time()):
        raise Unauthorized(code="TOKEN_EXPIRED", message="登录已过期，请重新登录")
    claims.pop("exp")
    return claims
