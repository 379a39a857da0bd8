"""Browser tests of the web console on the real platform: Debian's chromium driven by Playwright.

Never ``playwright install``: it downloads a browser. Screenshots of every screen go to
``$BAODAO_SCREENSHOTS`` (default ``var/screenshots``, not committed); the path is printed.
Each screen is checked with axe-core (from the web project's npm dependencies): no critical or
serious violation.
"""

import os
import subprocess
from pathlib import Path

import pytest

from common.config import ROOT

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--no-first-run"]
AXE = Path(ROOT) / "web" / "node_modules" / "axe-core" / "axe.min.js"
SHOTS = Path(os.environ.get("BAODAO_SCREENSHOTS", Path(ROOT) / "var" / "screenshots"))
VIEWPORT = {"width": 1366, "height": 768}


@pytest.fixture(scope="session")
def built_web():
    """The built app the gateway serves (``make web`` is a no-op when nothing changed)."""
    subprocess.run(["make", "-s", "web"], cwd=ROOT, check=True)
    assert (Path(ROOT) / "web" / "dist" / "index.html").is_file()


@pytest.fixture
def web(database, built_web, request):
    """The shared session platform, on SQLite only (browser tests do not depend on the database)."""
    if database != "sqlite":
        pytest.skip("browser tests run on SQLite only")
    return request.getfixturevalue("platform")


@pytest.fixture(scope="session")
def browser():
    sync_api = pytest.importorskip("playwright.sync_api")
    from eventlet import patcher

    if patcher.is_monkey_patched("socket"):  # Playwright would hang on its first wait, not fail
        pytest.fail("the browser tests run in a pytest of their own: "
                    "BAODAO_BROWSER_TESTS=1 pytest tests/e2e/browser (make test does this)")
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: apt-get install -y chromium fonts-noto-cjk")
    with sync_api.sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=FLAGS, headless=True)
        SHOTS.mkdir(parents=True, exist_ok=True)
        print(f"\nscreenshots: {SHOTS}")
        yield browser
        browser.close()


class Screen:
    """A browser page of one person, with a screenshot + axe check per screen."""

    def __init__(self, page, web, name):
        self.page, self.web, self.name = page, web, name

    def goto(self, path):
        self.page.goto(self.web.url(path))

    def sign_in(self, username, password="demo1234"):
        self.goto("/login")
        self.page.get_by_label("用户名或手机号").fill(username)
        self.page.get_by_label("密码", exact=True).fill(password)
        self.page.get_by_label("密码", exact=True).press("Enter")

    def shot(self, label):
        """Screenshot the current screen and check it with axe: 0 critical/serious violations."""
        path = SHOTS / f"{self.name}-{label}.png"
        violations = screenshot_and_axe(self.page, path)
        assert not violations, f"axe on {label}: " + "; ".join(
            f"{v['id']} ({v['impact']}): {v['help']} → "
            + str([(n["target"], n["any"][0]["message"] if n["any"] else "") for n in v["nodes"][:3]])
            for v in violations)
        return path


def screenshot_and_axe(page, path, full_page=False):
    """The screen once loaded, saved to ``path``, and its critical/serious axe violations.

    ``animations="disabled"`` fast-forwards running fades to their end (spinners keep turning),
    so the picture and axe after it see settled colours, never a toast or a tag half faded in.
    """
    page.wait_for_load_state("networkidle")
    page.screenshot(path=str(path), full_page=full_page, animations="disabled")
    return axe_violations(page)


def axe_violations(page):
    # evaluated over the DevTools protocol, so the page's CSP (no inline script) still applies to the app
    if not page.evaluate("() => typeof window.axe !== 'undefined'"):
        page.evaluate(AXE.read_text(encoding="utf-8"))
    result = page.evaluate("() => window.axe.run(document, {resultTypes: ['violations']})")
    return [v for v in result["violations"] if v["impact"] in ("critical", "serious")]


@pytest.fixture
def screen(browser, web, request):
    context = browser.new_context(viewport=VIEWPORT, locale="zh-CN", timezone_id="Asia/Shanghai",
                                  accept_downloads=True)
    page = context.new_page()
    page.set_default_timeout(15000)
    errors = []
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    yield Screen(page, web, request.node.name.split("[")[0].removeprefix("test_"))
    context.close()
    csp = [e for e in errors if "Content Security Policy" in e]
    assert not csp, csp
