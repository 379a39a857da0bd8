"""Sign-in: a token for the registration service's verified principal."""

from marshmallow import Schema, fields

from common.errors import Unauthorized
from gateway import tokens
from gateway.http import route
from gateway.throttle import Throttling
from services.registration import schemas as registration


class LoginResult(Schema):
    token = fields.String()
    expires_at = fields.Integer(metadata={"description": "Unix 时间戳（秒）"})
    user = fields.Nested(registration.Principal)


class AuthRoutes:
    throttle = Throttling()  # gateway/throttle.py: per client and per account

    @route("POST", "/api/auth/login", tag="auth", summary="登录，取得访问凭证",
           body=registration.Login, response=LoginResult)
    def login(self, call):
        username = call.body["username"]
        self.throttle.before_login(call.request, username)
        try:
            principal = self.registration.authenticate(call.body)
        except Unauthorized:
            self.throttle.failed_login(call.request, username)
            raise
        token, expires = tokens.issue(principal)
        return {"token": token, "expires_at": expires, "user": principal}

    @route("GET", "/api/auth/me", tag="auth", summary="当前登录用户", response=registration.Principal)
    def me(self, call):
        return {k: v for k, v in call.actor.items() if k != "assertion"}
