"""The gateway on the real broker with only part of the platform up."""

import time

import requests

from cli import demo
from gateway.service import GatewayService
from services.registration.service import RegistrationService
from tests import support


def test_health_names_what_is_down_and_login_is_rate_limited(start_service, amqp_uri):
    reg_config = start_service(RegistrationService)
    demo.seed({"registration": reg_config["DATABASE_URL"]}, amqp_uri)
    port = support.free_port()
    start_service(GatewayService, WEB_SERVER_ADDRESS=f"127.0.0.1:{port}", LOGIN_MAX_DELAY_SECONDS=0.3,
                  LOGIN_FREE_FAILURES=2)
    base = f"http://127.0.0.1:{port}"

    health = requests.get(f"{base}/health", timeout=15)
    assert health.status_code == 503
    body = health.json()
    assert body["checks"]["broker"] == "ok" and body["checks"]["registration"] == "ok"
    assert {"dispatch", "scoring", "notify", "activities", "bridge"} <= set(body["down"])

    ok = requests.post(f"{base}/api/auth/login", json={"username": "staff1", "password": "demo1234"}, timeout=10)
    assert ok.status_code == 200 and ok.json()["user"]["role"] == "community_staff"
    # finding 8: an attacker's client is stopped after 10 failures, with growing delays on the account ...
    attacker = support.session_from("127.0.0.2")
    started = time.monotonic()
    statuses = [attacker.post(f"{base}/api/auth/login", json={"username": "staff1", "password": "wrong"},
                              timeout=10).status_code for _ in range(11)]
    assert statuses[:10] == [401] * 10 and statuses[10] == 429
    assert time.monotonic() - started >= 0.3 * 6  # the account's later failures each waited
    # ... but the real user, on their own device, still signs in with the right password: no lock-out
    real = support.session_from("127.0.0.3").post(f"{base}/api/auth/login",
                                                  json={"username": "staff1", "password": "demo1234"}, timeout=10)
    assert real.status_code == 200
    # a spray over many usernames from one client is cut off per client
    sprayer = support.session_from("127.0.0.4")
    sprayed = [sprayer.post(f"{base}/api/auth/login", json={"username": f"user{n}", "password": "x"},
                            timeout=10).status_code for n in range(30)]
    assert sprayed[:10] == [401] * 10 and set(sprayed[10:]) == {429}
    assert sprayer.post(f"{base}/api/auth/login", json={"username": "staff2", "password": "demo1234"},
                        timeout=10).json()["error"]["code"] == "TOO_MANY_LOGIN_ATTEMPTS"

    # a service that is down is a 503 in the one error format, not a hang or a 500
    token = ok.json()["token"]
    menu = requests.get(f"{base}/api/communities/3/menu", headers={"Authorization": f"Bearer {token}"}, timeout=30)
    assert menu.status_code == 503 and menu.json()["error"]["code"] in ("SERVICE_UNAVAILABLE", "UPSTREAM_TIMEOUT")
