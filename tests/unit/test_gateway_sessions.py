"""The gateway's token-version cache: old tokens end within seconds, a fresh sign-in works at once."""

import pytest

from common.errors import Unauthorized
from gateway.sessions import SessionCache


class Registration:
    """Stands in for registration.session_state: the account's current token version."""

    def __init__(self):
        self.tv, self.calls = 1, 0

    def session_state(self, actor, ids):
        self.calls += 1
        return {str(i): {"active": True, "tv": self.tv} for i in ids}


def test_a_token_issued_after_a_bump_works_at_once_and_the_old_one_stops():
    registration, cache = Registration(), SessionCache(recheck=60)
    cache.check({"user_id": 7, "tv": 1}, registration)
    registration.tv = 2  # e.g. a move accepted: the member signs in again
    cache.check({"user_id": 7, "tv": 2}, registration)  # newer than the cached copy: re-read, no 401
    with pytest.raises(Unauthorized):
        cache.check({"user_id": 7, "tv": 1}, registration)
    assert registration.calls == 2  # the old token is refused from the cache, without another call
