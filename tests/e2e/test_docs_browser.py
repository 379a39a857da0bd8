"""/docs (Swagger UI from the package's own assets) and /asyncapi load in a real browser."""

import json
import os
import subprocess
import sys

import pytest
import requests

from common.config import ROOT
from tests.e2e.browser_pages import CHROMIUM


@pytest.fixture(scope="module")
def pages(platform, database, tmp_path_factory):
    if database != "sqlite":
        pytest.skip("browser tests run on SQLite only")
    if not os.path.exists(CHROMIUM):
        pytest.skip("Debian's chromium is not installed (apt-get install -y chromium)")
    shots = tmp_path_factory.mktemp("docs-browser")
    jobs = [{"url": platform.url("/docs"), "wait_for": ".opblock", "count": ".opblock-summary-path",
             "screenshot": str(shots / "docs.png")},
            {"url": platform.url("/asyncapi"), "wait_for": "section.channel", "count": "section.channel h2",
             "screenshot": str(shots / "asyncapi.png")}]
    out = subprocess.run([sys.executable, "-m", "tests.e2e.browser_pages", json.dumps(jobs)], cwd=ROOT,
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    docs, asyncapi = json.loads(out.stdout.strip().splitlines()[-1])
    return {"docs": docs, "asyncapi": asyncapi}


def test_docs_load_with_every_operation_and_no_script_error(platform, pages):
    docs = pages["docs"]
    assert not docs["problems"], docs["problems"]
    spec = requests.get(platform.url("/openapi.json"), timeout=10).json()
    assert docs["count"] == sum(len(ops) for ops in spec["paths"].values())
    assert "/api/auth/login" in docs["texts"]
    assert "宝岛" in docs["title"]
    external = [r for r in docs["resources"] if r.startswith("http") and not r.startswith(platform.base_url)]
    assert not external, external  # no CDN: every asset from the gateway


def test_asyncapi_page_lists_the_channels(platform, pages):
    page = pages["asyncapi"]
    assert not page["problems"], page["problems"]
    document = requests.get(platform.url("/asyncapi.json"), timeout=10).json()
    assert page["count"] >= len(document["channels"])
    assert any("events/request.submitted" in text for text in page["texts"])


def test_favicon_answers_without_a_traceback(platform):
    before = len(platform.log())
    resp = requests.get(platform.url("/favicon.ico"), timeout=10)
    assert resp.status_code == 200 and resp.headers["Content-Type"] == "image/png"
    assert "Traceback" not in platform.log()[before:]
