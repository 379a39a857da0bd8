"""Load pages in Debian's chromium and report what a person would see, as one JSON line.

Run as its own process (``python -m tests.e2e.browser_pages URL...``): Playwright's sync API
hangs on exit in a process eventlet has monkey-patched while other children run (the tests').
"""

import json
import sys

from playwright.sync_api import sync_playwright

CHROMIUM = "/usr/bin/chromium"
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--no-first-run"]


def visit(browser, url: str, wait_for: str, count: str, screenshot: str | None) -> dict:
    page = browser.new_page()
    problems = []
    page.on("pageerror", lambda exc: problems.append(f"script error: {exc}"))
    page.on("console", lambda msg: msg.type == "error" and problems.append(f"console: {msg.text}"))
    page.on("requestfailed", lambda req: problems.append(f"request failed: {req.url}"))
    page.on("response", lambda resp: resp.status >= 400 and problems.append(f"{resp.status}: {resp.url}"))
    page.goto(url)
    page.wait_for_selector(wait_for, timeout=30000)
    page.wait_for_load_state("networkidle")
    result = {
        "title": page.title(),
        "count": page.locator(count).count(),
        "texts": page.locator(count).all_inner_texts()[:500],
        "resources": page.evaluate("performance.getEntries().map(e => e.name)"),
        "problems": problems,
    }
    if screenshot:
        page.screenshot(path=screenshot, full_page=False)
    page.close()
    return result


def main(argv):
    """argv: a JSON list of {url, wait_for, count, screenshot}; prints a JSON list of results."""
    jobs = json.loads(argv[0])
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        results = [visit(browser, j["url"], j["wait_for"], j["count"], j.get("screenshot")) for j in jobs]
        browser.close()
    print(json.dumps(results, ensure_ascii=False))


if __name__ == "__main__":
    main(sys.argv[1:])
