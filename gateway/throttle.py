"""Login and sign-up throttling with the ``limits`` library (moving windows, in memory per gateway).

- per client (its address): failed sign-ins across all usernames are capped — a spray over many
  usernames from one client gets 429 after a few (``LOGIN_CLIENT_LIMITS``);
- per account: failures across all clients make each further attempt wait longer before the
  password is checked (1, 2, 4 s, at most ``MAX_DELAY``) — an attacker is slowed, but the real
  user's correct password still signs in: nobody can lock an account out;
- public sign-ups per client are capped too (``SIGNUP_CLIENT_LIMIT``).

Counts live in each gateway instance; with several instances the caps apply per instance.
"""

import os

import eventlet
from limits import parse_many, storage, strategies
from nameko.extensions import DependencyProvider

from gateway.errors import TooManyRequests

LOGIN_CLIENT_LIMITS = os.environ.get("LOGIN_CLIENT_LIMITS", "10/minute;50/hour")
ACCOUNT_WINDOW = "1000/15 minutes"  # only counts an account's failures; never refuses by itself
FREE_FAILURES = int(os.environ.get("LOGIN_FREE_FAILURES", "4"))
MAX_DELAY = float(os.environ.get("LOGIN_MAX_DELAY_SECONDS", "4"))
SIGNUP_CLIENT_LIMIT = os.environ.get("SIGNUP_CLIENT_LIMITS", "20/hour")


class Throttle:
    def __init__(self, config=None, sleep=eventlet.sleep):
        config = config or {}
        self.limiter = strategies.MovingWindowRateLimiter(storage.MemoryStorage())
        self.client_limits = parse_many(config.get("LOGIN_CLIENT_LIMITS", LOGIN_CLIENT_LIMITS))
        self.account_window = parse_many(ACCOUNT_WINDOW)[0]
        self.signup_limits = parse_many(config.get("SIGNUP_CLIENT_LIMITS", SIGNUP_CLIENT_LIMIT))
        self.free_failures = int(config.get("LOGIN_FREE_FAILURES", FREE_FAILURES))
        self.max_delay = float(config.get("LOGIN_MAX_DELAY_SECONDS", MAX_DELAY))
        self.sleep = sleep

    @staticmethod
    def client(request) -> str:
        return request.remote_addr or "unknown"

    def account_failures(self, username: str) -> int:
        stats = self.limiter.get_window_stats(self.account_window, "login-account", username)
        return self.account_window.amount - stats.remaining

    def delay_for(self, failures: int) -> float:
        if failures < self.free_failures:
            return 0.0
        return min(self.max_delay, 2.0 ** (failures - self.free_failures))

    def before_login(self, request, username: str) -> float:
        """429 for a client that failed too often; otherwise wait the account's current delay."""
        client = self.client(request)
        if not all(self.limiter.test(limit, "login-client", client) for limit in self.client_limits):
            raise TooManyRequests(code="TOO_MANY_LOGIN_ATTEMPTS",
                                  message="登录失败次数过多，请稍后再试（其他设备上的正常登录不受影响）")
        delay = self.delay_for(self.account_failures(username))
        if delay:
            self.sleep(delay)
        return delay

    def failed_login(self, request, username: str):
        client = self.client(request)
        for limit in self.client_limits:
            self.limiter.hit(limit, "login-client", client)
        self.limiter.hit(self.account_window, "login-account", username)

    def signup(self, request):
        client = self.client(request)
        if not all(self.limiter.hit(limit, "signup-client", client) for limit in self.signup_limits):
            raise TooManyRequests(code="TOO_MANY_SIGNUPS", message="提交过于频繁，请稍后再试")


class Throttling(DependencyProvider):
    """One :class:`Throttle` per running gateway container."""

    def setup(self):
        self.throttle = Throttle(self.container.config)

    def get_dependency(self, worker_ctx):
        return self.throttle
