"""Sign-in: a token for the registration service's verified principal."""

import time
from collections import defaultdict, deque

from marshmallow import Schema, fields
from nameko.extensions import DependencyProvider

from common.errors import Unauthorized
from gateway import session, tokens
from gateway.errors import TooManyRequests, json_response
from gateway.http import route
from services.registration import schemas as registration

MAX_FAILURES, WINDOW_SECONDS = 10, 300


class LoginResult(Schema):
    token = fields.String()
    expires_at = fields.Integer(metadata={"description": "Unix 时间戳（秒）"})
    user = fields.Nested(registration.Principal)


class SessionResult(Schema):
    expires_at = fields.Integer(metadata={"description": "Unix 时间戳（秒）"})
    user = fields.Nested(registration.Principal)


class FailedLogins:
    """Too many wrong passwords for one username in a window → 429 (per gateway instance)."""

    def __init__(self):
        self._failures = defaultdict(deque)

    def check(self, username: str):
        window = self._failures[username]
        while window and window[0] < time.monotonic() - WINDOW_SECONDS:
            window.popleft()
        if len(window) >= MAX_FAILURES:
            raise TooManyRequests(code="TOO_MANY_LOGIN_ATTEMPTS",
                                  message="密码错误次数过多，请5分钟后再试")

    def record(self, username: str):
        self._failures[username].append(time.monotonic())


class LoginThrottle(DependencyProvider):
    """One :class:`FailedLogins` per running gateway container."""

    def setup(self):
        self.failed = FailedLogins()

    def get_dependency(self, worker_ctx):
        return self.failed


class AuthRoutes:
    failed_logins = LoginThrottle()

    @route("POST", "/api/auth/login", tag="auth", summary="登录，取得访问凭证",
           body=registration.Login, response=LoginResult)
    def login(self, call):
        principal, token, expires = self._sign_in(call)
        return {"token": token, "expires_at": expires, "user": principal}

    @route("POST", "/api/auth/session", tag="auth", summary="网页登录：凭证放入 HttpOnly Cookie（附 CSRF Cookie）",
           body=registration.Login, response=SessionResult, raw=True,
           description="网页工作台使用：凭证不交给页面脚本。之后的写操作须在请求头 X-CSRF-Token "
                       "中带上 Cookie baodao_csrf 的值。API 客户端请用 /api/auth/login 与 Bearer 凭证。")
    def open_session(self, call):
        principal, token, expires = self._sign_in(call)
        response = json_response(200, {"expires_at": expires, "user": principal})
        return session.set_session(response, call.request, token, max_age=max(0, expires - int(time.time())))

    @route("DELETE", "/api/auth/session", tag="auth", summary="网页退出登录（清除 Cookie）", raw=True)
    def close_session(self, call):
        return session.clear_session(json_response(200, {"signed_out": True}), call.request)

    def _sign_in(self, call):
        username = call.body["username"]
        self.failed_logins.check(username)
        try:
            principal = self.registration.authenticate(call.body)
        except Unauthorized:
            self.failed_logins.record(username)
            raise
        token, expires = tokens.issue(principal)
        return principal, token, expires

    @route("GET", "/api/auth/me", tag="auth", summary="当前登录用户", response=registration.Principal)
    def me(self, call):
        return call.actor
