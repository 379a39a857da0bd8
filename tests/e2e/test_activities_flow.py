"""Activities over HTTP through the whole platform: publish, sign up, wait list, check in, report."""

from datetime import UTC, datetime, timedelta

import requests

from tests import support


def _iso(dt):
    return dt.isoformat()


def test_activity_from_publishing_to_check_in_over_http(platform):
    support.wait_for(lambda: _health(platform), message="health 200")
    staff = platform.login("staff1")
    zhang = platform.login("13800000001")  # 东风社区
    li = platform.login("13800000002")  # 东风社区
    chen = platform.login("13800000005")  # 跃进社区: not this activity's audience

    starts = datetime.now(UTC) + timedelta(minutes=10)
    body = {"title": "主题党日：社区环境整治", "kind": "party_day", "place": "东风社区党群服务中心",
            "starts_at": _iso(starts), "ends_at": _iso(starts + timedelta(hours=2)),
            "signup_deadline": _iso(starts), "places": 1, "skills": ["助老"]}
    resp = staff.post("/api/activities", body, headers={"Idempotency-Key": "act-e2e-1"})
    assert resp.status_code == 201, resp.text
    activity = resp.json()
    again = staff.post("/api/activities", body, headers={"Idempotency-Key": "act-e2e-1"})
    assert again.json()["id"] == activity["id"]  # a retried publish does not publish twice
    aid = activity["id"]

    listed = zhang.get("/api/activities").json()
    assert aid in [a["id"] for a in listed]
    assert aid not in [a["id"] for a in chen.get("/api/activities").json()]

    first = zhang.post(f"/api/activities/{aid}/signup")
    assert first.status_code == 201 and first.json()["status"] == "confirmed", first.text
    second = li.post(f"/api/activities/{aid}/signup")
    assert second.status_code == 201 and second.json()["status"] == "waitlisted"
    assert second.json()["position"] == 1
    assert zhang.post(f"/api/activities/{aid}/signup").json()["error"]["code"] == "ALREADY_SIGNED_UP"
    outsider = chen.post(f"/api/activities/{aid}/signup")
    assert outsider.status_code == 403 and outsider.json()["error"]["code"] == "NOT_IN_AUDIENCE"

    # 张伟 withdraws: 李娜 moves up from the wait list
    gone = zhang.session.delete(platform.url(f"/api/activities/{aid}/signup"), timeout=15)
    assert gone.status_code == 200 and gone.json()["status"] == "cancelled"
    assert li.get(f"/api/activities/{aid}").json()["my_status"] == "confirmed"
    mine = li.get("/api/activities/mine").json()
    assert [(m["activity"]["id"], m["status"]) for m in mine] == [(aid, "confirmed")]
    shrink = staff.session.patch(platform.url(f"/api/activities/{aid}"), json={"places": 0}, timeout=15)
    assert shrink.status_code == 400
    grow = staff.session.patch(platform.url(f"/api/activities/{aid}"), json={"places": 3}, timeout=15)
    assert grow.status_code == 200 and grow.json()["places_left"] == 2

    # on site: the leader shows the code, the member types it
    code = staff.get(f"/api/activities/{aid}/code").json()
    assert zhang.get(f"/api/activities/{aid}/code").status_code == 403
    wrong = li.post(f"/api/activities/{aid}/check-in", {"code": "000000" if code["code"] != "000000" else "111111"})
    assert wrong.status_code == 409 and wrong.json()["error"]["code"] == "WRONG_CODE"
    bad = li.post(f"/api/activities/{aid}/check-in", {"code": "abc"})
    assert bad.status_code == 400 and bad.json()["error"]["code"] == "INVALID_CODE_FORMAT"
    checked = li.post(f"/api/activities/{aid}/check-in", {"code": code["qr_payload"]})
    assert checked.status_code == 200 and checked.json()["attendance"] == "present", checked.text
    early_close = staff.post(f"/api/activities/{aid}/close")
    assert early_close.status_code == 409 and early_close.json()["error"]["code"] == "NOT_ENDED"

    report = staff.get(f"/api/activities/{aid}/report").json()
    assert (report["signed_up"], report["attended"]) == (1, 1)
    assert [t["action"] for t in report["trail"]] == ["withdraw", "promote", "check_in"]

    # cancelling: no more sign-ups, with a clear reason
    cancelled = staff.post(f"/api/activities/{aid}/cancel", {"reason": "暴雨橙色预警"})
    assert cancelled.status_code == 200 and cancelled.json()["state"] == "cancelled"
    late = zhang.post(f"/api/activities/{aid}/signup")
    assert late.status_code == 409 and late.json()["error"]["code"] == "ACTIVITY_CANCELLED"
    assert staff.post("/api/activities", {"title": "x"}).status_code == 400
    doc = requests.get(platform.url("/openapi.json"), timeout=10).json()
    assert doc["paths"]["/api/activities/{activity_id}/signup"]["post"]["tags"] == ["activities"]


def _health(platform):
    return requests.get(platform.url("/health"), timeout=10).status_code == 200
