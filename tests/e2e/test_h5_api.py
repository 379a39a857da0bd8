"""What the resident and member H5 needs of the API, over HTTP with real logins: the member sees
the resident's words, address and (once they claimed) phone; several hands ("1/2 已接"); claim,
decline, hand back, cancel; the open list; residents in community activities with check-in by code."""

from datetime import UTC, datetime, timedelta

from tests import support

PHONE = "13912345678"


def _order(resident, item, **extra):
    return resident.post("/api/requests", {"menu_item_id": item["id"], "fields": {"floor": "high"},
                                           "description": "衣柜太重，一个人搬不动", "address": "3栋502",
                                           "contact_phone": PHONE,
                                           "preferred_time": "2026-12-20T09:30:00+08:00", **extra})


def test_member_serves_with_everything_the_resident_wrote(platform):
    staff, resident, street = platform.login("staff1"), platform.login("resident1"), platform.login("street")
    first, second = platform.login("13800000003"), platform.login("13800000004")
    community = staff.user["community_id"]
    resp = staff.post(f"/api/communities/{community}/menu", {
        "title": "搬运重物", "category": "公益服务", "members_needed": 2, "points": 6,
        "skills": ["搬运"],  # no demo member has it: nobody is offered it but whom staff choose
        "fields": [{"code": "floor", "description": "楼层", "datatype": "singlevaluelist", "required": True,
                    "values": [{"key": "low", "name": "1–3层"}, {"key": "high", "name": "4层及以上（无电梯）"}]}]})
    assert resp.status_code == 201, resp.text
    item = resp.json()

    # bad input: Chinese messages beside the field they concern
    missing = resident.post("/api/requests", {"menu_item_id": item["id"], "fields": {}})
    assert missing.status_code == 400
    assert missing.json()["error"]["fields"]["fields"]["floor"] == ["“楼层”为必填项"]
    bad_phone = _order(resident, item, contact_phone="电话")
    assert bad_phone.status_code == 400 and bad_phone.json()["error"]["fields"]["contact_phone"] == ["电话号码格式不对"]

    resp = _order(resident, item)
    assert resp.status_code == 201, resp.text
    mine = resp.json()
    rid = mine["id"]
    assert mine["contact_phone"] == PHONE and not mine["contact_masked"] and mine["address"] == "3栋502"
    assert mine["preferred_time"].endswith("+00:00") or "+" in mine["preferred_time"]
    assert mine["answer_items"] == [{"code": "floor", "label": "楼层", "value": "4层及以上（无电梯）"}]
    assert mine["my_actions"] == ["cancel"] and mine["contact_name"] == resident.user["name"]
    assert mine["offered_to"] == [] and mine["open_to_all"]

    resp = staff.post(f"/api/requests/{rid}/offer", {"member_ids": [first.user["user_id"]], "open_to_all": True})
    assert resp.status_code == 200, resp.text
    assert resp.json()["contact_phone"] == PHONE  # the community's staff see it whole

    # offered, not yet claimed: the member reads what to do and where, the phone masked
    offer = next(r for r in first.get("/api/requests").json() if r["id"] == rid)
    assert offer["description"] == "衣柜太重，一个人搬不动" and offer["address"] == "3栋502"
    assert offer["contact_masked"] and offer["contact_phone"] == "139****5678"
    assert offer["answer_items"][0]["value"] == "4层及以上（无电梯）"
    assert set(offer["my_actions"]) == {"claim", "decline"}
    assert (offer["members_claimed"], offer["members_needed"]) == (0, 2)
    assert street.get(f"/api/requests/{rid}").json()["contact_masked"]

    claimed = first.post(f"/api/requests/{rid}/claim")
    assert claimed.status_code == 200, claimed.text
    body = claimed.json()
    assert (body["members_claimed"], body["members_needed"], body["state"]) == (1, 2, "dispatched")
    assert body["contact_phone"] == PHONE and body["my_actions"] == ["hand_back"]

    # the second hand finds it open to all in the community
    open_list = second.get("/api/requests/open")
    assert open_list.status_code == 200, open_list.text
    found = next(r for r in open_list.json() if r["id"] == rid)
    assert found["my_actions"] == ["claim"] and found["contact_masked"]
    assert second.post(f"/api/requests/{rid}/decline", {}).json()["error"]["code"] == "NOT_OFFERED"
    assert resident.get("/api/requests/open").status_code == 403
    assert second.post(f"/api/requests/{rid}/claim").json()["state"] == "claimed"
    back = second.post(f"/api/requests/{rid}/hand-back", {"reason": "临时加班"})
    assert back.status_code == 200 and (back.json()["state"], back.json()["members_claimed"]) == ("dispatched", 1)
    assert second.post(f"/api/requests/{rid}/hand-back", {"reason": "x"}).status_code == 403
    assert second.post(f"/api/requests/{rid}/claim").json()["state"] == "claimed"

    assert first.post(f"/api/requests/{rid}/start").json()["state"] == "in_service"
    resp = first.post(f"/api/requests/{rid}/complete", {})
    assert resp.status_code == 200 and resp.json()["state"] == "done", resp.text
    view = resident.get(f"/api/requests/{rid}").json()
    assert view["my_actions"] == ["confirm"] and view["completed_at"]
    assert [h["action_label"] for h in view["history"]][:2] == ["提交", "受理"]
    done = resident.post(f"/api/requests/{rid}/confirm", {"rating": 5, "comment": "两位党员很细心"})
    assert done.status_code == 200 and done.json()["state"] == "closed" and done.json()["my_actions"] == []

    # a resident cancels before anyone serves
    other = _order(resident, item).json()
    cancelled = resident.post(f"/api/requests/{other['id']}/cancel", {"reason": "已自行解决"})
    assert cancelled.status_code == 200 and cancelled.json()["state"] == "cancelled"
    assert cancelled.json()["my_actions"] == []
    staff.session.patch(platform.url(f"/api/menu-items/{item['id']}"), json={"active": False}, timeout=15)


def test_resident_joins_a_community_activity_and_checks_in_by_code(platform):
    staff, resident = platform.login("staff1"), platform.login("resident1")
    member = platform.login("13800000004")
    now = datetime.now(UTC)
    resp = staff.post("/api/activities", {
        "title": "楼道清洁日", "place": "东风社区广场", "places": 1,
        "starts_at": (now + timedelta(minutes=10)).isoformat(), "ends_at": (now + timedelta(hours=2)).isoformat()})
    assert resp.status_code == 201, resp.text
    aid = resp.json()["id"]
    party_day = staff.post("/api/activities", {
        "title": "主题党日", "kind": "party_day", "places": 5,
        "starts_at": (now + timedelta(days=3)).isoformat(), "ends_at": (now + timedelta(days=3, hours=2)).isoformat()})
    assert party_day.status_code == 201, party_day.text

    listed = {a["id"] for a in resident.get("/api/activities").json()}
    assert aid in listed and party_day.json()["id"] not in listed
    refused = resident.post(f"/api/activities/{party_day.json()['id']}/signup")
    assert refused.status_code == 403 and "党员" in refused.json()["error"]["message"]

    assert member.post(f"/api/activities/{aid}/signup").json()["status"] == "confirmed"
    waiting = resident.post(f"/api/activities/{aid}/signup")
    assert waiting.status_code == 201 and (waiting.json()["status"], waiting.json()["position"]) == ("waitlisted", 1)
    mine = [s for s in resident.get("/api/activities/mine").json() if s["activity_id"] == aid]
    assert mine[0]["position"] == 1 and mine[0]["activity"]["title"] == "楼道清洁日"
    # the member leaves: the resident moves up from the wait list
    assert member.session.delete(platform.url(f"/api/activities/{aid}/signup"), timeout=15).status_code == 200
    assert resident.get(f"/api/activities/{aid}").json()["my_status"] == "confirmed"

    code = staff.get(f"/api/activities/{aid}/code").json()["code"]
    wrong = resident.post(f"/api/activities/{aid}/check-in", {"code": "000000" if code != "000000" else "111111"})
    assert wrong.status_code in (400, 409, 422) and wrong.json()["error"]["message"]
    checked = resident.post(f"/api/activities/{aid}/check-in", {"code": code})
    assert checked.status_code == 200, checked.text
    assert checked.json()["checked_in_at"]
    staff.post(f"/api/activities/{aid}/cancel", {"reason": "测试结束"})
    staff.post(f"/api/activities/{party_day.json()['id']}/cancel", {"reason": "测试结束"})


def test_inbox_pages_newest_first(platform):
    resident = platform.login("resident1")
    # the first test's request sent the resident several messages; wait until three are in
    support.wait_for(lambda: len(resident.get("/api/inbox").json()["messages"]) >= 3, timeout=20,
                     message="three messages in the resident's inbox")
    first = resident.get("/api/inbox", params={"limit": 2}).json()
    assert len(first["messages"]) == 2 and first["has_more"] is True
    ids = [m["id"] for m in first["messages"]]
    assert ids == sorted(ids, reverse=True)
    second = resident.get("/api/inbox", params={"limit": 2, "before_id": ids[-1]}).json()
    assert second["messages"] and all(m["id"] < ids[-1] for m in second["messages"])
    assert second["unread"] == first["unread"]
    bad = resident.get("/api/inbox", params={"limit": 0})
    assert bad.status_code == 400 and "limit" in bad.json()["error"]["fields"]
