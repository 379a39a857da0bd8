"""The volunteer record's console screens in a real browser: the confirmation queue, the
certificates page and the public verification page (screenshots + axe)."""

import requests

from tests import support
from tests.e2e.test_records_flow import CHINA_TODAY, _queued, _served_request


def test_staff_confirm_hours_and_see_certificates_and_verification(screen, web):
    staff, resident, zhang = web.login("staff1"), web.login("resident1"), web.login("13800000001")
    item = staff.post(f"/api/communities/{staff.user['community_id']}/menu", {
        "title": "法律援助咨询", "category": "公共事务", "skills": ["法律"], "min_hours": 0.5, "max_hours": 4}).json()
    rid, done = _served_request(staff, resident, zhang, item["id"], hours=1.5)
    assert done.status_code == 200, done.text
    support.wait_for(lambda: _queued(staff, rid), message="the entry in the queue", timeout=60)

    screen.sign_in("staff1")
    screen.page.wait_for_url("**/community")
    screen.goto("/records/queue")
    row = screen.page.get_by_role("row").filter(has_text="法律援助咨询").first
    row.wait_for()
    assert "1.5 小时" in row.inner_text() and "张伟" in row.inner_text()
    screen.shot("queue")
    row.get_by_role("button", name="确认").click()
    screen.page.get_by_text("已确认 张伟 的服务时长").wait_for()
    assert _queued(staff, rid) is None

    cert = staff.post("/api/records/certificates", {"member_id": zhang.user["user_id"], "since": CHINA_TODAY,
                                                    "until": CHINA_TODAY}).json()
    screen.goto("/records/certificates")
    screen.page.get_by_text(cert["number"]).wait_for()
    screen.shot("certificates")
    screen.goto("/records/trainings")
    screen.page.get_by_label("培训名称").wait_for()
    screen.shot("trainings")
    screen.goto("/records/complaints")
    screen.page.get_by_label("投诉内容").wait_for()
    screen.shot("complaints")

    screen.goto(f"/verify/{cert['number']}")
    screen.page.get_by_text("该证明真实有效").wait_for()
    screen.shot("verify")
    assert requests.get(web.url(f"/verify/{cert['number']}"), timeout=10).status_code == 200
