"""Each role's main job in the console, in a real browser on the real platform: what the person
sees, and the effect checked through the API."""

import io
import random
import re
import time

from openpyxl import load_workbook

from services.registration.demo import demo_id_number
from tests import support


def _request(web, resident="resident1", topic="family"):
    who = web.login(resident)
    resp = who.post("/api/requests", {"menu_item_id": 1, "fields": {"topic": topic}, "address": "3栋502"})
    assert resp.status_code == 201, resp.text
    return resp.json()


def _row(page, request_id):
    """The table row of a request, by the number in its first cell."""
    first_cell = page.locator("td:first-child", has_text=re.compile(rf"^\s*{request_id}(\D|$)"))
    return page.locator(".el-table__body tr").filter(has=first_cell).first


def _confirm(page):
    """Element Plus's confirm/prompt box: press its confirm button."""
    page.locator(".el-message-box").get_by_role("button", name=re.compile("确定|合并")).click()


def test_staff_accepts_a_self_registration_and_dispatches_to_a_ranked_candidate(screen, web):
    n = random.randint(300, 999)
    name = f"赵{chr(0x4e00 + n)}"
    signup = web_post(web, "/api/registrations/signup", {
        "name": name, "phone": f"139{n:08d}", "id_number": demo_id_number(n), "community_id": 3,
        "skills": ["法律"], "password": "secret-pass-9", "work_unit": "某律师事务所"})
    assert signup.status_code == 201, signup.text
    staff = web.login("staff1")
    # the sign-up answers with a receipt only (no oracle): staff find the pending member by name
    pending = staff.get("/api/talent", params={"status": "submitted", "name": name, "community_id": 3}).json()
    member_id = next(m["id"] for m in pending["items"] if m["name"] == name)
    page = screen.page

    screen.sign_in("staff1")
    page.wait_for_url("**/community")
    review = page.get_by_role("link", name=re.compile(r"^\s*\d+\s*待审核的党员报到"))
    review.wait_for()  # the counters show numbers, not placeholders
    assert int(review.inner_text().split()[0]) >= 1
    screen.shot("workbench")
    page.get_by_role("link", name=re.compile("待审核的党员报到")).click()
    row = page.locator("tr", has_text=name)
    row.wait_for()
    screen.shot("registrations")
    row.get_by_role("button", name="通过").click()
    _confirm(page)
    page.get_by_text(f"已通过 {name} 的报到").wait_for()
    assert staff.get(f"/api/members/{member_id}").json()["status"] == "accepted"

    request = _request(web)
    page.get_by_role("menuitem", name="服务请求").click()
    _row(page, request["id"]).get_by_role("button", name="办理").click()
    drawer = page.locator(".el-drawer")
    drawer.get_by_text("办理记录").wait_for()
    screen.shot("request-open")
    if staff.get(f"/api/requests/{request['id']}").json()["state"] == "submitted":
        drawer.get_by_role("button", name="受理", exact=True).click()
        page.get_by_text("已受理").first.wait_for()
    support.wait_for(lambda: staff.get(f"/api/requests/{request['id']}").json()["state"] in ("accepted", "dispatched"),
                     message="accepted")
    drawer.get_by_role("button", name=re.compile("^派单|改派")).click()
    candidates = drawer.locator(".el-table__body tr")
    candidates.first.wait_for()
    first = candidates.first.inner_text()
    assert "法律" in first  # the reasons say why this member ranks first
    screen.shot("dispatch-candidates")
    candidates.first.locator(".el-checkbox").click()
    drawer.get_by_role("button", name=re.compile("派给所选党员")).click()
    page.get_by_text(re.compile("已派给")).wait_for()
    after = staff.get(f"/api/requests/{request['id']}").json()
    assert after["state"] == "dispatched" and after["offered_to"], after
    screen.shot("request-drawer")


def web_post(web, path, body):
    import requests

    return requests.post(web.url(path), json=body, timeout=15)


def test_a_new_request_appears_on_the_staff_page_without_a_reload(screen, web):
    screen.sign_in("staff1")
    page = screen.page
    page.wait_for_url("**/community")
    page.get_by_role("menuitem", name="服务请求").click()
    page.locator(".el-table").wait_for()
    page.wait_for_load_state("networkidle")
    page.evaluate("() => { window.__sameDocument = true }")
    request = _request(web, topic="labour")
    started = time.monotonic()
    row = _row(page, request["id"])
    row.wait_for(timeout=5000)
    assert time.monotonic() - started < 5
    assert page.evaluate("() => window.__sameDocument === true")  # no reload happened
    assert row.get_by_text("新", exact=True).is_visible()
    screen.shot("requests-live")


def test_staff_publishes_an_activity_and_opens_its_check_in_qr_page(screen, web):
    screen.sign_in("staff1")
    page = screen.page
    page.wait_for_url("**/community")
    page.get_by_role("menuitem", name="志愿活动").click()
    page.get_by_role("button", name="发布活动").click()
    title = f"楼道清洁志愿活动{random.randint(100, 999)}"
    dialog = page.locator(".el-dialog")
    dialog.get_by_label("活动名称").fill(title)
    dialog.get_by_label("开始时间").fill("2030-05-01 09:00")
    dialog.get_by_label("开始时间").press("Enter")
    dialog.get_by_label("结束时间").fill("2030-05-01 11:30")
    dialog.get_by_label("结束时间").press("Enter")
    dialog.get_by_label("地点").fill("东风社区党群服务中心")
    dialog.get_by_text("发布活动", exact=True).first.click()  # as a person does: a click beside closes the pickers
    for popper in page.locator(".el-picker__popper").all():
        popper.wait_for(state="hidden")
    screen.shot("publish-activity")
    dialog.get_by_role("button", name="发布").click()
    page.get_by_text("活动已发布").wait_for()
    row = page.locator("tr", has_text=title)
    row.wait_for()
    page.locator(".el-dialog", has_text="发布活动").wait_for(state="hidden")  # its closing fade would fail axe
    screen.shot("activities")
    staff = web.login("staff1")
    made = next(a for a in staff.get("/api/activities").json() if a["title"] == title)
    assert made["starts_at"].startswith("2030-05-01T09:00:00+08:00") or made["starts_at"].startswith(
        "2030-05-01T01:00:00+00:00"), made["starts_at"]

    with page.context.expect_page() as opened:
        row.get_by_role("link", name="签到二维码").click()
    checkin = opened.value
    checkin.get_by_text(title).wait_for()
    checkin.locator("img.qr").wait_for()
    code = staff.get(f"/api/activities/{made['id']}/code").json()["code"]
    checkin.get_by_text(code).wait_for()
    screen.page = checkin
    screen.shot("checkin-qr")


def test_street_handles_an_escalation_with_a_joint_meeting(screen, web):
    staff = web.login("staff1")
    request = _request(web, topic="housing")
    rid = request["id"]
    if request["state"] == "submitted":  # the community's policy may accept it at once
        assert staff.post(f"/api/requests/{rid}/accept", {}).status_code == 200
    escalated = staff.post(f"/api/requests/{rid}/escalate", {"reason": "需要单位的维修力量"})
    assert escalated.status_code == 200, escalated.text
    street = web.login("street")

    screen.sign_in("street")
    page = screen.page
    page.wait_for_url("**/area")
    page.get_by_text("辖区统筹看板").wait_for()
    page.wait_for_timeout(800)
    screen.shot("dashboard")
    page.get_by_role("menuitem", name="上报待办").click()
    row = _row(page, rid)
    row.wait_for()
    screen.shot("escalations")
    row.get_by_role("button", name="办理").click()
    drawer = page.locator(".el-drawer")
    drawer.get_by_role("button", name="联席会议交办").click()
    dialog = page.locator(".el-dialog")
    dialog.locator(".el-select").click()
    page.locator(".el-select-dropdown__item", has_text="佛山市某单位").click()
    dialog.get_by_label("会议决定").fill("联席会议决定：由佛山市某单位派维修人员三日内上门")
    dialog.get_by_text("联席会议交办", exact=True).first.click()  # a click beside closes the unit list
    screen.shot("joint-meeting")
    dialog.get_by_role("button", name="交办").click()
    page.get_by_text("已由联席会议交办").wait_for()
    after = street.get(f"/api/requests/{rid}").json()
    assert after["state"] == "claimed" and after["work_unit_ids"], after
    drawer.get_by_text("联席会议交办").first.wait_for()


def test_district_closes_a_quarter_and_downloads_the_xlsx(screen, web, tmp_path):
    district = web.login("district")
    open_period = next(p for p in district.get("/api/scoring/quarters").json() if p["state"] == "open")["period"]
    screen.sign_in("district")
    page = screen.page
    page.wait_for_url("**/area")
    page.get_by_role("menuitem", name="季度结账与排名").click()
    page.get_by_text("东风社区").first.wait_for()  # the demo's closed quarter is ranked by name
    screen.shot("quarters")
    page.get_by_role("button", name=f"{open_period} 季度结账").click()
    _confirm(page)
    page.get_by_text(f"{open_period} 已结账").wait_for()
    periods = district.get("/api/scoring/quarters").json()
    assert any(p["period"] == open_period and p["state"] == "closed" for p in periods)
    with page.expect_download() as got:
        page.get_by_role("button", name="下载 XLSX").click()
    path = tmp_path / "export.xlsx"
    got.value.save_as(path)
    sheet = load_workbook(io.BytesIO(path.read_bytes())).active
    cells = [c for row in sheet.iter_rows(values_only=True) for c in row if c]
    assert "社区" in cells and any(str(c).endswith("社区") and c != "社区" for c in cells), cells[:30]
    page.get_by_role("tab", name="图表").click()
    page.locator("img.png").wait_for()
    screen.shot("quarters-chart")


def test_the_work_unit_downloads_its_report(screen, web, tmp_path):
    screen.sign_in("unit1")
    page = screen.page
    page.wait_for_url("**/unit")
    page.locator(".el-table__body tr").first.wait_for()
    screen.shot("unit-report")
    assert "东风社区" in page.locator(".el-table").inner_text()
    with page.expect_download() as got:
        page.get_by_role("button", name="下载报告（XLSX）").click()
    path = tmp_path / "unit.xlsx"
    got.value.save_as(path)
    assert path.read_bytes()[:2] == b"PK"
    cells = [c for row in load_workbook(path).active.iter_rows(values_only=True) for c in row if c]
    assert "佛山市某单位" in " ".join(str(c) for c in cells)
