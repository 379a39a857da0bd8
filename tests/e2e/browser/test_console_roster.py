"""Community staff's roster and points screens, in a real browser on the real platform: a roster
import with a bad row, a member's detail (history, points, transfer), and a points conflict."""

import random
import re

from playwright.sync_api import expect

from common.db import EventPublisher, envelope
from services.registration.domain import id_number_check_char
from tests import support

HEADER = "姓名,手机号码,身份证号码,所在社区,工作单位,特长,空闲时间"


def _id_number(n):
    first17 = f"44060419910101{n:03d}"  # born 1991: apart from the demo's members (1980)
    return first17 + id_number_check_char(first17)


def _roster(tmp_path, rows, name):
    path = tmp_path / name
    path.write_text("\n".join([HEADER, *rows]) + "\n", encoding="utf-8-sig")
    return path


def _settled(page):
    """What a person looks at: the screen once a dialog's opening or closing transition has finished."""
    page.wait_for_function("() => !document.querySelector('[class*=\"-leave-active\"], [class*=\"-enter-active\"]')")


def _confirm(page):
    page.locator(".el-message-box").get_by_role("button", name=re.compile("确定")).click()
    page.locator(".el-message-box").wait_for(state="hidden")


def _import(screen, path):
    """Choose the file and start; the screenshot of the progress is taken while the server works."""
    page, seen = screen.page, []

    def hold(route):
        page.get_by_role("status").get_by_text("正在").wait_for()
        seen.append(page.get_by_role("progressbar", name="导入进度").is_visible())
        screen.shot(f"import-progress-{path.stem}")
        route.continue_()

    page.route(re.compile(r"/api/roster/import\?"), hold)
    page.get_by_label("名册文件").set_input_files(str(path))
    page.get_by_role("button", name="开始导入").click()
    page.locator(".counts, .bad-count").first.wait_for()
    page.unroute(re.compile(r"/api/roster/import\?"))
    assert seen == [True]  # a progress bar was on screen while the import ran


def test_staff_imports_a_roster_then_adjusts_and_transfers_a_member(screen, web, tmp_path):
    n = random.randint(100, 899)
    good = [f"钱{chr(0x4e00 + n + i)},137{n:05d}{i:03d},{_id_number(n + i)},东风社区,某律师事务所,法律,"
            "周末白天"
            for i in (1, 2)]
    bad = f"孙{chr(0x4e00 + n)},137{n:05d}009,12345,东风社区,,,"
    staff = web.login("staff1")
    page = screen.page
    screen.sign_in("staff1")
    page.wait_for_url("**/community")
    page.get_by_role("menuitem", name="花名册导入").click()
    page.get_by_text("名册的列（第一行为表头）").wait_for()
    screen.shot("import")

    _import(screen, _roster(tmp_path, [*good, bad], "with-bad-row.csv"))
    page.get_by_text("错误行数：1（未写入任何数据）").wait_for()
    assert page.locator(".errors .el-table__body tr").count() == 1
    screen.shot("import-errors")
    with page.expect_download() as got:
        page.get_by_role("button", name="下载错误报告（CSV）").click()
    report = open(got.value.path(), encoding="utf-8-sig").read().splitlines()
    assert report[0] == "行号,原因"
    assert len(report) == 2 and report[1].startswith("4,") and "身份证" in report[1], report
    phone = good[0].split(",")[1]
    assert staff.get("/api/talent", params={"phone": phone, "status": "all"}).json()["total"] == 0  # nothing written

    _import(screen, _roster(tmp_path, good, "fixed.csv"))
    page.get_by_text("导入完成").wait_for()
    counts = [d.inner_text().split() for d in page.locator(".counts div").all()]
    assert counts == [["总行数", "2"], ["新登记", "2"], ["已更新", "0"], ["无变化", "0"]], counts
    screen.shot("import-done")

    # the roster, searched by the whole phone number, opens the member's detail
    page.get_by_role("menuitem", name="花名册与人才库").click()
    page.get_by_label("手机").fill(phone)
    page.get_by_label("手机").press("Enter")
    rows = page.locator(".el-table__body tr")
    expect(rows).to_have_count(1)  # the search answered: the whole number finds exactly one
    rows.filter(has_text=phone).wait_for()
    screen.shot("roster-search")
    name = good[0].split(",")[0]
    page.get_by_role("link", name=name, exact=True).click()
    page.get_by_role("heading", name=name).wait_for()
    page.locator(".history").get_by_text("名册导入").first.wait_for()
    member_id = int(page.url.rstrip("/").split("/")[-1])
    screen.shot("member")

    page.get_by_label("加减分").fill("8")
    page.get_by_label("理由").fill("组织楼道义诊表现突出")
    page.get_by_role("button", name="调整积分").click()
    page.get_by_text("积分已调整，已留痕").wait_for()
    page.locator(".el-table__body tr", has_text="组织楼道义诊表现突出").wait_for()
    points = staff.get(f"/api/members/{member_id}/points").json()
    assert points["balance"] == 8
    assert any(e["points"] == 8 and e["reason"] == "组织楼道义诊表现突出" for e in points["entries"]), points
    screen.shot("member-points")

    page.get_by_role("button", name="转移报到关系").click()
    dialog = page.locator(".el-dialog")
    dialog.locator(".el-select").first.click()
    page.locator(".el-select-dropdown__item", has_text="跃进社区").click()
    dialog.get_by_label("转移原因").fill("搬家至跃进社区")
    dialog.get_by_text("转移原因").first.click()  # a click beside closes the list, as a person's would
    _settled(page)
    screen.shot("transfer")
    dialog.get_by_role("button", name="转移", exact=True).click()
    page.locator(".el-message-box").get_by_text("需由该社区审核通过").wait_for()
    _settled(page)
    screen.shot("transfer-confirm")
    _confirm(page)
    page.get_by_text("已转至跃进社区，待该社区审核").wait_for()
    page.wait_for_url("**/community/roster")
    moved = web.login("staff2").get(f"/api/members/{member_id}").json()
    assert moved["community_name"] == "跃进社区" and moved["status"] == "submitted", moved
    history = web.login("staff2").get(f"/api/members/{member_id}/history").json()
    assert history[-1]["action"] == "transfer" and history[-1]["reason"] == "搬家至跃进社区", history


def _conflict(web, member_id):
    """The same confirmed request arriving twice with different points, as dispatch would send it."""
    dispatch = EventPublisher(support.amqp_uri_for(web.vhost), "dispatch")
    request_id = random.randint(10**6, 10**7)
    data = {"request_id": request_id, "community_id": 3, "resident_id": 6, "menu_item_id": 999999,
            "title": f"法律咨询{request_id}", "state": "closed", "member_ids": [member_id], "rating": 5, "points": 15,
            "category": "核对测试"}  # no rule of the community prices it: the points sent are the points
    staff = web.login("staff1")
    dispatch.publish(envelope("dispatch", "request.confirmed", data))
    support.wait_for(lambda: any(str(request_id) in e["reason"] for e in
                                 staff.get(f"/api/members/{member_id}/points").json()["entries"]), message="credited")
    dispatch.publish(envelope("dispatch", "request.confirmed", {**data, "points": 20}))
    support.wait_for(lambda: any(c["entry_key"] == f"request:{request_id}:{member_id}" for c in staff.get(
        "/api/communities/3/scoring/conflicts", params={"status": "open"}).json()), message="conflict held")


def test_staff_resolves_a_points_conflict_with_a_reason(screen, web):
    staff = web.login("staff1")
    open_conflicts = staff.get("/api/communities/3/scoring/conflicts", params={"status": "open"}).json()
    if open_conflicts:
        conflict = open_conflicts[0]
    else:
        member_id = staff.get("/api/talent", params={"community_id": 3}).json()["items"][0]["id"]
        _conflict(web, member_id)
        conflict = next(c for c in staff.get("/api/communities/3/scoring/conflicts",
                                             params={"status": "open"}).json() if c["member_id"] == member_id)
    before = staff.get(f"/api/members/{conflict['member_id']}/points").json()["balance"]

    page = screen.page
    screen.sign_in("staff1")
    page.wait_for_url("**/community")
    page.get_by_role("menuitem", name="积分冲突核对").click()
    source = conflict["entry_key"].split(":")
    name = staff.get(f"/api/members/{conflict['member_id']}").json()["name"]
    row = page.locator(".el-table__body tr", has_text=name).filter(has_text=source[1]).first
    row.wait_for()
    screen.shot("conflicts")
    row.get_by_role("button", name="按新内容更正").click()
    box = page.locator(".el-message-box")
    box.get_by_text(f"{conflict['recorded_points']} 分改为 {conflict['points']} 分").wait_for()
    box.get_by_role("textbox").fill("菜单分值已调整，按新分值计")
    _settled(page)
    screen.shot("conflict-resolve")
    _confirm(page)
    page.get_by_text("已按新内容更正积分").wait_for()
    resolved = next(c for c in staff.get("/api/communities/3/scoring/conflicts").json() if c["id"] == conflict["id"])
    assert resolved["status"] == "accepted" and resolved["resolution"] == "菜单分值已调整，按新分值计", resolved
    after = staff.get(f"/api/members/{conflict['member_id']}/points").json()["balance"]
    assert after == before + conflict["points"] - conflict["recorded_points"]
    page.get_by_text("没有待核对的积分冲突").or_(page.locator(".el-table__body tr").first).wait_for()
    screen.shot("conflicts-after")
