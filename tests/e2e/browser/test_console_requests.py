"""Handling requests in the console, in a real browser on the real platform: ordering for a caller,
reassigning to a named member, the 已超时 counter and a timeline that names who acted. What the
person sees, and the effect checked through the API."""

import random
import re

from tests import support


def _row(page, request_id):
    """The table row of a request, by the number in its first cell."""
    first_cell = page.locator("td:first-child", has_text=re.compile(rf"^\s*{request_id}(\D|$)"))
    return page.locator(".el-table__body tr").filter(has=first_cell).first


def _member(staff, name):
    page = staff.get("/api/talent", params={"name": name, "per_page": 10}).json()
    return next(m for m in page["items"] if m["name"] == name)


def test_staff_orders_for_a_caller_from_the_menu(screen, web):
    staff = web.login("staff1")
    caller = f"来电人{random.randint(100, 999)}"
    page = screen.page
    screen.sign_in("staff1")
    page.wait_for_url("**/community")
    page.get_by_role("menuitem", name="服务请求").click()
    page.get_by_role("button", name="代居民下单").click()
    dialog = page.locator(".el-dialog", has_text="代居民下单")
    dialog.get_by_role("button", name="提交下单").click()
    dialog.get_by_text("请选择服务项目").wait_for()  # beside the field, in Chinese

    dialog.locator(".el-form-item", has_text="服务项目").locator(".el-select").first.click()
    page.locator(".el-select-dropdown__item", has_text="法律咨询").click()
    dialog.get_by_label("来电人姓名").fill(caller)
    dialog.get_by_label("来电人电话").fill("12")
    dialog.get_by_label("服务地址").fill("5栋301")
    dialog.get_by_role("button", name="提交下单").click()
    # the API's own messages, beside the fields they are about
    dialog.locator(".el-form-item", has_text="来电人电话").get_by_text("电话号码格式不对").wait_for()
    dialog.get_by_label("来电人电话").fill("0757-83001234")
    dialog.get_by_role("button", name="提交下单").click()
    dialog.locator(".el-form-item", has_text="咨询事项").get_by_text("“咨询事项”为必填项").wait_for()
    screen.shot("order-for-caller-errors")

    dialog.get_by_text("劳动纠纷").click()
    dialog.get_by_label("方便的时间").fill("工作日下午")
    dialog.get_by_label("需求描述").fill("来电反映被拖欠工资三个月")
    screen.shot("order-for-caller")
    dialog.get_by_role("button", name="提交下单").click()
    page.get_by_text(re.compile(f"已为{caller}下单")).wait_for()
    drawer = page.locator(".el-drawer")
    drawer.get_by_text("办理记录").wait_for()
    dialog.wait_for(state="hidden")  # its closing fade would fail axe
    made = next(r for r in staff.get("/api/dispatch/requests", params={"limit": 20}).json()
                if r["caller_name"] == caller)
    assert made["source"] == "staff" and made["title"] == "法律咨询"
    assert made["answers"]["topic"] == "labour" and made["address"] == "5栋301"
    assert made["caller_phone"] == "0757-83001234"
    drawer.get_by_text(caller).first.wait_for()
    screen.shot("order-for-caller-created")


def test_staff_reassigns_a_claimed_request_to_a_named_member_and_the_timeline_names_who_acted(screen, web):
    staff = web.login("staff1")
    resident = web.login("resident1")
    made = resident.post("/api/requests", {"menu_item_id": 1, "fields": {"topic": "family"}, "address": "3栋502"})
    assert made.status_code == 201, made.text
    rid = made.json()["id"]
    zhang, wang = _member(staff, "张伟"), _member(staff, "王强")
    request = staff.get(f"/api/requests/{rid}").json()
    if request["state"] == "submitted":
        assert staff.post(f"/api/requests/{rid}/accept", {}).status_code == 200
    support.wait_for(lambda: staff.get(f"/api/requests/{rid}").json()["state"] in ("accepted", "dispatched"))
    offered = staff.post(f"/api/requests/{rid}/offer", {"member_ids": [zhang["id"]], "open_to_all": False})
    assert offered.status_code == 200, offered.text
    claimed = web.login("13800000001").post(f"/api/requests/{rid}/claim", {})
    assert claimed.status_code == 200, claimed.text
    assert claimed.json()["state"] == "claimed"

    page = screen.page
    screen.sign_in("staff1")
    page.wait_for_url("**/community")
    page.get_by_role("menuitem", name="服务请求").click()
    _row(page, rid).get_by_role("button", name="办理").click()
    drawer = page.locator(".el-drawer")
    timeline = drawer.locator(".timeline")
    timeline.get_by_text("居民 黄阿姨").first.wait_for()  # who ordered, by name
    timeline.get_by_text("张伟").first.wait_for()  # who claimed it
    assert not re.search(r"#\d", timeline.inner_text())
    drawer.get_by_role("button", name="改派给指定党员").click()
    dialog = page.locator(".el-dialog", has_text="改派给指定党员")
    dialog.get_by_role("button", name="改派", exact=True).click()
    dialog.get_by_text("请选择改派给哪位党员").wait_for()
    dialog.get_by_text("请写明改派原因").wait_for()
    dialog.locator(".el-select").click()
    page.keyboard.type("王")
    page.locator(".el-select-dropdown__item", has_text="王强").click()
    dialog.get_by_label("改派原因").fill("张伟临时出差，改由王强上门")
    dialog.get_by_text("改派原因").first.click()  # a click beside closes the member list
    screen.shot("reassign")
    dialog.get_by_role("button", name="改派", exact=True).click()
    box = page.locator(".el-message-box")
    box.get_by_text("确定改派给 王强").wait_for()
    screen.shot("reassign-confirm")
    box.get_by_role("button", name="确定改派").click()
    page.get_by_text("已改派给 王强").wait_for()
    after = staff.get(f"/api/requests/{rid}").json()
    assert after["state"] == "claimed" and after["claimed_by"] == [wang["id"]], after
    timeline.get_by_text("改派").first.wait_for()
    timeline.get_by_text("东风社区 周书记").first.wait_for()
    box.wait_for(state="hidden")
    dialog.wait_for(state="hidden")
    screen.shot("reassigned-timeline")
    names = {e["actor_name"] for e in staff.get(f"/api/requests/{rid}/timeline").json()}
    assert {"居民 黄阿姨", "张伟", "东风社区 周书记"} <= names, names


def test_a_request_past_its_deadline_counts_as_overdue_on_the_workbench(screen, web):
    staff = web.login("staff1")
    community_id = staff.user["community_id"]
    # the menu item's own deadline, kept short here: waiting for claims for 3 seconds is overdue
    item = staff.post(f"/api/communities/{community_id}/menu", {
        "title": f"代取快递{random.randint(100, 999)}", "category": "便民服务",
        "deadline_policy": {"claim_minutes": 0.05, "remind_before_minutes": 0}})
    assert item.status_code == 201, item.text
    made = web.login("resident1").post("/api/requests", {"menu_item_id": item.json()["id"], "address": "3栋502"})
    assert made.status_code == 201, made.text
    rid = made.json()["id"]
    request = staff.get(f"/api/requests/{rid}").json()
    if request["state"] in ("submitted", "accepted"):
        if request["state"] == "submitted":
            assert staff.post(f"/api/requests/{rid}/accept", {}).status_code == 200
        if staff.get(f"/api/requests/{rid}").json()["state"] == "accepted":
            assert staff.post(f"/api/requests/{rid}/offer", {"open_to_all": True}).status_code == 200
    support.wait_for(lambda: rid in [r["id"] for r in staff.get(
        "/api/dispatch/requests", params={"overdue": "true"}).json()], timeout=30, message="overdue")

    page = screen.page
    screen.sign_in("staff1")
    page.wait_for_url("**/community")
    counter = page.get_by_role("link", name=re.compile(r"^\s*\d+\s*已超时"))
    counter.wait_for()
    assert int(counter.inner_text().split()[0]) >= 1
    conflicts = page.get_by_role("link", name=re.compile("待核对积分冲突"))
    assert conflicts.get_attribute("href").endswith("/community/points/conflicts")
    screen.shot("workbench-overdue")
    counter.click()
    page.get_by_text("仅看已超时").wait_for()
    _row(page, rid).wait_for()
    shown = [int(t.strip().split()[0]) for t in page.locator(".el-table__body td:first-child").all_inner_texts()]
    overdue = {r["id"] for r in staff.get("/api/dispatch/requests", params={"overdue": "true", "limit": 500}).json()}
    assert set(shown) <= overdue
    screen.shot("requests-overdue")
