"""/docs (Swagger UI from the swagger-ui-bundle package's own assets) and /asyncapi in a real browser."""

import requests

from tests.e2e.browser.conftest import SHOTS


def _watch(page):
    problems = []
    page.on("pageerror", lambda exc: problems.append(f"script error: {exc}"))
    page.on("console", lambda msg: msg.type == "error" and problems.append(f"console: {msg.text}"))
    page.on("requestfailed", lambda req: problems.append(f"request failed: {req.url}"))
    page.on("response", lambda resp: resp.status >= 400 and problems.append(f"{resp.status}: {resp.url}"))
    return problems


def test_docs_load_with_every_operation_and_no_script_error(screen, web):
    page = screen.page
    problems = _watch(page)
    screen.goto("/docs")
    page.wait_for_selector(".opblock", timeout=30000)
    page.wait_for_load_state("networkidle")
    spec = requests.get(web.url("/openapi.json"), timeout=10).json()
    paths = page.locator(".opblock-summary-path")
    assert paths.count() == sum(len(ops) for ops in spec["paths"].values())
    assert "/api/auth/login" in paths.all_inner_texts()
    assert "宝岛" in page.title()
    page.screenshot(path=str(SHOTS / "api-docs.png"))
    assert not problems, problems
    loaded = page.evaluate("performance.getEntries().map(e => e.name)")
    external = [u for u in loaded if u.startswith("http") and not u.startswith(web.base_url)]
    assert not external, external  # no CDN: every asset from the gateway


def test_asyncapi_page_lists_the_channels(screen, web):
    page = screen.page
    problems = _watch(page)
    screen.goto("/asyncapi")
    page.wait_for_selector("section.channel")
    document = requests.get(web.url("/asyncapi.json"), timeout=10).json()
    headings = page.locator("section.channel h2")
    assert headings.count() >= len(document["channels"])
    assert any("events/request.submitted" in text for text in headings.all_inner_texts())
    page.screenshot(path=str(SHOTS / "asyncapi.png"))
    assert not problems, problems
