import os

import pytest
from marshmallow import ValidationError

from common import contracts
from common.errors import Conflict, NotFound, Unauthorized, ValidationFailed
from gateway import tokens
from gateway.errors import ServiceUnavailable, status_of
from gateway.http import _werkzeug_path
from services.dispatch.domain import invalid_transition

PRINCIPAL = {"user_id": 3, "role": "resident", "community_id": 5}


def test_token_round_trip_and_expiry():
    token, expires = tokens.issue(PRINCIPAL, now=1000)
    assert tokens.verify(token, now=1001) == PRINCIPAL
    with pytest.raises(Unauthorized) as err:
        tokens.verify(token, now=expires + 1)
    assert err.value.code == "TOKEN_EXPIRED"


def test_tokens_are_jwts_with_issuer_audience_and_key_id():
    import jwt

    token, _ = tokens.issue(PRINCIPAL)
    header = jwt.get_unverified_header(token)
    assert header["alg"] == "HS256" and header["kid"] == tokens.kid(os.environ["TOKEN_SECRET"].encode())
    claims = jwt.decode(token, os.environ["TOKEN_SECRET"], algorithms=["HS256"], audience="baodao-api")
    assert claims["iss"] == "baodao" and claims["exp"] > claims["iat"]
    for forged in (
        jwt.encode({**PRINCIPAL, "iss": "baodao", "aud": "other", "iat": 1, "exp": 2**40},
                   os.environ["TOKEN_SECRET"], headers={"kid": header["kid"]}),
        jwt.encode({**PRINCIPAL, "iss": "evil", "aud": "baodao-api", "iat": 1, "exp": 2**40},
                   os.environ["TOKEN_SECRET"], headers={"kid": header["kid"]}),
        # the default the platform once published is no key at all now
        jwt.encode({**PRINCIPAL, "role": "district_staff", "iss": "baodao", "aud": "baodao-api", "iat": 1,
                    "exp": 2**40}, "baodao-demo-token-secret", headers={"kid": header["kid"]}),
        jwt.encode({**PRINCIPAL, "iss": "baodao", "aud": "baodao-api", "iat": 1, "exp": 2**40},
                   os.environ["TOKEN_SECRET"], algorithm="HS512", headers={"kid": header["kid"]}),
    ):
        with pytest.raises(Unauthorized):
            tokens.verify(forged)
    with pytest.raises(ValueError):
        tokens.issue({"user_id": None, "role": "system"})


def test_key_rotation_accepts_the_previous_key(monkeypatch):
    old_token, _ = tokens.issue(PRINCIPAL)
    monkeypatch.setenv("TOKEN_SECRET_PREVIOUS", os.environ["TOKEN_SECRET"])
    monkeypatch.setenv("TOKEN_SECRET", "a-brand-new-token-secret-of-enough-length-0123456789")
    assert tokens.verify(old_token)["user_id"] == 3
    new_token, _ = tokens.issue(PRINCIPAL)
    assert tokens.verify(new_token)["user_id"] == 3
    monkeypatch.delenv("TOKEN_SECRET_PREVIOUS")  # rotation over: the old key is gone
    with pytest.raises(Unauthorized):
        tokens.verify(old_token)
    assert tokens.verify(new_token)["user_id"] == 3


def test_tampered_token_is_refused():
    token, _ = tokens.issue(PRINCIPAL)
    head, body, sig = token.split(".")
    forged, _ = tokens.issue({**PRINCIPAL, "role": "district_staff"})
    with pytest.raises(Unauthorized):
        tokens.verify(".".join(forged.split(".")[:2]) + "." + sig)
    with pytest.raises(Unauthorized):
        tokens.verify("garbage")


@pytest.mark.parametrize("error,status", [
    (ValidationFailed(), 400), (Unauthorized(), 401), (NotFound(), 404), (Conflict(), 409),
    (invalid_transition("closed"), 409), (ServiceUnavailable(), 503)])
def test_error_types_map_to_statuses(error, status):
    assert status_of(error) == status


def test_openapi_paths_become_werkzeug_rules():
    assert _werkzeug_path("/api/requests/{request_id}/claim") == "/api/requests/<int:request_id>/claim"
    assert _werkzeug_path("/open311/{fmt}") == "/open311/<fmt>"


def test_contracts_refuse_bad_and_unknown_events():
    good = {"event_id": "x", "event_type": "request.claimed", "version": 1, "source": "dispatch",
            "occurred_at": "2026-01-01T00:00:00+00:00",
            "data": {"request_id": 1, "community_id": 1, "resident_id": 1, "menu_item_id": 1,
                     "title": "t", "state": "claimed", "member_id": 2}}
    assert contracts.load_event(good)["data"]["member_id"] == 2
    with pytest.raises(ValidationError):
        contracts.load_event({**good, "data": {"request_id": "x"}})
    with pytest.raises(ValidationError):
        contracts.load_event({**good, "event_type": "nope"})
    with pytest.raises(ValidationError):
        contracts.load_event("not a dict")
