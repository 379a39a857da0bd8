"""Sign-in: a token for the registration service's verified principal."""

import time

from marshmallow import Schema, fields

from common.errors import Unauthorized
from gateway import session, tokens
from gateway.errors import json_response
from gateway.http import route
from gateway.throttle import Throttling
from services.registration import schemas as registration


class LoginResult(Schema):
    token = fields.String()
    expires_at = fields.Integer(metadata={"description": "Unix 时间戳（秒）"})
    user = fields.Nested(registration.Principal)


class SessionResult(Schema):
    expires_at = fields.Integer(metadata={"description": "Unix 时间戳（秒）"})
    user = fields.Nested(registration.Principal)


class AuthRoutes:
    throttle = Throttling()  # gateway/throttle.py: per client and per account

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
        self.throttle.before_login(call.request, username)
        try:
            principal = self.registration.authenticate(call.body)
        except Unauthorized:
            self.throttle.failed_login(call.request, username)
            raise
        token, expires = tokens.issue(principal)
        return principal, token, expires

    @route("GET", "/api/auth/me", tag="auth", summary="当前登录用户", response=registration.Principal)
    def me(self, call):
        return {k: v for k, v in call.actor.items() if k != "assertion"}
