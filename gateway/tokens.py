"""Sign-in tokens: JWT (PyJWT, HS256) with expiry, issuer, audience and a key id.

Claims: the principal (``user_id``, ``role``, place ids, ``e_branch_ids``, ``secretary_of``…) plus
``tv``, the account's token version: revoking, rejecting or transferring a member bumps it, and
the gateway refuses tokens with an older one (see :class:`gateway.sessions.Sessions`).

Key rotation (documented in common/secrets.py): ``TOKEN_SECRET`` signs; ``TOKEN_SECRET_PREVIOUS``
still verifies. The header's ``kid`` (a fingerprint of the key, not the key) picks the key.
"""

import hashlib
import os
import time

import jwt

from common import secrets
from common.errors import Unauthorized

TTL_SECONDS = int(os.environ.get("TOKEN_TTL_SECONDS", str(12 * 3600)))
ISSUER = "baodao"
AUDIENCE = "baodao-api"
ALGORITHM = "HS256"
RESERVED = ("exp", "iat", "nbf", "iss", "aud", "sub", "jti")


def kid(key: bytes) -> str:
    return hashlib.sha256(b"baodao-kid:" + key).hexdigest()[:16]


def _keys() -> dict[str, bytes]:
    keys = {}
    previous = secrets.previous("TOKEN_SECRET")
    if previous:
        keys[kid(previous)] = previous
    current = secrets.get("TOKEN_SECRET")
    keys[kid(current)] = current
    return keys


def issue(principal: dict, now: float | None = None) -> tuple[str, int]:
    if principal.get("role") == "system":
        raise ValueError("no sign-in token is ever issued for the system role")
    issued = int(now if now is not None else time.time())
    expires = issued + TTL_SECONDS
    key = secrets.get("TOKEN_SECRET")
    claims = {k: v for k, v in principal.items() if k not in RESERVED}
    claims.update(iss=ISSUER, aud=AUDIENCE, iat=issued, exp=expires, sub=str(principal.get("user_id")))
    return jwt.encode(claims, key, algorithm=ALGORITHM, headers={"kid": kid(key)}), expires


def verify(token: str, now: float | None = None) -> dict:
    """The principal of a valid token; 401 for anything else (bad signature, expired, wrong audience)."""
    invalid = Unauthorized(code="INVALID_TOKEN", message="登录凭证无效，请重新登录")
    try:
        header = jwt.get_unverified_header(token)
        key = _keys().get(header.get("kid"))
        if key is None:
            raise invalid
        claims = jwt.decode(token, key, algorithms=[ALGORITHM], audience=AUDIENCE, issuer=ISSUER,
                            options={"require": ["exp", "iat", "iss", "aud"], "verify_exp": now is None})
    except jwt.ExpiredSignatureError:
        raise Unauthorized(code="TOKEN_EXPIRED", message="登录已过期，请重新登录") from None
    except jwt.PyJWTError:
        raise invalid from None
    if now is not None and claims["exp"] < now:
        raise Unauthorized(code="TOKEN_EXPIRED", message="登录已过期，请重新登录")
    if claims.get("role") == "system" or "user_id" not in claims:
        raise invalid
    return {k: v for k, v in claims.items() if k not in RESERVED}
