"""Token versions: a revoked, rejected or moved member's old tokens stop working within seconds.

Each token carries ``tv``, the account's token version when it was issued; registration bumps
the version when the account's standing changes. The gateway re-reads an account's version at
most every :data:`RECHECK_SECONDS` (one small RPC per active account, not per request), so a
revocation takes effect within that time on every gateway instance, without shared state.
"""

import os
import threading
import time

from nameko.extensions import DependencyProvider

from common import assertions
from common.errors import Unauthorized

RECHECK_SECONDS = float(os.environ.get("TOKEN_RECHECK_SECONDS", "2"))
MAX_ENTRIES = 100_000


class SessionCache:
    def __init__(self, recheck: float = RECHECK_SECONDS):
        self.recheck = recheck
        self._known: dict[int, tuple[float, dict]] = {}
        self._lock = threading.Lock()

    def check(self, claims: dict, registration) -> None:
        """401 ``TOKEN_REVOKED`` unless the token's version is the account's current one."""
        user_id = claims.get("user_id")
        now = time.monotonic()
        entry = self._known.get(user_id)
        # versions only grow: a token newer than what we know means our copy is stale (a fresh sign-in)
        if entry is None or now - entry[0] > self.recheck or claims.get("tv", 0) > entry[1]["tv"]:
            state = registration.session_state(assertions.system("gateway"), [user_id])[str(user_id)]
            with self._lock:
                if len(self._known) > MAX_ENTRIES:
                    self._known.clear()
                self._known[user_id] = (now, state)
        else:
            state = entry[1]
        if not state["active"] or state["tv"] != claims.get("tv", 0):
            raise Unauthorized(code="TOKEN_REVOKED",
                               message="您的账号状态已变更（如报到被撤销、退回或转移），请重新登录")


class Sessions(DependencyProvider):
    """One :class:`SessionCache` per gateway container."""

    def setup(self):
        self.cache = SessionCache()

    def get_dependency(self, worker_ctx):
        return self.cache
