"""The resident and member H5 in a phone-sized Chromium (375×667, zh-CN, Asia/Shanghai) on the
real platform: a resident orders from the menu and later rates the service; a member sees the
new offer arrive without a reload, reads the resident's words and address, claims, starts,
completes with the hours served and finds hours and points on the card; a pending member sees
only the notice; a check-in by the on-site code. Every screen is checked with axe-core (no
critical or serious violation), for sideways scrolling and for tap targets under 44 px, and
written as a screenshot (``$BAODAO_SCREENSHOTS/h5-*.png``, default var/screenshots).
"""

import re
import time
import uuid
from datetime import UTC, datetime, timedelta

import pytest
import requests

from services.registration.domain import id_number_check_char
from tests.e2e.browser.conftest import SHOTS, screenshot_and_axe

PHONE = "13987654321"


class Api:
    """A person signed in over HTTP: the tests' own view of what the API holds."""

    def __init__(self, web, username: str, password: str = "demo1234"):
        self.web = web
        resp = requests.post(web.url("/api/auth/login"), json={"username": username, "password": password},
                             timeout=15)
        assert resp.status_code == 200, resp.text
        self.user = resp.json()["user"]
        self.headers = {"Authorization": f"Bearer {resp.json()['token']}"}

    def get(self, path):
        return requests.get(self.web.url(path), headers=self.headers, timeout=15)

    def post(self, path, body=None):
        return requests.post(self.web.url(path), json=body or {}, headers=self.headers, timeout=15)


def wait_for(predicate, timeout: float, message: str):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.5)
    raise AssertionError(f"timed out waiting for {message}")


class Phones:
    def __init__(self, browser, web):
        self.browser, self.web, self.contexts = browser, web, []

    def open(self):
        context = self.browser.new_context(viewport={"width": 375, "height": 667}, device_scale_factor=2,
                                           is_mobile=True, has_touch=True, locale="zh-CN",
                                           timezone_id="Asia/Shanghai", base_url=self.web.url("/h5/"))
        context.set_default_timeout(10_000)
        self.contexts.append(context)
        return context.new_page()

    @staticmethod
    def check(page, name: str):
        """Screenshot, axe (0 critical/serious), no sideways scroll, tap targets ≥ 44 px."""
        page.wait_for_load_state("networkidle")
        # what a person looks at: the screen once a dialog's or toast's transition has finished
        page.wait_for_function(
            "() => !document.querySelector('[class*=\"-leave-active\"], [class*=\"-enter-active\"]')")
        bad = screenshot_and_axe(page, SHOTS / f"h5-{name}.png", full_page=True)
        assert not bad, f"{name}: " + "; ".join(f"{v['id']}: {[n['target'] for n in v['nodes']][:5]}" for v in bad)
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= 375, f"{name}: the page scrolls sideways ({width}px)"
        small = page.evaluate("""() => [...document.querySelectorAll(
              'button, a[href], [role=button], .van-tabbar-item')]
            .filter(e => { const r = e.getBoundingClientRect();
                           return r.width > 0 && r.height > 0 && (r.height < 44 || r.width < 44); })
            .map(e => (e.innerText || e.getAttribute('aria-label') || e.className).trim().slice(0, 30))""")
        assert not small, f"{name}: tap targets under 44 px: {small}"


@pytest.fixture
def phones(browser, web):
    phones = Phones(browser, web)
    yield phones
    for context in phones.contexts:
        context.close()


def login(phones, page, username: str, screen: str | None = None):
    page.goto("#/login")
    page.get_by_label("账号").fill(username)
    page.get_by_label("密码").fill("demo1234")
    if screen:
        phones.check(page, screen)
    page.get_by_role("button", name="登录").click()
    page.wait_for_url(re.compile(r"#/(r|m)/"))


def test_resident_orders_member_serves_and_resident_rates(phones, web):
    from playwright.sync_api import expect

    member = phones.open()
    login(phones, member, "13800000003")  # 王强, 维修: the menu's 家电维修 is offered to him
    member.wait_for_url(re.compile(r"#/m/work"))
    phones.check(member, "member-work-before")

    resident = phones.open()
    login(phones, resident, "resident1", "login")
    phones.check(resident, "resident-menu")
    resident.get_by_role("button", name=re.compile("家电维修")).click()
    resident.get_by_role("button", name="提交点单").click()
    # the API's own message, beside the field it concerns
    field = resident.locator(".van-field", has=resident.locator("#f-appliance"))
    expect(field).to_contain_text("“需要维修的电器”为必填项")
    resident.get_by_label("需要维修的电器").fill("洗衣机")
    resident.get_by_label("需求描述").fill("洗衣机不脱水")
    resident.get_by_label("服务地址").fill("3栋502")
    resident.get_by_label("联系电话").fill("电话")
    resident.get_by_role("button", name="提交点单").click()
    expect(resident.get_by_text("电话号码格式不对")).to_be_visible()
    phones.check(resident, "resident-order-errors")
    resident.get_by_label("联系电话").fill(PHONE)
    resident.get_by_label("希望时间：日期").fill("2026-12-20")
    resident.get_by_label("希望时间：时间").fill("09:30")
    resident.get_by_role("button", name="提交点单").click()
    resident.wait_for_url(re.compile(r"#/r/requests/\d+"))
    request_id = int(resident.url.rsplit("/", 1)[1])
    expect(resident.get_by_text("洗衣机不脱水")).to_be_visible()
    expect(resident.get_by_text("2026-12-20 09:30")).to_be_visible()
    phones.check(resident, "resident-request-submitted")

    # the offer reaches the member's open page within 5 s, without a reload
    offer = member.locator(f"a[href$='#/m/requests/{request_id}']")
    expect(offer).to_be_visible(timeout=5_000)
    phones.check(member, "member-work-offer")
    offer.click()
    member.wait_for_url(re.compile(rf"#/m/requests/{request_id}$"))
    expect(member.get_by_text("洗衣机不脱水")).to_be_visible()
    expect(member.get_by_text("3栋502")).to_be_visible()
    expect(member.get_by_text("139****4321")).to_be_visible()
    phones.check(member, "member-offer-detail")
    member.get_by_role("button", name="接单", exact=True).click()
    expect(member.locator(f"a[href='tel:{PHONE}']")).to_be_visible()
    phones.check(member, "member-claimed")
    member.get_by_role("button", name="开始服务").click()
    expect(member.get_by_text("服务中").first).to_be_visible()
    # the member states the hours actually served, within the menu item's bounds
    expect(member.get_by_text("实际服务时长")).to_be_visible()
    stated = float(member.locator(".van-stepper__input").input_value())
    phones.check(member, "member-complete-hours")
    member.get_by_role("button", name="服务完成").click()
    expect(member.get_by_text(f"本次实际服务 {stated:g} 小时")).to_be_visible()
    expect(member.get_by_role("dialog", name="服务完成")).to_be_visible()
    phones.check(member, "member-complete-confirm")
    member.get_by_role("button", name="确认完成").click()
    expect(member.get_by_text("已完成待确认").first).to_be_visible()
    phones.check(member, "member-completed")

    # the resident's open page learns of it too, without a reload
    expect(resident.get_by_text("服务已完成，请评价")).to_be_visible(timeout=8_000)
    resident.get_by_role("radio", name="4星").click()
    resident.get_by_role("textbox", name="评价").fill("王师傅很细心，洗衣机修好了")
    phones.check(resident, "resident-rate")
    resident.get_by_role("button", name="确认完成并评价").click()
    expect(resident.get_by_text("已办结").first).to_be_visible()
    expect(resident.get_by_text("4 星")).to_be_visible()
    phones.check(resident, "resident-request-closed")
    resident.goto("#/r/requests")
    expect(resident.get_by_text("洗衣机不脱水").first).to_be_visible()
    phones.check(resident, "resident-requests")

    # the community confirms the stated hours: only confirmed hours count on the card
    staff = Api(web, "staff1")

    def stated_entry():
        queue = staff.get("/api/records/queue").json()
        return next((e for e in queue if e["source"] == "request" and e["ref_id"] == request_id), None)

    entry = wait_for(stated_entry, 20, "the stated hours in the confirmation queue")
    assert entry["stated_hours"] == stated
    assert staff.post(f"/api/records/entries/{entry['id']}/confirm").status_code == 200

    def card_numbers():
        member.goto("#/m/card")
        member.wait_for_load_state("networkidle")
        numbers = member.locator(".numbers strong").all_inner_texts()
        return numbers if numbers and float(numbers[1]) >= stated and numbers[2] not in ("—", "0") else None

    numbers = wait_for(card_numbers, 30, "hours and points on the card")
    assert int(numbers[2]) > 0
    phones.check(member, "member-card")


def test_resident_and_member_screens(phones, web):
    from playwright.sync_api import expect

    page = phones.open()
    login(phones, page, "resident1")
    for path, name, expected in (("#/r/wishes", "resident-wishes", "发布心愿"),
                                 ("#/r/opinions", "resident-opinions", "我提的意见"),
                                 ("#/activities", "resident-activities", "可报名"),
                                 ("#/inbox", "resident-inbox", "未读"),
                                 ("#/r/me", "resident-me", "微心愿")):
        page.goto(path)
        expect(page.get_by_text(expected).first).to_be_visible()
        phones.check(page, name)
    page.goto("#/r/wishes")
    title = f"想要一副老花镜{uuid.uuid4().hex[:4]}"
    page.get_by_label("我的心愿").fill(title)
    page.get_by_role("button", name="发布心愿").click()
    expect(page.get_by_text(title)).to_be_visible()
    page.goto("#/r/opinions")
    page.get_by_label("标题").fill("楼道灯坏了")
    page.get_by_label("内容").fill("5栋二楼楼道灯不亮，晚上看不见")
    page.get_by_role("button", name="提交", exact=True).click()
    expect(page.get_by_text("楼道灯坏了").first).to_be_visible()

    page = phones.open()
    login(phones, page, "13800000001")
    for path, name, expected in (("#/m/claim", "member-claim", "社区需求"),
                                 ("#/m/points", "member-points", "累计积分"),
                                 ("#/m/profile", "member-profile", "服务岗位"),
                                 ("#/m/transfer", "member-transfer", "提交转移"),
                                 ("#/m/me", "member-me", "电子义工证"),
                                 ("#/inbox", "member-inbox", "未读")):
        page.goto(path)
        expect(page.get_by_text(expected).first).to_be_visible()
        phones.check(page, name)
    page.goto("#/m/claim")
    page.get_by_role("tab", name=re.compile("微心愿")).click()
    expect(page.get_by_text(title)).to_be_visible()
    phones.check(page, "member-claim-wishes")


def test_pending_member_sees_the_notice_and_cannot_claim(phones, web):
    from playwright.sync_api import expect

    username = f"139{uuid.uuid4().int % 10**8:08d}"
    first17 = f"4406041990{uuid.uuid4().int % 10**7:07d}"
    community = Api(web, "staff2").user["community_id"]  # 跃进社区: other tests count 东风's review queue
    resp = requests.post(web.url("/api/registrations/signup"), timeout=15, json={
        "name": "赵新", "phone": username, "id_number": first17 + id_number_check_char(first17),
        "community_id": community, "password": "demo1234", "skills": ["维修"]})
    assert resp.status_code == 201, resp.text
    page = phones.open()
    login(phones, page, username)
    page.wait_for_url(re.compile(r"#/m/status"))
    expect(page.get_by_text("报到待审核")).to_be_visible()
    expect(page.get_by_text("社区正在审核")).to_be_visible()
    assert page.get_by_text("接单", exact=True).count() == 0
    phones.check(page, "member-pending")
    # the member pages are out of reach until the community accepts the registration
    page.goto("#/m/work")
    page.wait_for_url(re.compile(r"#/m/status"))
    page.goto("#/m/claim")
    page.wait_for_url(re.compile(r"#/m/status"))


def test_member_checks_in_by_the_on_site_code(phones, web):
    from playwright.sync_api import expect

    staff = Api(web, "staff1")
    now = datetime.now(UTC)
    resp = staff.post("/api/activities", {
        "title": f"社区义诊{uuid.uuid4().hex[:4]}", "place": "东风社区服务中心", "places": 10,
        "starts_at": (now + timedelta(minutes=10)).isoformat(), "ends_at": (now + timedelta(hours=2)).isoformat()})
    assert resp.status_code == 201, resp.text
    activity = resp.json()
    try:
        page = phones.open()
        login(phones, page, "13800000004")
        page.goto("#/activities")
        page.get_by_role("link", name=re.compile(activity["title"])).click()
        expect(page.get_by_role("button", name="报名参加")).to_be_visible()
        phones.check(page, "activity-detail")
        page.get_by_role("button", name="报名参加").click()
        expect(page.get_by_text("我的报名：已报名")).to_be_visible()
        page.get_by_label("签到", exact=True).fill("12345")
        page.get_by_role("button", name="签到", exact=True).click()
        expect(page.get_by_text("签到码为6位数字")).to_be_visible()
        phones.check(page, "activity-check-in")
        code = staff.get(f"/api/activities/{activity['id']}/code").json()["code"]
        page.get_by_label("签到", exact=True).fill(code)
        page.get_by_role("button", name="签到", exact=True).click()
        expect(page.get_by_text(re.compile("签到："))).to_be_visible()
        phones.check(page, "activity-checked-in")
    finally:
        staff.post(f"/api/activities/{activity['id']}/cancel", {"reason": "测试结束"})
