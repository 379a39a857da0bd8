"""The console's boards (微心愿, 意见建议) and notification screens in a real browser on the real
platform: what community staff see and do, and the effect checked through the API."""

import random
import re

from tests import support
from tests.integration.test_notify_delivery import Receiver


def _row(page, text):
    return page.locator(".el-table__body tr", has_text=text).first


def _closed(page, selector):
    """Drawers and dialogs fade out: screenshots and axe wait until they are gone."""
    for element in page.locator(selector).all():
        element.wait_for(state="hidden")


def _shot(screen, label):
    """What a person looks at: the screen once opening and closing transitions have finished."""
    screen.page.wait_for_function(
        "() => !document.querySelector('[class*=\"-leave-active\"], [class*=\"-enter-active\"]')")
    screen.shot(label)


def _confirm(page):
    page.locator(".el-message-box").get_by_role("button", name="确定").click()
    page.locator(".el-message-box").wait_for(state="hidden")


def test_staff_follow_a_claimed_wish_and_assign_and_resolve_an_opinion(screen, web):
    n = random.randint(1000, 9999)
    resident = web.login("resident1")
    wish = resident.post("/api/wishes", {"title": f"想要一台收音机{n}", "description": "眼睛不好，想听广播"})
    assert wish.status_code == 201, wish.text
    wish_id = wish.json()["id"]
    member = web.login("13800000001")  # 张伟, of the same community
    claimed = member.post(f"/api/wishes/{wish_id}/claim", {})
    assert claimed.status_code == 200 and claimed.json()["state"] == "claimed", claimed.text
    opinion = resident.post("/api/opinions", {"kind": "suggestion", "title": f"楼道灯不亮{n}",
                                              "content": "3栋二单元楼道的灯坏了一周，晚上老人上下楼不安全。"})
    assert opinion.status_code == 201, opinion.text
    opinion_id = opinion.json()["id"]
    staff = web.login("staff1")
    page = screen.page

    screen.sign_in("staff1")
    page.wait_for_url("**/community")
    page.get_by_role("menuitem", name="微心愿").click()
    page.locator(".el-radio-button", has_text="已认领").click()
    row = _row(page, f"想要一台收音机{n}")
    row.get_by_text("张伟").wait_for()  # who claimed, on the board
    assert "已认领" in row.inner_text()
    _shot(screen, "wishes")
    row.get_by_role("button", name="查看").click()
    drawer = page.locator(".el-drawer")
    drawer.get_by_text("办理记录").wait_for()
    drawer.get_by_text("已有党员认领，正在实现").wait_for()
    drawer.get_by_text("张伟").first.wait_for()  # names arrive with their own lookup, after the wish
    drawer.get_by_text("（居民 黄阿姨）").wait_for()  # the record names who acted, not 居民 #6
    assert "电话" in drawer.inner_text()  # staff may call to follow up
    _shot(screen, "wish-drawer")
    page.keyboard.press("Escape")
    _closed(page, ".el-drawer")

    page.get_by_role("menuitem", name="意见建议").click()
    row = _row(page, f"楼道灯不亮{n}")
    row.wait_for()
    assert "已收集" in row.inner_text()
    _shot(screen, "opinions")
    row.get_by_role("button", name="办理").click()
    drawer = page.locator(".el-drawer")
    drawer.get_by_label("承办人").fill("李主任（物业办）")
    drawer.get_by_label("办理天数").fill("3")
    drawer.get_by_label("交办说明").fill("请本周内修好")
    drawer.get_by_role("button", name="交办", exact=True).click()
    page.get_by_text("已交办给 李主任（物业办）").wait_for()
    after = staff.get(f"/api/opinions/{opinion_id}").json()
    assert after["state"] == "assigned" and after["assignee"] == "李主任（物业办）", after
    assert all(e["actor_name"] for e in after["history"]), after["history"]  # who acted, by name
    drawer.locator(".timeline").get_by_text("居民 黄阿姨").first.wait_for()  # the opinion's record names them too
    _shot(screen, "opinion-assigned")

    drawer.get_by_role("button", name="办结并答复").click()
    drawer.get_by_text("请填写给群众的答复").wait_for()  # the error beside the field, nothing sent
    assert staff.get(f"/api/opinions/{opinion_id}").json()["state"] == "assigned"
    reply = "物业已于今日更换楼道灯，感谢您的反映。"
    drawer.get_by_label("答复内容").fill(reply)
    drawer.get_by_role("button", name="办结并答复").click()
    _confirm(page)
    page.get_by_text("已办结，答复已发给群众").wait_for()
    drawer.get_by_text(reply).first.wait_for()
    resolved = staff.get(f"/api/opinions/{opinion_id}").json()
    assert resolved["state"] == "resolved" and resolved["resolution"] == reply, resolved
    _shot(screen, "opinion-resolved")
    # the resident sees the answer in their own list
    mine = next(o for o in resident.get("/api/opinions").json() if o["id"] == opinion_id)
    assert mine["state"] == "resolved" and mine["resolution"] == reply
    stats = staff.get("/api/opinion-stats").json()
    assert stats and stats[0]["resolved"] >= 1


def test_staff_set_a_webhook_see_it_fail_fix_it_and_resend_and_preview_a_template(screen, web):
    n = random.randint(1000, 9999)
    name = f"看板测试{n}"
    receiver = Receiver()
    staff = web.login("staff1")
    community_id = staff.user["community_id"]
    page = screen.page
    try:
        screen.sign_in("staff1")
        page.wait_for_url("**/community")
        page.get_by_role("menuitem", name="通知渠道").click()
        page.get_by_role("button", name="新增渠道").click()
        dialog = page.locator(".el-dialog")
        dialog.get_by_label("名称").fill(name)
        dialog.get_by_label("接收地址").fill(f"{receiver.url}/bad")  # answers 404: gives up at once
        dialog.get_by_label("签名密钥").fill("board-test-secret")
        _shot(screen, "channel-new")
        dialog.get_by_role("button", name="保存").click()
        page.get_by_text("渠道设置已保存").wait_for()
        _closed(page, ".el-dialog")
        row = _row(page, name)
        row.wait_for()
        assert "board-test-secret" not in row.inner_text()  # the secret is hidden once saved
        _shot(screen, "channels")
        setting = next(s for s in staff.get("/api/notification-channels").json() if s["name"] == name)

        # a resident's request makes a 新需求 message for the community's webhook: it fails for real
        resident = web.login("resident1")
        made = resident.post("/api/requests", {"menu_item_id": 1, "fields": {"topic": "family"}})
        assert made.status_code == 201, made.text
        dead = support.wait_for(lambda: next((d for d in staff.get(
            "/api/notification-deliveries", params={"status": "dead"}).json()
            if d["setting_id"] == setting["id"]), None), timeout=30, message="the dead delivery")
        assert receiver.to("/bad") and "404" in (dead["last_error"] or ""), dead

        # staff fix the address (the secret is typed again), then resend from the failures list
        row.get_by_role("button", name="修改").click()
        dialog = page.locator(".el-dialog")
        dialog.get_by_label("接收地址").fill(f"{receiver.url}/ok")
        dialog.get_by_label("签名密钥").fill("board-test-secret")
        dialog.get_by_role("button", name="保存").click()
        page.get_by_text("渠道设置已保存").last.wait_for()
        _closed(page, ".el-dialog")

        page.get_by_role("menuitem", name="投递失败与重发").click()
        failure = page.locator(".el-table__body tr").filter(
            has=page.locator("td:first-child", has_text=re.compile(rf"^\s*{dead['id']}\s*$"))).first
        failure.wait_for()
        assert "投递失败" in failure.inner_text() and "404" in failure.inner_text()
        _shot(screen, "deliveries")
        failure.get_by_role("button", name="查看").click()
        drawer = page.locator(".el-drawer")
        drawer.get_by_text("失败原因").wait_for()
        _shot(screen, "delivery")
        drawer.get_by_role("button", name="重发").click()
        _confirm(page)
        page.get_by_text("已安排重发").wait_for()
        sent = support.wait_for(lambda: (d := staff.get(f"/api/notification-deliveries/{dead['id']}").json())
                                ["status"] == "sent" and d, timeout=30, message="the resent delivery")
        assert sent["sent_at"] and receiver.to("/ok")
        drawer.get_by_role("button", name="刷新").click()
        drawer.get_by_text("已发送").wait_for()
        page.keyboard.press("Escape")
        _closed(page, ".el-drawer")

        page.get_by_role("menuitem", name="消息模板").click()
        _row(page, "群聊：新需求").click()
        page.get_by_role("button", name="预览").click()
        page.get_by_text("还缺少：title").wait_for()
        page.get_by_label("标题（事项名称）").fill("法律咨询")
        page.get_by_role("button", name="预览").click()
        page.get_by_text("【新需求】法律咨询").wait_for()
        _shot(screen, "template-preview")
    finally:
        staff.session.put(web.url("/api/notification-channels"), timeout=15, json={
            "community_id": community_id, "channel": "webhook", "name": name, "enabled": False,
            "config": {"url": f"{receiver.url}/ok", "secret": "board-test-secret"}})
        receiver.close()
