"""Signed, short-lived actor assertions: how a service knows who an RPC acts for.

The gateway verifies a person's sign-in token, then puts ``{**principal, "assertion": <JWT>}``
as the ``actor`` of each RPC; a service acting for itself (a timer, an event, a lookup for
another service) signs ``{"role": "system", "service": <name>}``. Every service verifies the
assertion in one place — the ``rpc`` decorator of ``common/service.py`` — and uses the claims it
signed, never the dict's other fields. A process that can reach the broker but has no
``ACTOR_KEY`` cannot become anybody, let alone ``system``, by saying so.

HS256 with ``ACTOR_KEY`` (``ACTOR_KEY_PREVIOUS`` still verifies during a rotation, picked by the
``kid`` header). An assertion lives :data:`TTL_SECONDS`: long enough for a request's chain of
calls, short enough that a copied one is soon useless.
"""

import hashlib
import os
import time

import jwt

from common import secrets
from common.errors import Unauthorized

TTL_SECONDS = int(os.environ.get("ACTOR_ASSERTION_TTL_SECONDS", "60"))
AUDIENCE = "baodao-rpc"
ALGORITHM = "HS256"
FIELD = "assertion"
_RESERVED = ("exp", "iat", "iss", "aud", FIELD)


def _kid(key: bytes) -> str:
    return hashlib.sha256(b"baodao-actor-kid:" + key).hexdigest()[:16]


def mint(claims: dict, issuer: str, now: float | None = None) -> str:
    key = secrets.get("ACTOR_KEY")
    issued = int(now if now is not None else time.time())
    body = {k: v for k, v in claims.items() if k not in _RESERVED}
    body.update(iss=issuer, aud=AUDIENCE, iat=issued, exp=issued + TTL_SECONDS)
    return jwt.encode(body, key, algorithm=ALGORITHM, headers={"kid": _kid(key)})


def attach(actor: dict, issuer: str) -> dict:
    """The ``actor`` argument for an RPC: the claims, signed."""
    return {**{k: v for k, v in actor.items() if k != FIELD}, FIELD: mint(actor, issuer)}


def system(service: str) -> dict:
    """A service acting for itself (timers, events, lookups on another service's behalf)."""
    return attach({"user_id": None, "role": "system", "service": service}, issuer=service)


def verify(actor) -> dict:
    """The signed claims of an ``actor`` argument; 401 ``ACTOR_UNVERIFIED`` for anything else."""
    refused = Unauthorized(code="ACTOR_UNVERIFIED", message="调用方身份未经验证，拒绝执行")
    token = actor.get(FIELD) if isinstance(actor, dict) else None
    if not isinstance(token, str):
        raise refused
    try:
        keys = {_kid(k): k for k in (secrets.previous("ACTOR_KEY"), secrets.get("ACTOR_KEY")) if k}
        key = keys.get(jwt.get_unverified_header(token).get("kid"))
        if key is None:
            raise refused
        claims = jwt.decode(token, key, algorithms=[ALGORITHM], audience=AUDIENCE,
                            options={"require": ["exp", "iat", "iss", "aud"]})
    except jwt.PyJWTError:
        raise refused from None
    return {k: v for k, v in claims.items() if k not in _RESERVED}
