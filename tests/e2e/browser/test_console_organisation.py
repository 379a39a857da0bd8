"""The community's organisation (社区组织) and the work unit's co-building (共建协议, 主题党日) in the
console, in a real browser on the real platform: what the person sees, and the effect through the API."""

import random
import re


def _pick(page, scope, label, option):
    """An Element Plus select: open it by its label, choose the option by text (a single choice closes the list)."""
    item = scope.locator(".el-form-item").filter(has=page.locator(f"label.el-form-item__label:text-is('{label}')"))
    item.locator(".el-select__wrapper").click()
    page.locator(".el-select-dropdown__item:visible", has_text=option).first.click()


def _named(who, path, name):
    return next(row for row in who.get(path).json() if row["name"] == name)


def _tab(page, name):
    page.get_by_role("tab", name=name).click()
    page.locator(".el-tab-pane:visible").first.wait_for()


def _settled(page):
    """The date pickers closed and every transition ended, as a person sees the screen."""
    page.wait_for_function("() => [...document.querySelectorAll('.el-picker__popper')]"
                           ".every(e => getComputedStyle(e).display === 'none')")
    page.wait_for_function("() => !document.querySelector('[class*=\"-leave-active\"], [class*=\"-enter-active\"]')")


def _toast_gone(page):
    page.locator(".el-message").first.wait_for(state="hidden", timeout=10000)


def test_staff_builds_the_community_organisation(screen, web):
    staff = web.login("staff1")
    community_id = staff.get("/api/auth/me").json()["community_id"]
    members = staff.get("/api/talent", params={"community_id": community_id, "per_page": 50}).json()["items"]
    member = members[0]
    n = random.randint(100, 999)
    page = screen.page

    screen.sign_in("staff1")
    page.wait_for_url("**/community")
    page.get_by_role("menuitem", name="社区组织").click()
    page.get_by_role("heading", name="社区组织", level=2).wait_for()
    page.get_by_text("东风社区在职党员e支部").wait_for()  # the demo's e-branch
    screen.shot("e-branches")

    # 电子党支部: an empty name is refused beside the field, then a branch is made
    page.get_by_role("button", name="新建e支部").click()
    form = page.get_by_role("form", name="新建e支部")
    form.get_by_role("button", name="建立").click()
    form.get_by_text("请填写支部名称").wait_for()
    screen.shot("e-branch-error")
    branch_name = f"第{n}楼栋e支部"
    form.get_by_label("支部名称").fill(branch_name)
    form.get_by_label("支部名称").press("Enter")
    page.get_by_text(f"已建立：{branch_name}").wait_for()
    row = page.locator(".el-table__body tr", has_text=branch_name)
    row.wait_for()
    branch = _named(staff, f"/api/communities/{community_id}/e-branches", branch_name)
    assert branch["member_ids"] == []
    row.get_by_role("button", name="加入党员").click()
    dialog = page.locator(".el-dialog", has_text=f"加入党员：{branch_name}")
    _pick(page, dialog, "党员", member["name"])
    dialog.locator(".el-dialog__title").click()  # a click beside closes the (multiple) list
    dialog.get_by_role("button", name="加入").click()
    page.get_by_text("已加入 1 名党员").wait_for()
    dialog.wait_for(state="hidden")
    row.locator("td").nth(2).get_by_text("1", exact=True).wait_for()
    branch = _named(staff, f"/api/communities/{community_id}/e-branches", branch_name)
    assert branch["member_ids"] == [member["id"]]
    _toast_gone(page)
    screen.shot("e-branch-made")

    # 志愿服务队
    _tab(page, "志愿服务队")
    page.get_by_text("东风社区法律服务队").wait_for()
    page.get_by_role("button", name="新建服务队").click()
    form = page.get_by_role("form", name="新建服务队")
    team_name = f"平安巡逻队{n}"
    form.get_by_label("服务队名称").fill(team_name)
    _pick(page, form, "服务方向", "巡逻")
    form.get_by_role("button", name="建立").click()
    page.locator(".el-table__body tr:visible", has_text=team_name).wait_for()
    team = next(t for t in staff.get(f"/api/communities/{community_id}/teams").json() if t["name"] == team_name)
    assert team["kind"] == "巡逻"
    _toast_gone(page)
    screen.shot("teams")

    # 服务岗位
    _tab(page, "服务岗位")
    page.get_by_role("button", name="新增岗位").click()
    form = page.get_by_role("form", name="新增服务岗位")
    post_name = f"楼道安全员{n}"
    _pick(page, form, "岗位类别", "公共事务")
    form.get_by_label("岗位名称").fill(post_name)
    form.get_by_label("岗位名称").press("Enter")
    page.get_by_text(f"已新增岗位：{post_name}").wait_for()
    page.locator(".el-table__body tr:visible", has_text=post_name).wait_for()
    post = next(p for p in staff.get(f"/api/communities/{community_id}/posts").json() if p["name"] == post_name)
    assert post["category"] == "公共事务"
    _toast_gone(page)
    screen.shot("posts")

    # 社区需求清单
    _tab(page, "社区需求清单")
    page.get_by_role("button", name="发布需求").click()
    form = page.get_by_role("form", name="发布社区需求")
    need_title = f"无物业楼宇环境整治{n}"
    form.get_by_label("需求名称").fill(need_title)
    form.get_by_label("需求名称").press("Enter")
    page.get_by_text(f"已发布需求：{need_title}").wait_for()
    page.locator(".el-table__body tr:visible", has_text=need_title).wait_for()
    assert any(r["title"] == need_title for r in staff.get(f"/api/communities/{community_id}/needs").json())
    _toast_gone(page)
    screen.shot("needs")

    # 结对帮扶
    _tab(page, "结对帮扶")
    page.get_by_role("button", name="新建结对").click()
    form = page.get_by_role("form", name="新建结对")
    household = f"黄阿婆家{n}"
    form.get_by_label("困难户").fill(household)
    form.get_by_label("困难情况").fill("独居老人，行动不便")
    _pick(page, form, "结对党员", member["name"])
    form.get_by_role("button", name="结对", exact=True).click()
    page.get_by_text(f"已结对：{household}").wait_for()
    row = page.locator(".el-table__body tr:visible", has_text=household)
    row.get_by_text(f"党员：{member['name']}").wait_for()
    pairing = next(p for p in staff.get(f"/api/communities/{community_id}/pairings").json()
                   if p["household"] == household)
    assert pairing["member_id"] == member["id"] and pairing["ends_on"] > pairing["starts_on"]
    _toast_gone(page)
    screen.shot("pairings")

    # 共驻共建单位
    _tab(page, "共驻共建单位")
    page.locator(".el-table__body tr:visible", has_text="佛山市某单位").get_by_text("每年开展两次义诊").wait_for()
    screen.shot("co-building")


def test_unit_sees_its_agreement_publishes_a_party_day_and_sees_its_members(screen, web):
    unit = web.login("unit1")
    unit_id = unit.get("/api/auth/me").json()["work_unit_id"]
    reports = unit.get(f"/api/work-units/{unit_id}/reports").json()
    assert [r["community_name"] for r in reports] == ["东风社区"], reports
    page = screen.page

    screen.sign_in("unit1")
    page.wait_for_url("**/unit")
    page.get_by_role("menuitem", name="共建协议").click()
    row = page.locator(".el-table__body tr", has_text="东风社区")
    row.get_by_text("每年开展两次义诊").wait_for()
    screen.shot("agreements")
    row.get_by_role("button", name="更新承诺").click()  # renew this year's commitments, keeping the old
    form = page.get_by_role("form", name="更新与东风社区的共建承诺")
    commitments = form.get_by_label("共建承诺")
    added = f"结对帮扶困难家庭{random.randint(100, 999)}户"
    commitments.fill(commitments.input_value() + "\n" + added)
    form.get_by_role("button", name="保存").click()
    page.get_by_text("已更新与东风社区的共建承诺").wait_for()
    form.wait_for(state="hidden")
    row.get_by_text(added).wait_for()
    row.get_by_text("每年开展两次义诊").wait_for()
    row.get_by_text("更新于").wait_for()  # 报到时间 stays the first report; the renewal is shown beneath
    screen.shot("agreements-renewed")

    page.get_by_role("menuitem", name="主题党日").click()
    page.get_by_role("heading", name="主题党日", level=2).wait_for()
    page.get_by_role("button", name="发布主题党日").click()
    dialog = page.locator(".el-dialog", has_text="发布主题党日")
    dialog.get_by_role("button", name="发布").click()
    dialog.get_by_text("请填写主题").wait_for()  # errors beside the fields, nothing sent
    title = f"重温入党誓词主题党日{random.randint(100, 999)}"
    dialog.get_by_label("主题").fill(title)
    dialog.get_by_label("开始时间").fill("2030-07-01 09:00")
    dialog.get_by_label("开始时间").press("Enter")
    dialog.get_by_label("结束时间").fill("2030-07-01 11:00")
    dialog.get_by_label("结束时间").press("Enter")
    dialog.get_by_label("地点").fill("东风社区党群服务中心")
    dialog.get_by_text("发布主题党日", exact=True).first.click()  # a click beside closes the pickers
    _settled(page)
    screen.shot("publish-party-day")
    dialog.get_by_role("button", name="发布").click()
    page.get_by_text("主题党日已发布").wait_for()
    dialog.wait_for(state="hidden")
    row = page.locator(".el-table__body tr", has_text=title)
    row.wait_for()
    made = next(a for a in unit.get("/api/activities").json() if a["title"] == title)
    assert made["kind"] == "party_day" and made["work_unit_id"] == unit_id
    assert made["community_id"] == reports[0]["community_id"]

    member = web.login("13800000001")  # 张伟, of this unit, reported to 东风社区
    signed = member.post(f"/api/activities/{made['id']}/signup", {})
    assert signed.status_code == 201, signed.text
    page.reload()
    row = page.locator(".el-table__body tr", has_text=title)
    row.get_by_text(re.compile(r"^\s*1 / 30")).wait_for()
    _toast_gone(page)
    screen.shot("party-days")
    row.get_by_role("button", name="报名名单").click()
    drawer = page.locator(".el-drawer")
    drawer.get_by_text("张伟").wait_for()
    screen.shot("party-day-signups")
    page.keyboard.press("Escape")
    drawer.wait_for(state="hidden")

    page.get_by_role("menuitem", name="本单位党员").click()
    table = page.locator(".el-table__body")
    table.get_by_text("跃进社区").first.wait_for()  # members wherever they live
    rows = unit.get("/api/talent", params={"work_unit_id": unit_id}).json()
    assert rows["total"] == table.locator("tr").count()
    screen.shot("unit-members")
    page.locator(".el-table__body tr", has_text="张伟").get_by_role("button", name="服务与积分").click()
    drawer = page.locator(".el-drawer", has_text="张伟 的电子义工证")
    drawer.get_by_text("服务时长").wait_for()
    drawer.get_by_text("星级").wait_for()
    screen.shot("member-card")
