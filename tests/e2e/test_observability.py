"""What an operator watches: a request id followed across processes, quiet 4xx, /metrics, /health."""

import json
import re
import uuid

import requests

from tests import support


def _lines_with(platform, marker):
    return [line for line in platform.log().splitlines() if marker in line]


def test_one_request_is_followed_from_the_gateway_through_rpc_to_events(platform):
    resident = platform.login("resident1")
    request_id = f"trace-{uuid.uuid4().hex[:6]}-{uuid.uuid4().hex[:6]}"  # no 7-digit run: kept as given
    resp = resident.post("/api/requests", {"menu_item_id": 1, "fields": {"topic": "family"}},
                         headers={"X-Request-Id": request_id})
    assert resp.status_code == 201, resp.text
    assert resp.headers["X-Request-Id"] == request_id

    def followed():
        lines = _lines_with(platform, request_id)
        return lines if (any("http POST /api/requests 201" in x for x in lines)
                         and any("rpc dispatch.submit_request ok" in x for x in lines)
                         and any(" event request.submitted " in x and "[        notify]" in x for x in lines)) else None

    support.wait_for(followed, timeout=20, interval=0.3, message="the request id in gateway, dispatch and notify")


def test_expected_client_errors_are_one_info_line_without_traceback(platform):
    resident = platform.login("resident1")
    request_id = f"missing-{uuid.uuid4().hex[:6]}-{uuid.uuid4().hex[:6]}"
    resp = resident.get("/api/requests/987654321", headers={"X-Request-Id": request_id})
    assert resp.status_code == 404
    unauthenticated = requests.get(platform.url("/api/inbox"), headers={"X-Request-Id": request_id + "-anon"},
                                   timeout=10)
    assert unauthenticated.status_code == 401

    def logged():
        lines = _lines_with(platform, request_id)
        wanted = ("http GET /api/requests/<int:request_id> 404", "(expected)", "http GET /api/inbox 401")
        return lines if all(any(w in x for x in lines) for w in wanted) else None

    lines = support.wait_for(logged, timeout=15, interval=0.2, message="the 404 and 401 lines")
    assert any("INFO" in x and "http GET /api/requests/<int:request_id> 404" in x for x in lines)
    assert any("INFO" in x and "dispatch" in x and "(expected)" in x for x in lines)  # the service's side
    assert any("INFO" in x and "http GET /api/inbox 401" in x for x in lines)
    assert not [x for x in lines if " ERROR " in x or " WARNING " in x], lines
    log = platform.log()
    after = log[log.index(request_id):]
    assert "Traceback" not in after[:after.rindex(request_id) + 200]


def _scrape(url):
    resp = requests.get(url, timeout=10)
    assert resp.status_code == 200 and resp.headers["Content-Type"].startswith("text/plain")
    return resp.text


def test_metrics_on_the_gateway_and_every_service(platform):
    platform.login("resident1")  # at least one routed request
    text = _scrape(platform.url("/metrics"))
    assert re.search(r'baodao_http_request_duration_seconds_count\{method="POST",route="/api/auth/login",'
                     r'status="200"\} [1-9]', text)
    assert "baodao_dead_letter_queue_messages" in text
    targets = json.loads((platform.log_path.parent / "metrics-targets.json").read_text())
    from common.config import SERVICES

    assert sorted({t["labels"]["service"] for t in targets}) == sorted((*SERVICES, "gateway"))
    for target in targets:
        service = target["labels"]["service"]
        body = _scrape(f"http://{target['targets'][0]}/metrics")
        probe = requests.get(f"http://{target['targets'][0]}/health", timeout=10)  # what a readiness probe reads
        assert probe.status_code == 200 and probe.json()["status"] == "ok", (service, probe.text)
        if service == "gateway":
            assert "baodao_http_request_duration_seconds" in body
            continue
        assert f'baodao_outbox_pending{{service="{service}"}}' in body
        assert f'baodao_outbox_oldest_age_seconds{{service="{service}"}}' in body
        assert f'baodao_database_up{{service="{service}"}} 1.0' in body
        if service == "registration":  # the login above was an RPC to registration
            assert re.search(r'baodao_rpc_duration_seconds_count\{method="authenticate",outcome="ok",'
                             r'service="registration"\} [1-9]', body)
        if service in ("dispatch", "activities"):
            assert f'baodao_timers_due{{service="{service}"}}' in body
            assert f'baodao_timers_late{{service="{service}"}}' in body
        if service == "notify":
            assert 'baodao_events_consumed_total{event_type="' in body


def test_health_reports_outbox_lag(platform):
    body = requests.get(platform.url("/health"), timeout=10).json()
    from common.config import SERVICES

    assert set(body["outbox"]) == set(SERVICES)
    for lag in body["outbox"].values():
        assert lag["pending"] >= 0 and lag["oldest_age_seconds"] >= 0
    assert body["outbox_lagging"] == []
