"""Sign-in, security headers and the cookie session as a browser sees them."""

import requests


def test_staff_signs_in_and_lands_on_the_community_workbench(screen, web):
    screen.sign_in("staff1")
    screen.page.wait_for_url("**/community")
    screen.shot("home")
    cookies = {c["name"]: c for c in screen.page.context.cookies()}
    session = cookies["baodao_session"]
    assert session["httpOnly"] and session["sameSite"] == "Strict"
    assert not cookies["baodao_csrf"]["httpOnly"]
    # the page's script never sees the token
    assert "baodao_session" not in screen.page.evaluate("() => document.cookie")
    assert screen.page.evaluate("() => JSON.stringify(localStorage)") == "{}"


def test_login_page_headers_and_wrong_password(screen, web):
    page = requests.get(web.url("/"), timeout=10)
    csp = page.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "frame-ancestors 'none'" in csp and "unsafe-inline" not in csp.split(
        "script-src")[1].split(";")[0]
    assert page.headers["X-Content-Type-Options"] == "nosniff"
    assert page.headers["Referrer-Policy"] == "same-origin"
    assert page.headers["Cache-Control"] == "no-cache"
    asset = next(p for p in page.text.split('"') if p.startswith("/assets/") and p.endswith(".js"))
    assert "immutable" in requests.get(web.url(asset), timeout=10).headers["Cache-Control"]

    screen.sign_in("staff1", "wrong-password")
    alert = screen.page.get_by_role("alert")
    alert.wait_for()
    assert "密码" in alert.inner_text()
    screen.shot("login-error")


def test_cookie_session_needs_the_csrf_header_for_writes(web):
    http = requests.Session()
    resp = http.post(web.url("/api/auth/session"), json={"username": "staff1", "password": "demo1234"}, timeout=10)
    assert resp.status_code == 200 and "token" not in resp.json()
    assert http.get(web.url("/api/auth/me"), timeout=10).json()["role"] == "community_staff"
    body = {"menu_item_id": 1, "fields": {"topic": "family"}, "caller_name": "王大爷", "caller_phone": "13900000000"}
    forged = http.post(web.url("/api/requests"), json=body, timeout=10)
    assert forged.status_code == 403 and forged.json()["error"]["code"] == "CSRF_FAILED"
    signed_out = http.delete(web.url("/api/auth/session"), timeout=10)
    assert signed_out.status_code == 200
    assert http.get(web.url("/api/auth/me"), timeout=10).status_code == 401
