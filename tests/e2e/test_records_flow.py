"""The volunteer record through the gateway on the whole platform, with real logins: hours stated
at completion and confirmed or corrected by the organiser, the record and its star level, the
certificate PDF and its public verification, revocation, transfer with consent, exports."""

import csv
import io
import re
from datetime import UTC, datetime, timedelta

import requests
from openpyxl import load_workbook
from pypdf import PdfReader

from tests import support

CHINA_TODAY = (datetime.now(UTC) + timedelta(hours=8)).date().isoformat()


def _served_request(staff, resident, member, item_id, *, hours=None):
    """A resident's order, offered to and served by ``member``, completed with ``hours`` stated."""
    rid = resident.post("/api/requests", {"menu_item_id": item_id, "fields": {}}).json()["id"]
    if staff.get(f"/api/requests/{rid}").json()["state"] == "submitted":
        assert staff.post(f"/api/requests/{rid}/accept", {}).status_code == 200
    offer = staff.post(f"/api/requests/{rid}/offer", {"member_ids": [member.user["user_id"]]})
    assert offer.status_code == 200, offer.text
    assert member.post(f"/api/requests/{rid}/claim").status_code == 200
    assert member.post(f"/api/requests/{rid}/start").status_code == 200
    return rid, member.post(f"/api/requests/{rid}/complete", {} if hours is None else {"hours": hours})


def _queued(staff, rid):
    got = staff.get("/api/records/queue")
    assert got.status_code == 200, got.text
    return next((e for e in got.json() if e["source"] == "request"
                 and e["ref_id"] == rid), None)


def _text(pdf_bytes: bytes) -> str:
    # pypdf reads fpdf2's 4-byte ToUnicode entries as a NUL before each character: drop them
    return re.sub(r"[\s\x00]+", "", "".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf_bytes)).pages))


def test_hours_are_stated_confirmed_corrected_and_only_confirmed_hours_count(platform):
    staff = platform.login("staff1")
    resident = platform.login("resident1")
    zhang = platform.login("13800000001")  # 张伟, 东风社区
    community = staff.user["community_id"]
    me = zhang.user["user_id"]
    before = zhang.get(f"/api/members/{me}/record")
    assert before.status_code == 200, before.text
    before = before.json()
    assert before["name"] == "张伟" and before["id_number_masked"].startswith("4406") and "*" in \
        before["id_number_masked"]
    card_before = zhang.get(f"/api/members/{me}/card").json()["services"]["hours"]

    # the menu item sets the bounds of the hours a member may state (no travel)
    item = staff.post(f"/api/communities/{community}/menu", {
        "title": "=HYPERLINK(\"x\")法律咨询", "category": "公共事务", "skills": ["法律"],
        "default_hours": 1, "min_hours": 0.5, "max_hours": 3})
    assert item.status_code == 201, item.text
    assert (item.json()["default_hours"], item.json()["min_hours"], item.json()["max_hours"]) == (1, 0.5, 3)
    bad = staff.post(f"/api/communities/{community}/menu", {"title": "x", "category": "y", "min_hours": 4,
                                                             "max_hours": 2})
    assert bad.status_code == 400 and bad.json()["error"]["code"] == "INVALID_HOUR_BOUNDS"
    item_id = item.json()["id"]

    # stated within the bounds; 0 or too many hours are refused with a Chinese message
    rid1, done = _served_request(staff, resident, zhang, item_id, hours=5)
    assert done.status_code == 400 and done.json()["error"]["code"] == "HOURS_OUT_OF_RANGE"
    assert "不含路途" in done.json()["error"]["fields"]["hours"][0]
    assert zhang.post(f"/api/requests/{rid1}/complete", {"hours": 0}).status_code == 400
    done = zhang.post(f"/api/requests/{rid1}/complete", {"hours": 2.5})
    assert done.status_code == 200 and done.json()["stated_hours"] == 2.5, done.text
    assert done.json()["hours_bounds"] == {"default": 1.0, "min": 0.5, "max": 3.0}
    # started and completed a moment apart, nothing stated: the item's default, never 0
    rid2, done = _served_request(staff, resident, zhang, item_id)
    assert done.status_code == 200 and (done.json()["stated_hours"], done.json()["hours_source"]) == (1.0, "default")

    first = support.wait_for(lambda: _queued(staff, rid1), message="the stated hours in the queue", timeout=60)
    second = support.wait_for(lambda: _queued(staff, rid2), message="the default hours in the queue", timeout=60)
    assert (first["stated_hours"], first["status"], first["organisation"]) == (2.5, "stated", "东风社区")
    assert second["hours_source"] == "default" and second["confirmed_hours"] is None
    assert platform.login("13800000003").get("/api/records/queue").status_code == 403  # a member, no secretary
    assert platform.login("staff2").post(f"/api/records/entries/{first['id']}/confirm", {}).status_code == 403
    # stated hours count for nothing until confirmed
    assert zhang.get(f"/api/members/{me}/record").json()["confirmed_hours"] == before["confirmed_hours"]

    ok = staff.post(f"/api/records/entries/{first['id']}/confirm", {})
    assert ok.status_code == 200 and (ok.json()["status"], ok.json()["confirmed_hours"]) == ("confirmed", 2.5)
    no_reason = staff.post(f"/api/records/entries/{second['id']}/confirm", {"hours": 1.5})
    assert no_reason.status_code == 400 and no_reason.json()["error"]["code"] == "REASON_REQUIRED"
    fixed = staff.post(f"/api/records/entries/{second['id']}/confirm", {"hours": 1.5, "reason": "实际服务一个半小时"})
    assert fixed.status_code == 200 and fixed.json()["confirmed_hours"] == 1.5
    assert [(a["action"], a["from_hours"], a["to_hours"]) for a in fixed.json()["audit"]] == [
        ("state", None, 1.0), ("correct", 1.0, 1.5)]
    assert fixed.json()["audit"][-1]["reason"] == "实际服务一个半小时"

    record = zhang.get(f"/api/members/{me}/record").json()
    assert record["confirmed_hours"] == before["confirmed_hours"] + 4.0
    assert record["volunteer_star"]["level"] == 0 and record["volunteer_star"]["next_level_at"] == 100
    # the e-volunteer card shows confirmed hours only
    support.wait_for(lambda: zhang.get(f"/api/members/{me}/card").json()["services"]["hours"]
                     == card_before + 4.0, message="confirmed hours on the card", timeout=60)

    # trainings, awards, complaints with handling and outcome, each attributed to who recorded it
    assert staff.post("/api/records/trainings", {"member_ids": [me], "title": "志愿服务礼仪培训", "hours": 2,
                                                 "held_on": CHINA_TODAY}).status_code == 201
    assert staff.post("/api/records/awards", {"member_id": me, "title": "优秀志愿者",
                                              "awarded_on": CHINA_TODAY}).status_code == 201
    complaint = staff.post("/api/records/complaints", {"member_id": me, "summary": "上门服务迟到", "received_on":
                                                       CHINA_TODAY})
    assert complaint.status_code == 201
    handled = staff.post(f"/api/records/complaints/{complaint.json()['id']}/handle",
                         {"handling": "电话回访居民并与党员谈话", "outcome": "partly_upheld"})
    assert handled.status_code == 200 and handled.json()["outcome_label"] == "部分属实"
    record = zhang.get(f"/api/members/{me}/record").json()
    assert "志愿服务礼仪培训" in [t["title"] for t in record["trainings"]]
    assert record["awards"][0]["organisation"] == "东风社区" and record["complaints"][0]["status"] == "closed"

    # the certificate: issued by the community that recorded the service
    body = {"member_id": me, "since": CHINA_TODAY, "until": CHINA_TODAY}
    issued = staff.post("/api/records/certificates", body, headers={"Idempotency-Key": "cert-e2e-1"})
    assert issued.status_code == 201, issued.text
    cert = issued.json()
    retried = staff.post("/api/records/certificates", body, headers={"Idempotency-Key": "cert-e2e-1"})
    assert retried.json()["number"] == cert["number"]  # a retried issue is one certificate
    assert cert["hours"] >= 4.0 and cert["issuer_name"] == "东风社区" and cert["valid"]
    pdf = zhang.get(f"/api/records/certificates/{cert['number']}/pdf")
    assert pdf.status_code == 200 and pdf.headers["Content-Type"] == "application/pdf"
    text = _text(pdf.content)
    for expected in ("志愿服务证明", "张伟", f"{cert['hours']:g}小时", "东风社区", cert["number"],
                     cert["id_number_masked"], cert["volunteer_number"]):
        assert expected in text, expected
    assert platform.login("13800000002").get(f"/api/records/certificates/{cert['number']}/pdf").status_code == 403

    # anyone may verify it, without signing in, and sees no personal facts
    page = requests.get(platform.url(f"/verify/{cert['number']}"), timeout=10)
    assert page.status_code == 200 and "该证明真实有效" in page.text and "东风社区" in page.text
    assert "张伟" not in page.text and cert["id_number_masked"] not in page.text
    assert requests.get(platform.url(f"/api/verify/{cert['number']}"), timeout=10).json()["valid"] is True
    unknown = requests.get(platform.url("/verify/ZM-2026-999999-XXXX"), timeout=10)
    assert unknown.status_code == 404 and "未找到" in unknown.text
    assert platform.login("staff2").post(f"/api/records/certificates/{cert['number']}/revoke",
                                         {"reason": "x"}).status_code == 403
    revoked = staff.post(f"/api/records/certificates/{cert['number']}/revoke", {"reason": "时长统计有误，重新出具"})
    assert revoked.status_code == 200 and revoked.json()["valid"] is False
    page = requests.get(platform.url(f"/verify/{cert['number']}"), timeout=10)
    assert "已撤销" in page.text and "不再有效" in page.text
    assert requests.get(platform.url(f"/api/verify/{cert['number']}"), timeout=10).json()["status"] == "revoked"

    # the export: exactly the confirmed entries the community recorded, formulas defused
    confirmed = sorted((e["id"], e["confirmed_hours"]) for e in zhang.get(f"/api/members/{me}/record").json()
                       ["entries"] if e["status"] == "confirmed" and e["community_id"] == community)
    got = staff.get("/api/records/export", params={"format": "csv", "since": CHINA_TODAY})
    assert got.status_code == 200 and got.headers["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(got.content.decode("utf-8-sig"))))
    assert rows[0][:7] == ["志愿者姓名", "志愿者编号", "记录组织", "服务项目/活动", "服务日期", "服务地点",
                           "确认时长（小时）"]
    mine = sorted((int(r[8]), float(r[6])) for r in rows[1:] if r[0] == "张伟")
    assert mine == confirmed
    assert all(r[3].startswith("'=") for r in rows[1:] if "HYPERLINK" in r[3])
    book = load_workbook(io.BytesIO(staff.get("/api/records/export", params={"format": "xlsx"}).content))
    sheet_rows = list(book.active.iter_rows(values_only=True))
    assert sorted((r[8], r[6]) for r in sheet_rows[1:] if r[0] == "张伟" and r[4] == CHINA_TODAY) == confirmed
    assert zhang.get("/api/records/export").status_code == 403


def test_the_record_moves_to_the_new_community_once_the_member_consents(platform):
    staff1, staff2 = platform.login("staff1"), platform.login("staff2")
    liu = platform.login("13800000004")  # 刘洋, 东风社区
    me = liu.user["user_id"]
    support.wait_for(lambda: liu.get(f"/api/members/{me}/record").status_code == 200, message="刘洋's record",
                     timeout=60)
    assert staff1.post("/api/records/trainings", {"member_ids": [me], "title": "助老服务培训", "hours": 3,
                                                  "held_on": CHINA_TODAY}).status_code == 201
    assert staff2.get(f"/api/members/{me}/record").status_code == 403
    moved = staff1.post(f"/api/members/{me}/transfer", {"community_id": staff2.user["community_id"],
                                                         "reason": "搬家到跃进社区"})
    assert moved.status_code == 200, moved.text
    # the move waits for the new community (#11); 刘洋's old token ended with the move
    assert staff2.post(f"/api/members/{me}/accept", {}).status_code == 200
    liu = platform.login("13800000004")

    def pending():
        transfers = liu.get(f"/api/members/{me}/record").json()["transfers"]
        return next((t for t in transfers if t["status"] == "pending"), None)

    transfer = support.wait_for(pending, message="a transfer awaiting consent", timeout=60)
    assert (transfer["from_organisation"], transfer["to_organisation"]) == ("东风社区", "跃进社区")
    refused = staff2.get(f"/api/members/{me}/record")
    assert refused.status_code == 403 and refused.json()["error"]["code"] == "TRANSFER_NOT_CONSENTED"
    assert staff2.post(f"/api/records/transfers/{transfer['id']}/decide", {"consent": True}).status_code == 403
    yes = liu.post(f"/api/records/transfers/{transfer['id']}/decide", {"consent": True})
    assert yes.status_code == 200 and yes.json()["status"] == "consented"
    assert liu.post(f"/api/records/transfers/{transfer['id']}/decide", {"consent": True}).status_code == 409
    record = staff2.get(f"/api/members/{me}/record")
    assert record.status_code == 200 and record.json()["organisation"] == "跃进社区"
    # entries stay attributed to the organisation that recorded them
    training = next(t for t in record.json()["trainings"] if t["title"] == "助老服务培训")
    assert training["organisation"] == "东风社区"


def test_the_e_branch_secretary_confirms_and_attendance_arrives_confirmed(platform):
    from common.db import EventPublisher, envelope

    staff = platform.login("staff1")
    resident = platform.login("resident1")
    zhang = platform.login("13800000001")  # secretary of 东风社区's e-branch in the demo
    li = platform.login("13800000002")  # 李娜, a member of that e-branch
    me = li.user["user_id"]
    record = support.wait_for(lambda: (r := li.get(f"/api/members/{me}/record")).status_code == 200 and r.json(),
                              message="李娜's record", timeout=60)
    assert "社区志愿服务基础培训" in [t["title"] for t in record["trainings"]]  # the demo's training

    item = staff.post(f"/api/communities/{staff.user['community_id']}/menu", {
        "title": "上门问诊", "category": "社区建设", "skills": ["医疗"], "min_hours": 0.5, "max_hours": 4}).json()
    rid, done = _served_request(staff, resident, li, item["id"], hours=2)
    assert done.status_code == 200, done.text

    def queued():
        got = zhang.get("/api/records/queue?limit=500")  # the shared platform holds other tests' entries too
        assert got.status_code == 200, got.text
        return next((e for e in got.json() if e["ref_id"] == rid and e["source"] == "request"), None)

    entry = support.wait_for(queued, message="李娜's hours in her secretary's queue", timeout=60)
    assert all(e["member_id"] != zhang.user["user_id"] for e in zhang.get("/api/records/queue").json())
    assert li.post(f"/api/records/entries/{entry['id']}/confirm", {}).status_code == 403  # not her own
    ok = zhang.post(f"/api/records/entries/{entry['id']}/confirm", {})
    assert ok.status_code == 200 and ok.json()["confirmed_role"] == "member", ok.text

    # an activity's settled attendance (the leader's marks) arrives confirmed and counts at once
    before = li.get(f"/api/members/{me}/record").json()["confirmed_hours"]
    EventPublisher(platform.env["AMQP_URI"], "activities").publish(envelope("activities", "activity.attended", {
        "activity_id": 990001, "community_id": staff.user["community_id"], "title": "登革热清积水",
        "starts_at": datetime.now(UTC).isoformat(), "ends_at": datetime.now(UTC).isoformat(), "place": "东风公园",
        "member_id": me, "hours": 3.0}))
    record = support.wait_for(lambda: (r := li.get(f"/api/members/{me}/record").json())["confirmed_hours"]
                              == before + 3.0 and r, message="attendance hours confirmed", timeout=60)
    came = next(e for e in record["entries"] if e["source"] == "activity" and e["ref_id"] == 990001)
    assert (came["status"], came["hours_source"], came["place"]) == ("confirmed", "attendance", "东风公园")


def test_a_micro_wish_has_no_hours_until_the_organiser_gives_them(platform):
    staff = platform.login("staff1")
    wang = platform.login("13800000003")  # 王强
    wish = staff.post("/api/wishes", {"title": "修好楼道的灯", "beneficiary": "独居老人 陈伯"}).json()
    assert wang.post(f"/api/wishes/{wish['id']}/claim", {}).status_code == 200
    assert wang.post(f"/api/wishes/{wish['id']}/fulfil", {"note": "已换灯泡"}).status_code == 200
    assert staff.post(f"/api/wishes/{wish['id']}/confirm", {}).status_code == 200

    def queued():
        return next((e for e in staff.get("/api/records/queue").json()
                     if e["source"] == "wish" and e["ref_id"] == wish["id"]), None)

    entry = support.wait_for(queued, message="the wish in the confirmation queue", timeout=60)
    assert (entry["stated_hours"], entry["hours_source"], entry["title"]) == (None, "none", "微心愿：修好楼道的灯")
    missing = staff.post(f"/api/records/entries/{entry['id']}/confirm", {})
    assert missing.status_code == 400 and missing.json()["error"]["code"] == "HOURS_REQUIRED"
    given = staff.post(f"/api/records/entries/{entry['id']}/confirm", {"hours": 1})
    assert given.status_code == 200 and given.json()["confirmed_hours"] == 1.0
