"""/favicon.ico answers (the browser tests of /docs and /asyncapi are in tests/e2e/browser/)."""

import requests


def test_favicon_answers_without_a_traceback(platform):
    before = len(platform.log())
    resp = requests.get(platform.url("/favicon.ico"), timeout=10)
    assert resp.status_code == 200 and resp.headers["Content-Type"] == "image/png"
    assert "Traceback" not in platform.log()[before:]
