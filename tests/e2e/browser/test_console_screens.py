"""Every other console screen renders in Chinese and passes axe (0 critical/serious), per role."""

import pytest

SCREENS = {
    "staff1": ["/community/roster", "/community/menu", "/community/quarters", "/messages"],
    "grid1": ["/grid", "/grid/members", "/grid/activities"],
    "street": ["/area/requests", "/area/quarters"],
}


@pytest.mark.parametrize("username", list(SCREENS))
def test_screens_of_each_role_pass_axe(screen, web, username):
    screen.sign_in(username)
    page = screen.page
    page.wait_for_url(lambda url: "/login" not in url)
    for path in SCREENS[username]:
        page.goto(web.url(path))
        page.locator("main h2").first.wait_for()
        page.wait_for_timeout(300)
        screen.shot(f"{username}{path.replace('/', '-')}")
    if username == "staff1":
        period = next(p["period"] for p in web.login("staff1").get("/api/scoring/quarters").json()
                      if p["state"] == "closed")
        page.goto(web.url(f"/community/notice/{period}"))
        page.get_by_text("公示").first.wait_for()
        screen.shot("staff1-notice")
        page.goto(web.url("/community/roster"))
        page.get_by_label("特长").fill("法律")
        page.get_by_label("特长").press("Enter")
        page.locator(".el-table__body tr", has_text="张伟").wait_for()
        page.locator(".el-table__body tr", has_text="张伟").get_by_role("button", name="积分").click()
        page.get_by_text("累计").wait_for()
        screen.shot("staff1-points")
