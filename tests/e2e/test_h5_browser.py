"""The resident and member H5 in a phone-sized Chromium (375×667, zh-CN, Asia/Shanghai) on the
real platform: a resident orders from the menu and later rates the service; a member sees the
new offer arrive without a reload, reads the resident's words and address, claims, starts,
completes and finds hours and points on the card; a pending member sees only the notice; a
check-in by the on-site code. Every screen is checked with axe-core (no critical or serious
violation), for horizontal scrolling and for tap targets, and written as a screenshot artefact
(``var/artefacts/h5/`` unless BAODAO_ARTEFACTS says otherwise)."""

import os
import re
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import requests

from common.config import ROOT
from services.registration.domain import id_number_check_char
from tests import support

playwright_api = pytest.importorskip("playwright.sync_api")
axe_module = pytest.importorskip("axe_playwright_python.sync_playwright")

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
ARTEFACTS = Path(os.environ.get("BAODAO_ARTEFACTS", ROOT / "var" / "artefacts")) / "h5"
PHONE = "13987654321"
AXE = axe_module.Axe()


@pytest.fixture(scope="module")
def browser(database):
    if database != "sqlite":
        pytest.skip("browser tests run on SQLite only")
    if not Path(CHROMIUM).exists():
        pytest.skip("Debian's chromium is not installed (apt-get install -y chromium fonts-noto-cjk)")
    ARTEFACTS.mkdir(parents=True, exist_ok=True)
    with playwright_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield browser
        browser.close()


@pytest.fixture
def phone(browser, platform):
    """A new phone: a fresh context of its own (cookies, storage) for each person in a test."""
    contexts = []

    def open_phone():
        context = browser.new_context(viewport={"width": 375, "height": 667}, device_scale_factor=2,
                                      is_mobile=True, has_touch=True, locale="zh-CN",
                                      timezone_id="Asia/Shanghai", base_url=platform.url("/h5/"))
        context.set_default_timeout(10_000)
        contexts.append(context)
        return context.new_page()

    yield open_phone
    for context in contexts:
        context.close()


def check_screen(page, name: str):
    """Screenshot, axe (0 critical/serious), no horizontal scroll, tap targets ≥ 44 px."""
    page.wait_for_load_state("networkidle")
    page.screenshot(path=str(ARTEFACTS / f"{name}.png"), full_page=True)
    results = AXE.run(page)
    bad = [v for v in results.response["violations"] if v.get("impact") in ("critical", "serious")]
    assert not bad, f"{name}: " + "; ".join(f"{v['id']}: {[n['target'] for n in v['nodes']][:5]}" for v in bad)
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 375, f"{name}: the page scrolls sideways ({width}px)"
    small = page.evaluate("""() => [...document.querySelectorAll('button, a[href], [role=button], .van-tabbar-item')]
        .filter(e => { const r = e.getBoundingClientRect(); return r.width > 0 && r.height > 0
                       && getComputedStyle(e).visibility !== 'hidden' && (r.height < 44 || r.width < 44); })
        .map(e => (e.innerText || e.getAttribute('aria-label') || e.className).trim().slice(0, 30))""")
    assert not small, f"{name}: tap targets under 44 px: {small}"


def login(page, username: str, name: str | None = None):
    page.goto("#/login")
    page.get_by_label("账号").fill(username)
    page.get_by_label("密码").fill("demo1234")
    if name:
        check_screen(page, name)
    page.get_by_role("button", name="登录").click()
    page.wait_for_url(re.compile(r"#/(r|m)/"))


def test_resident_orders_member_serves_and_resident_rates(phone, platform):
    member = phone()
    login(member, "13800000003")  # 王强, 维修: the menu's 家电维修 is offered to him
    member.wait_for_url(re.compile(r"#/m/work"))
    check_screen(member, "member-work-before")

    resident = phone()
    login(resident, "resident1", "login")
    check_screen(resident, "resident-menu")
    resident.get_by_role("link", name=re.compile("家电维修")).click()
    resident.get_by_role("button", name="提交点单").click()
    # the API's own message, beside the field it concerns
    field = resident.locator("#f-appliance").locator("xpath=ancestor::div[contains(@class,'van-field')]")
    playwright_api.expect(field).to_contain_text("“需要维修的电器”为必填项")
    resident.get_by_label("需要维修的电器").fill("洗衣机")
    resident.get_by_label("需求描述").fill("洗衣机不脱水")
    resident.get_by_label("服务地址").fill("3栋502")
    resident.get_by_label("联系电话").fill("电话")
    resident.get_by_role("button", name="提交点单").click()
    playwright_api.expect(resident.get_by_text("电话号码格式不对")).to_be_visible()
    check_screen(resident, "resident-order-errors")
    resident.get_by_label("联系电话").fill(PHONE)
    resident.get_by_label("希望时间").click()
    resident.get_by_role("button", name="下一步").click()
    resident.get_by_role("button", name="确定").click()
    playwright_api.expect(resident.get_by_label("希望时间")).to_have_value(re.compile(r"\d{4}-\d\d-\d\d 09:00"))
    resident.get_by_role("button", name="提交点单").click()
    resident.wait_for_url(re.compile(r"#/r/requests/\d+"))
    request_id = int(resident.url.rsplit("/", 1)[1])
    playwright_api.expect(resident.get_by_text("洗衣机不脱水")).to_be_visible()
    check_screen(resident, "resident-request-submitted")

    # the offer reaches the member's open page within 5 s, without a reload
    offer = member.locator(f"a[href$='#/m/requests/{request_id}']")
    playwright_api.expect(offer).to_be_visible(timeout=5_000)
    check_screen(member, "member-work-offer")
    offer.click()
    playwright_api.expect(member.get_by_text("洗衣机不脱水")).to_be_visible()
    playwright_api.expect(member.get_by_text("3栋502")).to_be_visible()
    playwright_api.expect(member.get_by_text("139****4321")).to_be_visible()
    check_screen(member, "member-offer-detail")
    member.get_by_role("button", name="接单", exact=True).click()
    call = member.locator(f"a[href='tel:{PHONE}']")
    playwright_api.expect(call).to_be_visible()
    check_screen(member, "member-claimed")
    member.get_by_role("button", name="开始服务").click()
    playwright_api.expect(member.get_by_text("服务中").first).to_be_visible()
    # the member states the hours actually served, within the menu item's bounds
    playwright_api.expect(member.get_by_text("实际服务时长")).to_be_visible()
    stated = float(member.locator(".van-stepper__input").input_value())
    check_screen(member, "member-complete-hours")
    member.get_by_role("button", name="服务完成").click()
    playwright_api.expect(member.get_by_text(f"本次实际服务 {stated:g} 小时")).to_be_visible()
    member.get_by_role("button", name="确认完成").click()
    playwright_api.expect(member.get_by_text("已完成待确认").first).to_be_visible()
    check_screen(member, "member-completed")

    resident.reload()
    playwright_api.expect(resident.get_by_text("服务已完成，请评价")).to_be_visible()
    resident.locator(".van-rate__item").nth(3).click()  # 4 stars
    resident.get_by_label("评价").fill("王师傅很细心，洗衣机修好了")
    check_screen(resident, "resident-rate")
    resident.get_by_role("button", name="确认完成并评价").click()
    playwright_api.expect(resident.get_by_text("已办结").first).to_be_visible()
    playwright_api.expect(resident.get_by_text("4 星")).to_be_visible()
    check_screen(resident, "resident-request-closed")
    resident.goto("#/r/requests")
    check_screen(resident, "resident-requests")

    # the community confirms the stated hours (only confirmed hours count on the card)
    staff = platform.login("staff1")

    def stated_entry():
        queue = staff.get("/api/records/queue").json()
        return next((e for e in queue if e["source"] == "request" and e["ref_id"] == request_id), None)

    entry = support.wait_for(stated_entry, timeout=20, interval=0.5, message="the stated hours in the queue")
    assert entry["stated_hours"] == stated
    assert staff.post(f"/api/records/entries/{entry['id']}/confirm", {}).status_code == 200

    # hours and points reach the card once scoring and registration have taken the events
    def card_counts():
        member.goto("#/m/card")
        member.wait_for_load_state("networkidle")
        numbers = member.locator(".numbers strong").all_inner_texts()
        return numbers if numbers and float(numbers[1]) > 0 and numbers[2] not in ("—", "0") else None

    numbers = support.wait_for(card_counts, timeout=20, interval=1, message="hours and points on the card")
    assert float(numbers[1]) >= stated and int(numbers[2]) > 0
    check_screen(member, "member-card")


def test_resident_screens(phone):
    page = phone()
    login(page, "resident1")
    for path, name, expected in (("#/r/wishes", "resident-wishes", "发布心愿"),
                                 ("#/r/opinions", "resident-opinions", "我提的意见"),
                                 ("#/activities", "resident-activities", "可报名"),
                                 ("#/inbox", "resident-inbox", "未读"),
                                 ("#/r/me", "resident-me", "微心愿")):
        page.goto(path)
        playwright_api.expect(page.get_by_text(expected).first).to_be_visible()
        check_screen(page, name)
    page.goto("#/r/wishes")
    title = f"想要一副老花镜{uuid.uuid4().hex[:4]}"
    page.get_by_label("我的心愿").fill(title)
    page.get_by_role("button", name="发布心愿").click()
    playwright_api.expect(page.get_by_text(title)).to_be_visible()
    page.goto("#/r/opinions")
    page.get_by_label("标题").fill("楼道灯坏了")
    page.get_by_label("内容").fill("5栋二楼楼道灯不亮，晚上看不见")
    page.get_by_role("button", name="提交").click()
    playwright_api.expect(page.get_by_text("楼道灯坏了").first).to_be_visible()


def test_member_screens(phone):
    page = phone()
    login(page, "13800000001")
    for path, name, expected in (("#/m/claim", "member-claim", "社区需求"),
                                 ("#/m/points", "member-points", "累计积分"),
                                 ("#/m/profile", "member-profile", "服务岗位"),
                                 ("#/m/transfer", "member-transfer", "提交转移"),
                                 ("#/m/me", "member-me", "电子义工证"),
                                 ("#/inbox", "member-inbox", "未读")):
        page.goto(path)
        playwright_api.expect(page.get_by_text(expected).first).to_be_visible()
        check_screen(page, name)
    page.goto("#/m/claim")
    page.get_by_role("tab", name=re.compile("微心愿")).click()
    check_screen(page, "member-claim-wishes")


def test_pending_member_sees_the_notice_and_cannot_claim(phone, platform):
    username = f"139{uuid.uuid4().int % 10**8:08d}"
    first17 = f"4406041990{uuid.uuid4().int % 10**7:07d}"
    # 跃进社区, not 东风: other tests count 东风's review queue
    community = platform.login("staff2").user["community_id"]
    resp = requests.post(platform.url("/api/registrations/signup"), timeout=15, json={
        "name": "赵新", "phone": username, "id_number": first17 + id_number_check_char(first17),
        "community_id": community, "password": "demo1234", "skills": ["维修"]})
    assert resp.status_code == 201, resp.text
    page = phone()
    login(page, username)
    page.wait_for_url(re.compile(r"#/m/status"))
    playwright_api.expect(page.get_by_text("报到待审核")).to_be_visible()
    playwright_api.expect(page.get_by_text("社区正在审核")).to_be_visible()
    assert page.get_by_role("link", name="接单").count() == 0
    check_screen(page, "member-pending")
    page.goto("#/m/work")
    page.wait_for_url(re.compile(r"#/m/status"))
    # and the API agrees: the open needs list cannot be claimed
    token = requests.post(platform.url("/api/auth/login"), json={"username": username, "password": "demo1234"},
                          timeout=15).json()["token"]
    auth = {"Authorization": f"Bearer {token}"}
    resp = requests.get(platform.url("/api/requests/open"), timeout=15, headers=auth)
    assert resp.status_code == 403, resp.text
    resp = requests.post(platform.url("/api/requests/1/claim"), timeout=15, headers=auth)
    assert resp.status_code in (403, 404), resp.text


def test_member_checks_in_by_the_on_site_code(phone, platform):
    staff = platform.login("staff1")
    now = datetime.now(UTC)
    resp = staff.post("/api/activities", {
        "title": f"社区义诊{uuid.uuid4().hex[:4]}", "place": "东风社区服务中心", "places": 10,
        "starts_at": (now + timedelta(minutes=10)).isoformat(), "ends_at": (now + timedelta(hours=2)).isoformat()})
    assert resp.status_code == 201, resp.text
    activity = resp.json()
    try:
        page = phone()
        login(page, "13800000004")
        page.goto("#/activities")
        page.get_by_role("link", name=re.compile(activity["title"])).click()
        check_screen(page, "activity-detail")
        page.get_by_role("button", name="报名参加").click()
        playwright_api.expect(page.get_by_text("我的报名：已报名")).to_be_visible()
        page.get_by_label("签到", exact=True).fill("12345")
        page.get_by_role("button", name="签到", exact=True).click()
        playwright_api.expect(page.get_by_text("签到码为6位数字")).to_be_visible()
        check_screen(page, "activity-check-in")
        code = staff.get(f"/api/activities/{activity['id']}/code").json()["code"]
        page.get_by_label("签到", exact=True).fill(code)
        page.get_by_role("button", name="签到", exact=True).click()
        playwright_api.expect(page.get_by_text(re.compile("签到："))).to_be_visible()
        check_screen(page, "activity-checked-in")
    finally:
        staff.post(f"/api/activities/{activity['id']}/cancel", {"reason": "测试结束"})
