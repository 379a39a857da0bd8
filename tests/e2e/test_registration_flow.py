"""双报到 over HTTP: a member signs up and is accepted, a roster is imported (bad rows first), the talent
pool is exported, a work unit reports in, and the e-volunteer card answers."""

import io
from datetime import datetime

import requests
from openpyxl import load_workbook

from services.registration.domain import id_number_check_char
from tests import support


def _id(n: int) -> str:
    first17 = f"4406041985{n:07d}"
    return first17 + id_number_check_char(first17)


def test_members_and_units_report_in_over_http(platform):
    support.wait_for(lambda: platform.login("staff1"), message="sign-in")
    staff = platform.login("staff1")
    community_id = staff.user["community_id"]
    posts = staff.get(f"/api/communities/{community_id}/posts").json()
    legal = next(p for p in posts if p["name"] == "法律服务")

    # 1. a member reports in themself; the community accepts
    resp = requests.post(platform.url("/api/registrations/signup"), timeout=15, json={
        "name": "钱律师", "phone": "13711112222", "id_number": _id(1), "password": "member-pass-1",
        "community_id": community_id, "skills": ["法律"], "post_ids": [legal["id"]],
        "free_time": [{"preset": "weekday_evenings"}], "commitments": ["每月一次法律咨询"], "work_unit": "某律所"})
    assert resp.status_code == 201, resp.text
    assert resp.json()["status"] == "submitted" and "id" not in resp.json()  # a receipt, the same for all
    applicant = platform.login("13711112222", "member-pass-1")
    assert applicant.user["role"] == "applicant" and applicant.user["registration_status"] == "submitted"
    member_id = applicant.user["user_id"]
    bad = requests.post(platform.url("/api/registrations/signup"), timeout=15, json={
        "name": "错号", "phone": "1371111", "id_number": _id(2)[:17] + "Y", "password": "member-pass-1",
        "community_id": community_id})
    assert bad.status_code == 400 and {"phone", "id_number"} <= set(bad.json()["error"]["fields"])
    pending = staff.get("/api/talent", params={"status": "submitted"}).json()
    assert [m["id"] for m in pending["items"]] == [member_id]
    resp = staff.post(f"/api/members/{member_id}/accept", {})
    assert resp.status_code == 200 and resp.json()["status"] == "accepted"

    # 2. a roster with a bad row is refused whole; the error report downloads as CSV
    header = "姓名,手机号码,身份证号码,工作单位,所在社区,网格,特长,服务岗位,空闲时间\n"
    lines = [f"名册{n},1361111{n:04d},{_id(100 + n)},石湾某厂,东风社区,第一网格,医疗,医疗保健,周末全天\n"
             for n in range(20)]
    broken = lines[:5] + ["坏行,12345,123,石湾某厂,东风社区,第一网格,医疗,,\n"] + lines[5:]
    resp = staff.post("/api/roster/import?filename=roster.csv", data=(header + "".join(broken)).encode("utf-8-sig"),
                      headers={"Content-Type": "text/csv"}, json=None)
    assert resp.status_code == 422, resp.text
    error = resp.json()["error"]
    assert error["code"] == "ROSTER_HAS_ERRORS" and [e["row"] for e in error["errors"]] == [7]
    report = staff.get(error["errors_url"])
    assert report.status_code == 200 and report.headers["Content-Type"].startswith("text/csv")
    text = report.content.decode("utf-8-sig")
    assert text.splitlines()[0] == "行号,原因" and "手机号码" in text and "身份证号码" in text
    assert staff.get("/api/talent", params={"name": "名册"}).json()["total"] == 0  # nothing half-written

    # the platform is shared with other e2e tests: count what is there before the import
    medics_before = staff.get("/api/talent", params={"skill": "医疗", "available_at": "2026-11-28T10:00:00+08:00"}
                              ).json()["total"]
    content = (header + "".join(lines)).encode("utf-8-sig")
    resp = staff.session.post(platform.url("/api/roster/import"), files={"file": ("东风名册.csv", content)},
                              timeout=30)
    assert resp.status_code == 201, resp.text
    assert (resp.json()["created"], resp.json()["unchanged"]) == (20, 0)
    again = staff.session.post(platform.url("/api/roster/import"), files={"file": ("东风名册.csv", content)},
                               timeout=30)
    assert again.status_code == 201 and (again.json()["created"], again.json()["unchanged"]) == (0, 20)

    # 3. talent search and export
    found = staff.get("/api/talent", params={"skill": "医疗", "available_at": "2026-11-28T10:00:00+08:00",
                                             "per_page": 5}).json()
    assert found["total"] == medics_before + 20 and len(found["items"]) == 5  # the roster joins the demo's 李娜
    export = staff.get("/api/talent/export", params={"format": "xlsx"})
    assert export.status_code == 200
    sheet = load_workbook(io.BytesIO(export.content)).active
    rows = list(sheet.iter_rows(values_only=True))
    everyone = staff.get("/api/talent", params={"per_page": 1}).json()["total"]
    assert rows[0][:3] == ("编号", "姓名", "手机号码") and len(rows) == 1 + everyone
    assert {f"名册{n}" for n in range(20)} <= {row[1] for row in rows[1:]}
    assert staff.get("/api/talent", params={"bogus": 1}).status_code == 400

    # 4. a work unit's organisation reports to the community
    unit = platform.login("unit1")
    resp = unit.post(f"/api/work-units/{unit.user['work_unit_id']}/reports",
                     {"community_id": community_id, "commitments": ["每年开展两次义诊"]})
    assert resp.status_code == 201, resp.text
    units = staff.get(f"/api/communities/{community_id}/co-building-units").json()
    assert [u["work_unit_id"] for u in units] == [unit.user["work_unit_id"]]
    # the unit lists its own co-building reports (共建协议); another unit may not
    mine = unit.get(f"/api/work-units/{unit.user['work_unit_id']}/reports").json()
    assert community_id in [r["community_id"] for r in mine] and all(r["community_name"] for r in mine)
    assert platform.login("unit2").get(f"/api/work-units/{unit.user['work_unit_id']}/reports").status_code == 403
    # renewing the commitments keeps the day the unit first reported (报到时间) and records the renewal
    first = next(r for r in mine if r["community_id"] == community_id)
    renewed = unit.post(f"/api/work-units/{unit.user['work_unit_id']}/reports",
                        {"community_id": community_id, "commitments": ["每年开展两次义诊", "结对帮扶困难家庭3户"]})
    assert renewed.status_code == 201, renewed.text
    assert renewed.json()["reported_at"] == first["reported_at"]
    assert datetime.fromisoformat(renewed.json()["renewed_at"]) >= datetime.fromisoformat(first["reported_at"])
    assert datetime.fromisoformat(renewed.json()["renewed_at"]).utcoffset() is not None

    # 5. the e-volunteer card, for the member and their staff; the phone masked to others
    member = platform.login("13711112222", "member-pass-1")
    card = member.get(f"/api/members/{member_id}/card")
    assert card.status_code == 200, card.text
    body = card.json()
    assert body["member"]["posts"][0]["name"] == "法律服务" and body["services"]["count"] == 0
    assert "points_available" in body
    assert platform.login("resident1").get(f"/api/members/{member_id}").json()["phone"] == "137****2222"
    assert platform.login("resident1").get(f"/api/members/{member_id}/card").status_code == 403
