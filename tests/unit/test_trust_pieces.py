"""Assertions, secrets and the login throttle, each on its own (no broker)."""

import os
import time

import pytest

from common import assertions, secrets
from common.errors import Unauthorized
from common.exports import safe_cell, safe_row
from gateway.throttle import Throttle


def test_assertions_are_signed_short_lived_and_checked():
    actor = assertions.attach({"user_id": 9, "role": "member", "community_id": 3}, "gateway")
    assert assertions.verify(actor)["user_id"] == 9
    # the dict's own fields are not what counts: only what was signed
    assert assertions.verify({**actor, "role": "district_staff"})["role"] == "member"
    for bad in ({"user_id": None, "role": "system"}, {**actor, "assertion": actor["assertion"][:-2] + "xx"},
                "not a dict", None):
        with pytest.raises(Unauthorized):
            assertions.verify(bad)
    old = {"assertion": assertions.mint({"user_id": 9, "role": "member"}, "gateway",
                                        now=time.time() - assertions.TTL_SECONDS - 5)}
    with pytest.raises(Unauthorized):
        assertions.verify(old)
    assert assertions.verify(assertions.system("dispatch"))["role"] == "system"


def test_secrets_generated_once_kept_and_required(tmp_path, monkeypatch):
    for name in secrets.NAMES:
        monkeypatch.delenv(name, raising=False)
    with pytest.raises(secrets.MissingSecret):
        secrets.require()
    path = secrets.ensure_generated(tmp_path)
    first = {n: os.environ[n] for n in secrets.NAMES}
    assert all(len(v) >= secrets.MIN_LENGTH for v in first.values()) and len(set(first.values())) == 3
    assert oct(path.stat().st_mode & 0o777) == "0o600"
    for name in secrets.NAMES:
        monkeypatch.delenv(name)
    secrets.ensure_generated(tmp_path)  # a restart keeps them
    assert {n: os.environ[n] for n in secrets.NAMES} == first
    secrets.require()
    monkeypatch.setenv("TOKEN_SECRET", "short")
    with pytest.raises(secrets.MissingSecret):
        secrets.require()


class FakeRequest:
    def __init__(self, addr):
        self.remote_addr = addr


def test_throttle_per_client_and_growing_delays_per_account():
    slept = []
    throttle = Throttle({"LOGIN_CLIENT_LIMITS": "5/minute", "LOGIN_FREE_FAILURES": "2",
                         "LOGIN_MAX_DELAY_SECONDS": "4"}, sleep=slept.append)
    attacker, user = FakeRequest("10.0.0.1"), FakeRequest("10.0.0.2")
    for _ in range(5):
        throttle.before_login(attacker, "staff1")
        throttle.failed_login(attacker, "staff1")
    assert slept == [1.0, 2.0, 4.0]  # growing, capped
    from gateway.errors import TooManyRequests

    with pytest.raises(TooManyRequests):  # that client is stopped, whatever username it tries
        throttle.before_login(attacker, "someone-else")
    assert throttle.before_login(user, "staff1") == 4.0  # the real user waits, but is let through


def test_formula_cells_are_escaped_numbers_are_not():
    assert [safe_cell(v) for v in ("=1+1", "+86", "-x", "@SUM", "\tA", "\rA", "张伟", "", None, -5, 3.5)] == [
        "'=1+1", "'+86", "'-x", "'@SUM", "'\tA", "'\rA", "张伟", "", None, -5, 3.5]
    assert safe_row(["=cmd", 1]) == ["'=cmd", 1]


def test_broker_definitions_one_account_each_only_its_own_queues(monkeypatch):
    import base64
    import hashlib
    import re

    import yaml

    from cli import broker_definitions as bd
    from common.config import ROOT, SERVICES

    accounts = [bd.ADMIN, "gateway", *SERVICES, *bd.OUTSIDE_SYSTEMS]
    doc = bd.definitions({a: f"{a}-password-long-enough" for a in accounts})
    users = {u["name"]: u for u in doc["users"]}
    assert set(users) == set(accounts) and "guest" not in users
    salted = base64.b64decode(users["registration"]["password_hash"])
    assert salted[4:] == hashlib.sha256(salted[:4] + b"registration-password-long-enough").digest()
    perms = {p["user"]: p for p in doc["permissions"]}

    def may(user, kind, name):
        return re.fullmatch(perms[user][kind], name) is not None

    assert may("registration", "read", "rpc-registration") and not may("registration", "read", "rpc-dispatch")
    assert may("dispatch", "read", "evt-registration-member.accepted--dispatch.on_member")
    assert not may("dispatch", "read", "evt-registration-member.accepted--scoring.on_member_accepted")
    assert may("scoring", "write", "scoring.events") and not may("scoring", "write", "dispatch.events")
    assert not may("gateway", "read", "rpc-registration") and may("gateway", "write", "nameko-rpc")
    assert may("bridge", "read", "baodao.commands") and not may("notify", "read", "baodao.commands")
    assert may("hotline-12345", "write", "baodao.commands") and not may("hotline-12345", "write", "nameko-rpc")
    with pytest.raises(SystemExit):
        bd.definitions({a: "short" for a in accounts})
    # compose: no guest, no published default, every process on its own account
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    text = (ROOT / "docker-compose.yml").read_text()
    assert "guest" not in text.replace("no guest", "") and "change-me" not in text
    for name in (*SERVICES, "gateway"):
        assert compose["services"][name]["environment"]["AMQP_URI"].startswith(f"amqp://{name}:${{")
    assert ":?" in compose["x-service"]["environment"]["TOKEN_SECRET"]
