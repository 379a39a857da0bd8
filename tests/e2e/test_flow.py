"""The thin flow through all five processes and RabbitMQ, over HTTP, on SQLite and PostgreSQL."""

import json
import subprocess
import sys

import requests
from sqlalchemy import create_engine, text

from common.config import ROOT
from common.db import EventPublisher
from tests import support


def test_resident_request_flows_to_points_and_messages(platform):
    health = support.wait_for(lambda: _ok(platform.url("/health")), message="health 200")
    assert health["down"] == []

    # 1. community staff register a member of their community
    staff = platform.login("staff1")
    community_id = staff.user["community_id"]
    resp = staff.post("/api/members", {
        "name": "赵律师", "phone": "13912345678", "id_number": "11010519491231002X",  # one test registers it
        "community_id": community_id, "skills": ["法律"], "password": "secret-pass-1"})
    assert resp.status_code == 201, resp.text
    member_id = resp.json()["id"]
    assert resp.json()["phone"] == "13912345678"  # own community staff see the full number
    duplicate = staff.post("/api/members", {
        "name": "赵律师", "phone": "13912345679", "id_number": "11010519491231002X",
        "community_id": community_id, "skills": ["法律"]})
    assert duplicate.status_code == 409
    assert duplicate.json()["error"]["code"] == "DUPLICATE_REGISTRATION"

    # 2. a resident orders from the community's menu
    resident = platform.login("resident1")
    menu = resident.get(f"/api/communities/{community_id}/menu").json()
    legal = next(item for item in menu if item["title"] == "法律咨询")
    resp = resident.post("/api/requests", {"menu_item_id": legal["id"], "fields": {"topic": "family"},
                                           "description": "想咨询赡养老人的问题"})
    assert resp.status_code == 201, resp.text
    request = resp.json()
    assert request["state"] == "dispatched"

    # 3. dispatch offered it to matching members, our new member among them
    assert member_id in request["offered_to"]
    member = platform.login("13912345678", "secret-pass-1")
    offer = support.wait_for(lambda: _kind(member.get("/api/inbox").json(), "request_offered"),
                             message="the offer in the member's inbox")
    assert "法律咨询" in offer["title"]
    assert member.post(f"/api/requests/{request['id']}/claim").status_code == 200
    other = platform.login("13800000001")  # 张伟, also offered, too late
    late = other.post(f"/api/requests/{request['id']}/claim")
    assert late.status_code == 409 and late.json()["error"]["current_state"] == "claimed"
    resp = member.post(f"/api/requests/{request['id']}/complete", {"reason": "已电话解答并上门讲解"})
    assert resp.status_code == 200 and resp.json()["state"] == "done"
    done_msg = support.wait_for(lambda: _kind(resident.get("/api/inbox").json(), "request_completed"),
                                message="the completion message to the resident")
    assert "评价" in done_msg["body"]
    bad_rating = resident.post(f"/api/requests/{request['id']}/confirm", {"rating": 9})
    assert bad_rating.status_code == 400 and "rating" in bad_rating.json()["error"]["fields"]
    resp = resident.post(f"/api/requests/{request['id']}/confirm", {"rating": 5, "comment": "很专业"})
    assert resp.status_code == 200 and resp.json()["state"] == "closed"

    # 4. scoring credits the member from dispatch's event
    points = support.wait_for(
        lambda: (p := member.get(f"/api/members/{member_id}/points").json())["balance"] and p,
        message="points credited")
    assert points["balance"] == legal["points"] + legal["points"] // 2

    # ... exactly once, even when the event is delivered again
    engine = create_engine(platform.urls["dispatch"])
    with engine.connect() as conn:
        payloads = conn.execute(text("SELECT payload FROM outbox WHERE event_type = 'request.confirmed'")).scalars()
        payload = next(p for p in payloads if json.loads(p)["data"]["request_id"] == request["id"])
    engine.dispose()
    EventPublisher(platform.env["AMQP_URI"], "dispatch").publish(json.loads(payload))
    support.wait_queues_idle(platform.vhost)
    assert member.get(f"/api/members/{member_id}/points").json()["balance"] == points["balance"]

    # 6. every step is visible through the gateway
    timeline = resident.get(f"/api/requests/{request['id']}").json()["history"]
    assert [h["action"] for h in timeline] == ["submit", "accept", "dispatch", "claim", "complete", "confirm"]
    assert timeline[-1]["reason"] == "很专业"
    assert staff.get(f"/api/members/{member_id}/points").status_code == 200
    assert resident.get(f"/api/members/{member_id}").json()["phone"] == "139****5678"


def test_bad_input_gets_clear_4xx_never_500(platform):
    resident = platform.login("resident1")
    cases = [
        ("post", "/api/requests", b"{not json", 400, "MALFORMED_JSON"),
        ("post", "/api/requests", {"menu_item_id": "one"}, 400, "VALIDATION_ERROR"),
        ("post", "/api/requests", {"menu_item_id": 1, "surprise": True}, 400, "VALIDATION_ERROR"),
        ("post", "/api/requests", {"menu_item_id": 1, "description": "长" * 4001}, 400, "VALIDATION_ERROR"),
        ("post", "/api/requests", {"menu_item_id": 99999}, 404, "MENU_ITEM_NOT_FOUND"),
        ("post", "/api/requests", b"x" * 300_000, 413, "PAYLOAD_TOO_LARGE"),
        ("post", "/api/members", {"name": "x"}, 403, "FORBIDDEN"),
        ("get", "/api/requests/99999", None, 404, "REQUEST_NOT_FOUND"),
        ("get", "/api/nowhere", None, 404, "ROUTE_NOT_FOUND"),
    ]
    for method, path, body, status, code in cases:
        if isinstance(body, bytes):
            resp = resident.session.request(method, platform.url(path), data=body, timeout=10)
        else:
            resp = getattr(resident, method)(path, **({"json": body} if body is not None else {}))
        assert resp.status_code == status, (path, body if not isinstance(body, bytes) else body[:20], resp.text)
        assert resp.json()["error"]["code"] == code
        assert resp.json()["error"]["message"]
    anonymous = _response(platform.url("/api/requests"))
    assert anonymous.status_code == 401 and anonymous.json()["error"]["code"] == "UNAUTHORIZED"
    wrong = _post(platform.url("/api/auth/login"), {"username": "resident1", "password": "nope"})
    assert wrong.status_code == 401 and wrong.json()["error"]["code"] == "INVALID_CREDENTIALS"


def test_openapi_lists_every_endpoint_with_tags(platform):
    doc = _ok(platform.url("/openapi.json"))
    assert doc["openapi"].startswith("3.")
    tags = {op["tags"][0] for ops in doc["paths"].values() for op in ops.values()}
    assert {"auth", "registration", "dispatch", "scoring", "notifications"} <= tags
    submit = doc["paths"]["/api/requests"]["post"]
    assert "resident" in submit["x-roles"] and "member" not in submit["x-roles"]
    assert "menu_item_id" in json.dumps(doc["components"]["schemas"])
    assert "宝岛" in _response(platform.url("/docs")).text
    console = _response(platform.url("/"))
    assert console.headers["Content-Type"].startswith("text/html") and 'id="app"' in console.text


def test_run_without_broker_explains_how_to_start_it(tmp_path):
    env = {"AMQP_URI": f"amqp://guest:guest@127.0.0.1:{support.free_port()}/", "BAODAO_DATA_DIR": str(tmp_path),
           "PATH": "/usr/bin:/bin"}
    done = subprocess.run([sys.executable, "-m", "cli.main", "run"], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=60)
    assert done.returncode == 1
    assert "rabbitmq-server -detached" in done.stderr
    assert "Traceback" not in done.stderr


def _response(url):
    return requests.get(url, timeout=10)


def _post(url, body):
    return requests.post(url, json=body, timeout=10)


def _ok(url):
    resp = _response(url)
    return resp.json() if resp.status_code == 200 else None


def _kind(inbox, kind):
    return next((m for m in inbox["messages"] if m["kind"] == kind), None)
