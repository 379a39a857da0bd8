"""Crafted bad input against every operation of the real platform: never a 5xx, always the one
error format (Open311's under /open311/), never a stored value that breaks a later call.

The cases are derived from the live ``/openapi.json``, so endpoints added later are covered too:
deep nesting, lone surrogates and integers beyond 64 bits in every body field, every path id
and every query parameter, floats beyond any domain bound, and the Open311 routes.
"""

import json
import re
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

HUGE = 10**20  # beyond 64 bits
DEEP = "[" * 100_000
SURROGATE_JSON = '"\\ud800"'
# a demo login for each role: every case is sent as a caller the operation admits
LOGINS = {"community_staff": "staff1", "district_staff": "district", "street_staff": "street",
          "resident": "resident1", "member": "13800000001", "public": "staff1"}


def _schema(doc, ref_or_schema):
    schema = ref_or_schema or {}
    while "$ref" in schema:
        schema = doc["components"]["schemas"][schema["$ref"].rsplit("/", 1)[1]]
    return schema


def _operations(doc):
    for path, item in doc["paths"].items():
        for method, op in item.items():
            if method in ("get", "post", "put", "patch", "delete"):
                yield method.upper(), path, op


def _fill(path, value="3"):
    return re.sub(r"\{[^}]+\}", lambda m: "json" if m.group(0) == "{format}" else value, path)


def _cases(doc):
    """(login, method, url path, body bytes or None, label) for every crafted input."""
    for method, path, op in _operations(doc):
        login = next((LOGINS[r] for r in op.get("x-roles", []) if r in LOGINS), "staff1")
        for case in _op_cases(doc, method, path, op):
            yield (login, *case)


def _op_cases(doc, method, path, op):
    params = [p for p in op.get("parameters", []) if p.get("in") == "path" and p["name"] != "format"]
    for p in params:
        for bad in (str(HUGE), str(2**40), str(2**63)):
            yield method, _fill(path.replace("{" + p["name"] + "}", bad)), None, f"path {p['name']}={bad}"
    for q in (p for p in op.get("parameters", []) if p.get("in") == "query"):
        yield method, _fill(path) + f"?{q['name']}={HUGE}", None, f"query {q['name']}"
        yield method, _fill(path) + f"?{q['name']}=%ED%A0%80", None, f"query {q['name']} bad utf-8"
    body = op.get("requestBody", {}).get("content", {}).get("application/json")
    if method == "GET" or body is None:
        return
    yield method, _fill(path), DEEP.encode(), "deep nesting"
    yield method, _fill(path), b'{"a":' * 5000, "deep object"
    yield method, _fill(path), b"\xff\xfe{}", "invalid utf-8"
    yield method, _fill(path), b'{"x": NaN}', "NaN"
    yield method, _fill(path), b"{" + b'"k":' + b"1" * 5000 + b"}", "5000-digit integer"
    props = _schema(doc, body.get("schema")).get("properties", {})
    for name in props:
        yield method, _fill(path), f'{{"{name}": {SURROGATE_JSON}}}'.encode(), f"surrogate {name}"
        yield method, _fill(path), f'{{"{name}": [{SURROGATE_JSON}]}}'.encode(), f"surrogate list {name}"
        yield method, _fill(path), f'{{"{name}": {{"k": {SURROGATE_JSON}}}}}'.encode(), f"surrogate dict {name}"
        yield method, _fill(path), f'{{"{name}": {HUGE}}}'.encode(), f"huge int {name}"
        yield method, _fill(path), f'{{"{name}": [{HUGE}]}}'.encode(), f"huge int list {name}"
        yield method, _fill(path), f'{{"{name}": 1.8e19}}'.encode(), f"huge float {name}"


OPEN311 = [
    ("GET", "/open311/v2/requests.json?jurisdiction_id=99999999999999999999"),
    ("GET", "/open311/v2/requests.json?service_request_id=99999999999999999999,1"),
    ("GET", "/open311/v2/requests.xml?start_date=2026-99-99"),
    ("GET", "/open311/v2/requests/99999999999999999999.json"),
    ("GET", "/open311/v2/requests/1.csv"),
    ("GET", "/open311/v2/services.json?jurisdiction_id=" + "9" * 5000),
    ("GET", "/open311/v2/services/99999999999999999999.json?jurisdiction_id=3"),
    ("GET", "/open311/v2/nothing.json"),
    ("POST", "/open311/v2/requests.json"),
    ("DELETE", "/open311/v2/requests.json"),
]


def _send(session, base, method, path, body):
    headers = {"Content-Type": "application/json"} if body is not None else {}
    resp = session.request(method, base + path, data=body, headers=headers, timeout=30)
    return resp


def _check_format(resp, path):
    if not path.startswith(("/api/", "/open311/")) and resp.headers.get("Content-Type", "").startswith("text/html"):
        return  # a page for people (e.g. /verify/<number>) answers with a page
    if ".xml" in path:
        assert "<errors><error><code>" in resp.text
        return
    body = resp.json()
    if path.startswith("/open311/"):
        assert isinstance(body, list) and body[0]["code"] == resp.status_code and body[0]["description"]
    else:
        error = body["error"]
        assert error["code"] and any("\u4e00" <= ch <= "\u9fff" for ch in error["message"]), body


def test_crafted_inputs_never_answer_5xx(platform):
    doc = requests.get(platform.url("/openapi.json"), timeout=15).json()
    cases = list(_cases(doc))
    sessions = {login: platform.login(login).session for login in set(LOGINS.values())}
    jobs = cases + [("staff1", m, p, None, "open311") for m, p in OPEN311]

    def run(job):
        role, method, path, body, label = job
        resp = _send(sessions[role], platform.base_url, method, path, body)
        return role, method, path, label, resp

    failures, statuses = [], {}
    with ThreadPoolExecutor(4) as pool:
        for role, method, path, label, resp in pool.map(run, jobs):
            statuses[resp.status_code] = statuses.get(resp.status_code, 0) + 1
            if resp.status_code >= 500:
                failures.append(f"{role} {method} {path[:120]} [{label}] → {resp.status_code} {resp.text[:200]}")
            elif resp.status_code >= 400:
                try:
                    _check_format(resp, path)
                except (AssertionError, ValueError, KeyError, TypeError):
                    failures.append(f"{role} {method} {path[:120]} [{label}] → not our format: {resp.text[:200]}")
    print(f"\ncrafted cases: {len(jobs)} requests, statuses {sorted(statuses.items())}, "
          f"5xx: {sum(v for k, v in statuses.items() if k >= 500)}")
    assert not failures, "\n".join(failures[:40])
    assert len(jobs) > 500  # the document really was walked


def test_methods_and_bodies_at_the_edge(platform):
    base = platform.base_url
    options = requests.options(base + "/api/requests", timeout=10)
    assert options.status_code == 204 and set(options.headers["Allow"].split(", ")) >= {"GET", "POST", "OPTIONS"}
    trace = requests.request("TRACE", base + "/api/requests", timeout=10)
    assert trace.status_code == 405 and trace.json()["error"]["code"] == "METHOD_NOT_ALLOWED"
    assert "POST" in trace.headers["Allow"]
    trace311 = requests.request("TRACE", base + "/open311/v2/requests.json", timeout=10)
    assert trace311.status_code == 405 and trace311.json()[0]["code"] == 405
    big = requests.post(base + "/api/auth/login", data=b"{" + b" " * (300 * 1024) + b"}", timeout=10)
    assert big.status_code == 413 and big.json()["error"]["code"] == "PAYLOAD_TOO_LARGE"
    form = requests.post(base + "/open311/v2/requests.json", data={"description": "x" * (300 * 1024)}, timeout=10)
    assert form.status_code == 413 and form.json()[0]["code"] == 413
    wrong = requests.put(base + "/api/requests/abc", timeout=10)
    assert wrong.status_code == 404 and wrong.json()["error"]["code"] == "ROUTE_NOT_FOUND"


def test_field_messages_are_chinese(platform):
    staff = platform.login("staff1")
    community = staff.user["community_id"]
    resp = staff.post(f"/api/communities/{community}/menu", {
        "title": "", "category": 5, "points": 1e300, "members_needed": "x", "skills": "法律", "zz": 1})
    assert resp.status_code == 400
    messages = json.dumps(resp.json()["error"]["fields"], ensure_ascii=False)
    assert "不认识的字段" in messages and "应为" in messages
    assert not any(word in messages for word in ("Not a valid", "Must be", "Unknown field", "Length must"))


@pytest.mark.parametrize("field,value", [("open_after_minutes", 1.8e19), ("open_after_minutes", 10**7),
                                         ("offer_top_k", HUGE)])
def test_a_rejected_policy_value_leaves_ordering_working(platform, field, value):
    """``open_after_minutes: 1.8e19`` used to be stored and break every resident's order after it."""
    staff = platform.login("staff1")
    resident = platform.login("resident1")
    community = staff.user["community_id"]
    resp = staff.session.put(platform.url(f"/api/communities/{community}/dispatch-policy"),
                             data=json.dumps({field: value}), headers={"Content-Type": "application/json"},
                             timeout=15)
    assert resp.status_code == 400 and field in resp.json()["error"]["fields"], resp.text
    menu = resident.get(f"/api/communities/{community}/menu").json()
    item = next(i for i in menu if not any(f.get("required") for f in i.get("fields") or []))
    order = resident.post("/api/requests", {"menu_item_id": item["id"], "fields": {}})
    assert order.status_code == 201, order.text
    resident.post(f"/api/requests/{order.json()['id']}/cancel", {"reason": "测试后撤销"})


@pytest.mark.parametrize("url", ["http://169.254.169.254/latest/meta-data", "http://10.0.0.5/hook",
                                 "gopher://example.org/", "http://[::1]:8080/"])
def test_a_receiver_inside_the_network_is_refused_when_it_is_saved(platform, url):
    staff = platform.login("staff1")
    resp = staff.session.put(platform.url("/api/notification-channels"), timeout=15, json={
        "community_id": staff.user["community_id"], "channel": "webhook", "name": "ssrf-probe",
        "config": {"url": url, "secret": "k"}})
    assert resp.status_code == 400, resp.text
    assert resp.json()["error"]["fields"]["config"]["url"]
