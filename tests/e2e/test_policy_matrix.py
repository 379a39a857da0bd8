"""The role × operation matrix, generated from the one policy table (authz/table.py) and the
OpenAPI document the gateway serves: every signed-in operation, as every role (and nobody), on data
of 东风社区 (community 3, street 2, district 1) by an actor of the same place ("own") and by actors of
another community on the same street, another street of the district and another district, through
the real gateway with real tokens.

- the role gate: a role the table leaves out gets 403 (nobody: 401) — on every operation;
- a foreign actor whose scope does not reach community 3 gets 403/404 and nothing happens;
- a list a foreign actor may read carries nothing of community 3;
- a read the table allows the own actor is not refused.

Commands are only ever sent where the policy says no (the shared platform keeps its data); a denied
command whose body the gateway could not even parse (400) is counted apart and reported.
"""

import json
import os
import re
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

import authz
from authz.table import TABLE
from services.registration.domain import id_number_check_char

HOME = {"community_id": 3, "street_id": 2, "district_id": 1}
# the tree facts of every record the matrix aims at; owners, assignees and units differ per record, so
# an own actor's own/assigned/unit rules are left to the record (the service decides, and is not refused
# by the gate), while a foreign actor never owns, is assigned to or works for anything of community 3
HOME_FACTS = authz.facts(community_id=3, street_id=2, district_id=1)
# role → [(scope, username)]; "own" lives in 东风社区 / 石湾镇街道 / 禅城区
ACTORS = {
    "resident": [("own", "resident1"), ("other community", "resident2"), ("other street", "resident3"),
                 ("other district", "resident4")],
    "member": [("own", "13800000001"), ("other community", "13800000005"), ("other street", "13800000007"),
               ("other district", "13800000008")],
    "grid_leader": [("own", "grid1")],
    "community_staff": [("own", "staff1"), ("other community", "staff2"), ("other street", "staff3"),
                        ("other district", "staff4")],
    "street_staff": [("own", "street"), ("other street", "street2"), ("other district", "street3")],
    "district_staff": [("own", "district"), ("other district", "district2")],
    "unit_org": [("own", "unit1"), ("other district", "unit2")],
    "applicant": [("own", "13566669001"), ("other district", "13566669002")],
}
GATE_MESSAGE = "您的角色不能访问此功能"


def _id(n: int) -> str:
    first17 = f"4406041987{n:07d}"
    return first17 + id_number_check_char(first17)


def _example(schema: dict, components: dict):
    """A body that passes the gateway's validation where it can (so a denial is the policy's)."""
    if "$ref" in schema:
        return _example(components[schema["$ref"].rsplit("/", 1)[1]], components)
    if "example" in schema:
        return schema["example"]
    if schema.get("enum"):
        return schema["enum"][0]
    kind = schema.get("type")
    if kind == "object" or "properties" in schema:
        props = schema.get("properties", {})
        return {k: _example(v, components) for k, v in props.items() if k in schema.get("required", [])}
    if kind == "array":
        return []
    if kind == "integer":
        return max(1, schema.get("minimum", 1))
    if kind == "number":
        return 1.0
    if kind == "boolean":
        return False
    if schema.get("format") == "date-time":
        return "2027-01-10T09:00:00+08:00"
    if schema.get("format") == "date":
        return "2027-01-10"
    return "矩阵测试原因" * max(1, (schema.get("minLength") or 1) // 6 + 1)


def _foreign(value, home_ids) -> bool:
    """Anything of community 3 (or one of its members) inside a response."""
    if isinstance(value, dict):
        if value.get("community_id") == HOME["community_id"]:
            return True
        if value.get("member_id") in home_ids or value.get("resident_id") in home_ids:
            return True
        return any(_foreign(v, home_ids) for v in value.values())
    if isinstance(value, list):
        return any(_foreign(v, home_ids) for v in value)
    return False


@pytest.fixture(scope="module")
def world(platform):
    """Real tokens for every actor, and one record of each kind in 东风社区 to aim at."""
    base = platform.url
    # applicants (sign-ups not yet accepted), in 塘头村 (street 2) and 平东社区: not in 东风社区's own
    # review lists, which other tests count
    for n, community in ((9001, 11), (9002, 19)):
        requests.post(base("/api/registrations/signup"), timeout=15, json={
            "name": f"矩阵{n}", "phone": f"1356666{n:04d}", "id_number": _id(n), "password": "member-pass-1",
            "community_id": community})
    clients = {}
    for role, cells in ACTORS.items():
        for scope, username in cells:
            password = "member-pass-1" if role == "applicant" else "demo1234"
            client = platform.login(username, password)
            assert client.user["role"] == role, (username, client.user)
            clients[(role, scope)] = client
    staff, resident = clients[("community_staff", "own")], clients[("resident", "own")]
    legal = next(i for i in staff.get("/api/communities/3/menu").json() if i["title"] == "法律咨询")
    request = resident.post("/api/requests", {"menu_item_id": legal["id"], "fields": {"topic": "family"}}).json()
    wish = resident.post("/api/wishes", {"title": "矩阵心愿"}).json()
    opinion = resident.post("/api/opinions", {"kind": "suggestion", "title": "矩阵", "content": "矩阵测试意见"})
    activity = staff.post("/api/activities", {"title": "矩阵活动", "place": "广场", "places": 3,
                                              "starts_at": "2027-01-10T09:00:00+08:00",
                                              "ends_at": "2027-01-10T11:00:00+08:00"}).json()
    notice = staff.post("/api/notices", {"title": "矩阵通知", "body": "正文",
                                         "audience": {"roles": ["member"], "community_id": 3}}).json()
    imported = staff.post("/api/roster/import?filename=m.csv&community_id=3",
                          data="姓名,手机号码,身份证号码\n坏行,1,2\n".encode("utf-8-sig"),
                          headers={"Content-Type": "text/csv"}).json()
    deliveries = staff.get("/api/notification-deliveries").json()
    inbox = resident.get("/api/inbox").json()
    ids = {
        "community_id": 3, "place_id": 3, "district_id": 1, "work_unit_id": 1, "member_id": 9,
        "request_id": request["id"], "wish_id": wish["id"], "activity_id": activity["id"],
        "opinion_id": opinion.json().get("id", 1) if opinion.status_code == 201 else 1,
        "menu_item_id": legal["id"], "notice_id": notice.get("id", 1),
        "e_branch_id": staff.get("/api/communities/3/e-branches").json()[0]["id"],
        "team_id": staff.get("/api/communities/3/teams").json()[0]["id"],
        "import_id": imported.get("error", {}).get("import_id", 1),
        "delivery_id": deliveries[0]["id"] if deliveries else 1,
        "message_id": (inbox.get("messages") or [{"id": 1}])[0]["id"],
        "conflict_id": 1, "rejection_id": 1, "period": "2001Q3",
    }
    # an old quarter of the matrix's own, closed, so rankings and exports answer with rows
    closed = clients[("district_staff", "own")].post("/api/scoring/quarters/close", {"period": ids["period"]})
    assert closed.status_code in (201, 409), closed.text
    home_ids = {9, 10, 11, 12, 6}  # 东风社区's demo members and resident1
    return clients, ids, home_ids


def _cells(doc, ids, database, full):
    """Every (operation, role, scope) to try. ``full``: every foreign scope of every role on every
    operation; otherwise (``make test``'s time budget) each operation takes one foreign scope per role,
    rotating, so every scope of every role is still tried across the operations."""
    components = doc["components"]["schemas"]
    index = -1
    for path, ops in doc["paths"].items():
        for method, op in ops.items():
            index += 1
            if op["x-roles"] == ["public"]:
                continue
            action = op["x-action"]
            assert sorted(op["x-roles"]) == sorted(TABLE[action]), action  # the document is the table
            # a kind of record the matrix made none of (added by a later issue): id 1
            url = re.sub(r"\{(\w+)\}", lambda m: str(ids.get(m.group(1), 1)), path)
            query = {p["name"]: _example(p["schema"], components) for p in op.get("parameters", [])
                     if p["in"] == "query" and p.get("required")}
            body = None
            if "requestBody" in op:
                body = _example(op["requestBody"]["content"]["application/json"]["schema"], components)
            has_place = bool(re.search(r"\{(?!period)\w+\}", path))
            request = (method, url, query, body)
            if database == "sqlite":  # the role gate does not depend on the database: once is enough
                yield action, "anonymous", "-", None, "unauthenticated", request
            for role, cells in ACTORS.items():
                gate = role in TABLE[action]
                for n, (scope, _) in enumerate(cells):
                    if not gate:
                        # the gate is the role's, wherever the actor lives: one actor per role suffices
                        if n == 0 and database == "sqlite":
                            yield action, role, scope, None, "gate", request
                        continue
                    foreign = [s for s, _ in cells if s != "own"]
                    if scope != "own" and not full and foreign[index % len(foreign)] != scope:
                        continue
                    if scope != "own" and has_place:
                        yield action, role, scope, has_place, "scope", request
                    elif database == "sqlite" or scope != "own":
                        yield action, role, scope, has_place, "list" if scope != "own" else "own", request


def _try(platform, clients, home_ids, cell):
    action, role, scope, has_place, kind, (method, url, query, body) = cell
    reading = method == "get"
    if kind == "unauthenticated":
        resp = requests.request(method, platform.url(url), params=query, json=body, timeout=60)
        return None if resp.status_code == 401 else (action, role, scope, resp.status_code)
    client = clients[(role, scope)]
    rules = authz.POLICY.rules(action).get(role, ())
    reaches_home = authz.permits(client.user, action, HOME_FACTS)
    denied = kind == "gate" or (kind == "scope" and not reaches_home)
    if not denied and not reading:
        return "skipped"  # never carry out a permitted command on the shared platform
    resp = client.session.request(method, platform.url(url), params=query, json=body, timeout=60)
    code = resp.status_code
    try:
        payload = resp.json()
    except ValueError:
        payload = None
    error = payload.get("error", {}) if isinstance(payload, dict) else {}
    if 200 <= code < 300 and denied:
        return action, role, scope, f"EXECUTED {code}"
    if kind == "gate":
        return None if code == 403 and error.get("message") == GATE_MESSAGE else (action, role, scope, code)
    if denied:
        if code in (403, 404):
            return None
        if code == 409 and set(rules) <= {"own", "assigned"}:
            return None  # the actor's own record (a sign-up, a claim) does not exist: nothing to act on
        if code in (400, 422) and not reading:
            return "unparsed"
        return action, role, scope, code
    # allowed reads
    if code == 401 or (code == 403 and error.get("message") == GATE_MESSAGE):
        return action, role, scope, code
    if kind == "own" and reaches_home and has_place and code == 403 and error.get("code") == "FORBIDDEN":
        return action, role, scope, f"own refused: {error.get('message')}"
    if kind != "own" and 200 <= code < 300 and payload is not None and "any" not in rules \
            and _foreign(payload, home_ids):
        return action, role, scope, "foreign data in the answer"
    return None


def test_role_by_operation_matrix(platform, world, database):
    clients, ids, home_ids = world
    doc = requests.get(platform.url("/openapi.json"), timeout=15).json()
    full = os.environ.get("MATRIX_FULL") == "1"
    cells = list(_cells(doc, ids, database, full))
    started = time.monotonic()
    with ThreadPoolExecutor(max_workers=4) as pool:  # a few clients at once, as staff would be
        outcomes = list(pool.map(lambda c: _try(platform, clients, home_ids, c), cells))
    failures = [o for o in outcomes if isinstance(o, tuple)]
    operations = {c[0] for c in cells}
    summary = {"database": database, "full": full, "operations": len(operations), "roles": len(ACTORS) + 1,
               "scopes": 4, "logical_cells": len(operations) * (len(ACTORS) + 1) * 4,
               "tried": sum(o != "skipped" for o in outcomes), "skipped_permitted_commands": outcomes.count("skipped"),
               "denials_stopped_at_validation": outcomes.count("unparsed"), "failures": len(failures),
               "seconds": round(time.monotonic() - started, 1)}
    print("MATRIX " + json.dumps(summary, ensure_ascii=False))
    assert not failures, "\n".join(map(str, failures[:80]))
