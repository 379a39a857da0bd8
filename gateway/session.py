"""Browser sign-in: the token in an HttpOnly, SameSite=Strict cookie, never in page script.

API clients keep sending ``Authorization: Bearer``. A browser gets two cookies at sign-in: the
session (HttpOnly, so injected script cannot read it) and a CSRF value derived from it, which
the page's script copies into the ``X-CSRF-Token`` header of every state-changing request
(double submit). Another site can make the browser send the cookie but cannot read the CSRF
cookie nor compute it, and SameSite=Strict keeps the cookie off cross-site requests anyway.
"""

import hashlib
import hmac
import os

from common.errors import Forbidden

SESSION_COOKIE = "baodao_session"
CSRF_COOKIE = "baodao_csrf"
CSRF_HEADER = "X-CSRF-Token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def csrf_for(token: str) -> str:
    # bound to the session: whoever does not hold the (HttpOnly) token cannot derive it
    return hashlib.sha256(b"baodao-csrf\x00" + token.encode()).hexdigest()


def token_from_cookie(request) -> str | None:
    """The session token of a cookie-authenticated request, CSRF-checked for unsafe methods."""
    token = request.cookies.get(SESSION_COOKIE)
    if not token:
        return None
    if request.method not in SAFE_METHODS:
        sent = request.headers.get(CSRF_HEADER, "")
        if not sent or not hmac.compare_digest(sent, csrf_for(token)):
            raise Forbidden(code="CSRF_FAILED", message="页面已过期或请求来源不明，请刷新页面后重试")
    return token


def _secure(request) -> bool:
    forced = os.environ.get("GATEWAY_COOKIE_SECURE")
    if forced is not None:
        return forced == "1"
    return request.scheme == "https" or request.headers.get("X-Forwarded-Proto") == "https"


def set_session(response, request, token: str, max_age: int):
    secure = _secure(request)
    response.set_cookie(SESSION_COOKIE, token, max_age=max_age, path="/", secure=secure,
                        httponly=True, samesite="Strict")
    response.set_cookie(CSRF_COOKIE, csrf_for(token), max_age=max_age, path="/", secure=secure,
                        httponly=False, samesite="Strict")
    return response


def clear_session(response, request):
    secure = _secure(request)
    for name, httponly in ((SESSION_COOKIE, True), (CSRF_COOKIE, False)):
        response.delete_cookie(name, path="/", secure=secure, httponly=httponly, samesite="Strict")
    return response
