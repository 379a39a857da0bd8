"""Notifications over HTTP on the whole platform: settings, a group robot, the inbox, a street notice."""

import json

from tests import support
from tests.integration.test_notify_delivery import Receiver


def test_staff_configure_a_group_robot_members_hear_and_the_street_notifies_everyone(platform):
    receiver = Receiver()
    try:
        support.wait_for(lambda: _ok(platform, "/health"), message="health")
        staff = platform.login("staff1")
        community_id = staff.user["community_id"]
        resp = staff.session.put(platform.url("/api/notification-channels"), timeout=15, json={
            "community_id": community_id, "channel": "wecom", "config": {"url": f"{receiver.url}/wecom"}})
        assert resp.status_code == 200, resp.text
        bad = staff.session.put(platform.url("/api/notification-channels"), timeout=15, json={
            "community_id": community_id, "channel": "pigeon", "config": {}})
        assert bad.status_code == 400 and bad.json()["error"]["fields"]["channel"]
        preview = staff.post("/api/notification-templates/preview", {"kind": "request_claimed", "fields": {}})
        assert preview.status_code == 200 and preview.json()["missing"] == ["title"]

        member = platform.login("13800000001")  # 张伟, 法律
        prefs = member.session.put(platform.url("/api/notification-preferences"), timeout=15, json={
            "opt_outs": ["activity_published"], "quiet_hours": None})
        assert prefs.status_code == 200 and prefs.json()["opt_outs"] == ["activity_published"]
        refused = member.session.put(platform.url("/api/notification-preferences"), timeout=15,
                                     json={"opt_outs": ["activity_reminder"]})
        assert refused.status_code == 400 and "opt_outs" in refused.json()["error"]["fields"]

        resident = platform.login("resident1")
        menu = resident.get(f"/api/communities/{community_id}/menu").json()
        legal = next(item for item in menu if item["title"] == "法律咨询")
        resp = resident.post("/api/requests", {"menu_item_id": legal["id"], "fields": {"topic": "family"}})
        assert resp.status_code == 201, resp.text

        robot = support.wait_for(lambda: receiver.to("/wecom"), timeout=20, message="the group robot's message")
        assert "【新需求】法律咨询" in json.loads(robot[0]["body"])["text"]["content"]
        offer = support.wait_for(lambda: next((m for m in member.get("/api/inbox").json()["messages"]
                                               if m["kind"] == "request_offered"), None), message="the offer")
        read = member.post(f"/api/inbox/{offer['id']}/read")
        assert read.status_code == 200 and read.json()["read_at"]
        assert resident.post(f"/api/inbox/{offer['id']}/read").status_code == 404  # not theirs

        street = platform.login("street")
        notice = street.post("/api/notices", {"title": "周末环境整治", "body": "请本街道党员周六上午到社区报到。",
                                              "audience": {"street_id": street.user["street_id"]}},
                             headers={"Idempotency-Key": "e2e-notice-1"})
        assert notice.status_code == 202, notice.text
        done = support.wait_for(lambda: (n := street.get(f"/api/notices/{notice.json()['id']}").json())["status"]
                                == "done" and n, message="the street notice")
        assert done["recipients"] >= 6 and done["inbox"] == done["recipients"]
        assert any(m["title"] == "周末环境整治" for m in member.get("/api/inbox").json()["messages"])
        assert member.post("/api/notices", {"title": "x", "body": "y", "audience": {}}).status_code == 403

        district = platform.login("district")
        sent = district.get("/api/notification-deliveries", params={"channel": "wecom"}).json()
        assert [d["status"] for d in sent] == ["sent"]
        assert district.get("/api/notification-deliveries", params={"status": "nope"}).status_code == 400
    finally:
        receiver.close()


def _ok(platform, path):
    resp = platform.login("staff1").session.get(platform.url(path), timeout=10)
    return resp.status_code == 200
