"""The trust boundary over HTTP, one regression per finding of issue #11, with real demo logins on the
whole platform (the shared one): nobody acts beyond who they are."""

import hashlib
import hmac
import io
import json
import os
import subprocess
import sys
import time

import jwt
import pytest
import requests
from openpyxl import load_workbook
from sqlalchemy import create_engine, text

from common.config import ROOT
from services.registration.demo import demo_id_number
from services.registration.domain import id_number_check_char
from tests import support

SIGNUP = "/api/registrations/signup"


@pytest.fixture(autouse=True)
def _sqlite_only(database):
    """The findings' regressions run once (make test's time budget); the persistence they rely on
    (token versions, the review queue, scopes) runs on PostgreSQL too in the integration tests and
    in the role × operation matrix."""
    if database != "sqlite":
        pytest.skip("the findings' e2e regressions run on SQLite; PostgreSQL: integration tests and the matrix")


def _id(n: int) -> str:
    first17 = f"4406041986{n:07d}"
    return first17 + id_number_check_char(first17)


def _legal(client, community_id):
    return next(i for i in client.get(f"/api/communities/{community_id}/menu").json() if i["title"] == "法律咨询")


def _request(platform, resident="resident1"):
    """A fresh request of resident1's (东风社区), accepted and waiting for members."""
    client = platform.login(resident)
    item = _legal(client, client.user["community_id"])
    resp = client.post("/api/requests", {"menu_item_id": item["id"], "fields": {"topic": "family"}})
    assert resp.status_code == 201, resp.text
    return resp.json()


def _member(platform, staff, n, password="member-pass-9"):
    """A member of ``staff``'s community registered by that staff, with a password: (id, phone)."""
    phone = f"1355555{n:04d}"
    resp = staff.post("/api/members", {"name": f"信任{n}", "phone": phone, "id_number": _id(n),
                                       "community_id": staff.user["community_id"], "password": password,
                                       "skills": ["法律"]})
    assert resp.status_code == 201, resp.text
    return resp.json()["id"], phone


def test_finding_1_no_published_secret_is_accepted(platform):
    me = platform.url("/api/auth/me")
    claims = {"user_id": 1, "role": "district_staff", "district_id": 1, "iss": "baodao", "aud": "baodao-api",
              "iat": int(time.time()), "exp": int(time.time()) + 600, "tv": 0}
    for key in ("baodao-demo-token-secret", "change-me-token-secret"):
        forged = jwt.encode(claims, key, headers={"kid": "0" * 16})
        resp = requests.get(me, headers={"Authorization": f"Bearer {forged}"}, timeout=10)
        assert resp.status_code == 401 and resp.json()["error"]["code"] == "INVALID_TOKEN"
    # the old home-made format, signed with the published default, is no token either
    body = "eyJ1c2VyX2lkIjoxLCJyb2xlIjoiZGlzdHJpY3Rfc3RhZmYiLCJleHAiOjk5OTk5OTk5OTl9"
    assert requests.get(me, headers={"Authorization": f"Bearer {body}.x"}, timeout=10).status_code == 401
    # a real token still works; its talent-pool phones are masked for a street's staff
    street = platform.login("street")
    assert street.get("/api/auth/me").status_code == 200
    items = street.get("/api/talent", params={"per_page": 50}).json()["items"]
    assert items and all("****" in m["phone"] for m in items)
    # the ID-number hash uses the platform's own key, not the published default
    url = platform.urls["registration"]
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            stored = conn.execute(text("SELECT id_number_hash FROM members WHERE id = 9")).scalar()
    finally:
        engine.dispose()
    number = demo_id_number(1).encode()
    assert stored != hmac.new(b"baodao-demo-id-key", number, hashlib.sha256).hexdigest()
    assert stored == hmac.new(os.environ["ID_HASH_KEY"].encode(), number, hashlib.sha256).hexdigest()
    # a container start without secrets refuses to run
    env = {k: v for k, v in os.environ.items() if k not in ("TOKEN_SECRET", "ACTOR_KEY", "ID_HASH_KEY")}
    env["BAODAO_DATA_DIR"] = platform.env["BAODAO_DATA_DIR"] + "/no-secrets"
    done = subprocess.run([sys.executable, "-m", "cli.serve", "registration"], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 2 and "TOKEN_SECRET" in done.stderr


def test_finding_2_identity_follows_registration_status(platform):
    staff, other_staff = platform.login("staff1"), platform.login("staff2")
    request = _request(platform)
    community_id = staff.user["community_id"]
    # a self sign-up that was never accepted acts only as an applicant: it sees its status, nothing else
    resp = requests.post(platform.url(SIGNUP), timeout=15, json={
        "name": "待审", "phone": "13566660001", "id_number": _id(1), "password": "member-pass-1",
        "community_id": community_id, "skills": ["法律"]})
    assert resp.status_code == 201
    pending = platform.login("13566660001", "member-pass-1")
    assert pending.user["role"] == "applicant"
    assert pending.get("/api/auth/me").json()["registration_status"] == "submitted"
    assert pending.get(f"/api/members/{pending.user['user_id']}").status_code == 200
    for method, path in (("post", f"/api/requests/{request['id']}/claim"), ("get", "/api/activities"),
                         ("get", "/api/wishes"), ("post", "/api/opinions"),
                         ("get", f"/api/communities/{community_id}/menu")):
        assert getattr(pending, method)(path).status_code == 403, path

    # revoking kills the tokens issued before within seconds; signing in again gives an applicant
    member_id, phone = _member(platform, staff, 2)
    member = platform.login(phone, "member-pass-9")
    assert member.get(f"/api/members/{member_id}/card").status_code == 200
    assert staff.post(f"/api/members/{member_id}/revoke", {"reason": "调离本市"}).status_code == 200
    (refused,) = support.wait_for(  # a tuple: a 401 response is falsy
        lambda: (r := member.get(f"/api/members/{member_id}/card")).status_code == 401 and (r,),
        timeout=5, message="the old token refused")
    assert refused.json()["error"]["code"] == "TOKEN_REVOKED"
    again = platform.login(phone, "member-pass-9")
    assert again.user["role"] == "applicant"
    assert again.post(f"/api/requests/{request['id']}/claim").status_code == 403

    # a move waits for the new community's acceptance; the old token (old scope) stops at once
    mover_id, mover_phone = _member(platform, staff, 3)
    mover = platform.login(mover_phone, "member-pass-9")
    moved = mover.post(f"/api/members/{mover_id}/transfer", {"community_id": other_staff.user["community_id"],
                                                              "reason": "搬家"})
    assert moved.status_code == 200 and moved.json()["status"] == "submitted"
    support.wait_for(lambda: mover.get("/api/auth/me").status_code == 401, timeout=5, message="old token refused")
    waiting = platform.login(mover_phone, "member-pass-9")
    assert waiting.user["role"] == "applicant" and waiting.user["community_id"] == other_staff.user["community_id"]
    assert staff.post(f"/api/members/{mover_id}/accept", {}).status_code in (403, 404)  # not the old community
    assert other_staff.post(f"/api/members/{mover_id}/accept", {}).status_code == 200
    assert platform.login(mover_phone, "member-pass-9").user["role"] == "member"


def test_finding_3_work_unit_logins_only_in_scope(platform):
    unit_id = platform.login("unit1").user["work_unit_id"]  # 佛山市某单位: co-building with 东风社区 only
    body = {"username": "unit1-extra", "name": "某单位第二账号", "password": "unit-pass-12"}
    for outsider in ("staff2", "staff3", "street2", "district2"):
        resp = platform.login(outsider).post(f"/api/work-units/{unit_id}/accounts", body)
        assert resp.status_code == 403, (outsider, resp.text)
    assert platform.login("staff1").post(f"/api/work-units/{unit_id}/accounts", body).status_code == 201
    # a unit reads its own members' records, not another unit's or another community's
    unit = platform.login("unit1")
    assert unit.get("/api/members/9/card").status_code == 200
    for foreign in (23, 24):  # 大富社区 (no unit), 平东社区 (南海区某公司)
        assert unit.get(f"/api/members/{foreign}/card").status_code == 403
        assert unit.get(f"/api/members/{foreign}/points").status_code == 403
        assert unit.post(f"/api/members/{foreign}/evaluations", {"score": 10}).status_code in (403, 404)


def test_finding_4_a_roster_never_rewrites_another_communitys_member(platform):
    header = "姓名,手机号码,身份证号码,工作单位,所在社区,网格,特长\n"
    victim = f"张伟,13599990001,{demo_id_number(1)},外单位,跃进社区,第一网格,法律\n"
    for importer in ("staff2", "unit2"):
        client = platform.login(importer)
        query = "?filename=r.csv" + (f"&community_id={client.user['community_id']}" if importer == "staff2" else "")
        resp = client.post(f"/api/roster/import{query}", data=(header + victim).encode("utf-8-sig"),
                           headers={"Content-Type": "text/csv"})
        assert resp.status_code in (403, 422), resp.text
        if resp.status_code == 422:
            assert "管辖范围" in json.dumps(resp.json(), ensure_ascii=False)
    member = platform.login("13800000001")  # the victim still signs in, where they were
    assert member.user["role"] == "member" and member.user["community_id"] == platform.login("staff1").user[
        "community_id"]


def test_finding_5_reads_and_commands_within_scope(platform):
    staff, resident = platform.login("staff1"), platform.login("resident1")
    community_id = staff.user["community_id"]
    wish = resident.post("/api/wishes", {"title": "一台收音机", "beneficiary": "黄阿姨"})
    assert wish.status_code == 201, wish.text
    for outsider in ("staff2", "resident2", "street2", "district2", "13800000005"):
        client = platform.login(outsider)
        assert client.get(f"/api/wishes/{wish.json()['id']}").status_code in (403, 404), outsider
        listed = client.get("/api/wishes")
        assert listed.status_code == 200 and wish.json()["id"] not in [w["id"] for w in listed.json()], outsider
        policy = client.get(f"/api/communities/{community_id}/dispatch-policy")
        assert policy.status_code in (403, 404), outsider
    assert staff.get(f"/api/communities/{community_id}/dispatch-policy").status_code == 200

    # a work unit publishes only where it has a co-building report
    starts = "2027-01-10T09:00:00+08:00"
    activity = {"title": "义诊", "place": "社区广场", "starts_at": starts, "ends_at": "2027-01-10T11:00:00+08:00",
                "places": 5, "community_id": community_id}
    assert platform.login("unit2").post("/api/activities", activity).status_code == 403
    assert platform.login("unit1").post("/api/activities", activity).status_code == 201

    # offers and reassignments only to accepted members of the request's community
    request = _request(platform)
    foreign_member = platform.login("13800000005").user["user_id"]  # 陈静, 跃进社区
    for ids in ([foreign_member], [99999]):
        offer = staff.post(f"/api/requests/{request['id']}/offer", {"member_ids": ids})
        assert offer.status_code == 400 and offer.json()["error"]["code"] == "NOT_COMMUNITY_MEMBERS"
        re = staff.post(f"/api/requests/{request['id']}/reassign", {"member_ids": ids, "reason": "改派"})
        assert re.status_code in (400, 409), re.text
    # a joint meeting only with a unit that exists
    assert staff.post(f"/api/requests/{request['id']}/escalate", {"reason": "需要街道协调"}).status_code == 200
    meeting = platform.login("street").post(f"/api/requests/{request['id']}/joint-meeting",
                                            {"work_unit_ids": [7777], "reason": "联席会议"})
    assert meeting.status_code == 404 and meeting.json()["error"]["code"] == "WORK_UNIT_NOT_FOUND"


def _closed_period(platform) -> str:
    """An old quarter of this test's own, closed by the platform's district (nobody else uses it)."""
    district = platform.login("district")
    period = "2001Q1"
    resp = district.post("/api/scoring/quarters/close", {"period": period})
    assert resp.status_code in (201, 409), resp.text
    return period


def test_finding_6_street_and_district_scope(platform):
    community_id = platform.login("staff1").user["community_id"]
    for outsider in ("district2", "street3", "street2", "staff3"):
        client = platform.login(outsider)
        assert client.get(f"/api/communities/{community_id}/scoring/dashboard").status_code == 403, outsider
        assert client.get(f"/api/communities/{community_id}/scoring/conflicts").status_code == 403, outsider
        assert client.get(f"/api/communities/{community_id}/scoring/rejections").status_code == 403, outsider
    # notices and deliveries: a notice to 东风社区 is not another district's business
    staff = platform.login("staff1")
    notice = staff.post("/api/notices", {"title": "通知", "body": "本周六环境整治",
                                         "audience": {"roles": ["member"], "community_id": community_id}})
    assert notice.status_code == 202, notice.text
    other = platform.login("district2")
    assert other.get(f"/api/notices/{notice.json()['id']}").status_code == 404
    deliveries = other.get("/api/notification-deliveries").json()
    assert all(d["community_id"] != community_id for d in deliveries)
    # the quarter is the platform's: another district cannot close it
    assert other.post("/api/scoring/quarters/close", {"period": "2001Q2"}).status_code == 403
    period = _closed_period(platform)
    # rankings and exports follow the caller's street or district; the notice checks the community
    home = {3, 8, 11}
    names = {3: "东风社区", 8: "跃进社区", 11: "塘头村", 15: "大富社区", 19: "平东社区"}
    for who, allowed in (("district2", {19}), ("street2", {15}), ("street", home), ("district", home | {15})):
        client = platform.login(who)
        ranked = client.get(f"/api/scoring/quarters/{period}/rankings", params={"by": "community"})
        assert ranked.status_code == 200, ranked.text
        assert {g["scope_id"] for g in ranked.json()} <= allowed, (who, ranked.json())
        exported = client.get(f"/api/scoring/quarters/{period}/export", params={"format": "csv"})
        assert exported.status_code == 200
        rows = list(exported.content.decode("utf-8-sig").splitlines())[1:]
        assert all(r.split(",")[3] in {names[c] for c in allowed} for r in rows if r), (who, rows[:3])
    assert platform.login("resident2").get(
        f"/api/communities/{community_id}/scoring/quarters/{period}/notice").status_code == 403
    assert platform.login("district2").get(
        f"/api/communities/{community_id}/scoring/quarters/{period}/notice").status_code == 403
    assert platform.login("resident1").get(
        f"/api/communities/{community_id}/scoring/quarters/{period}/notice").status_code == 200


def test_finding_7_sign_up_answers_the_same_and_is_limited(platform):
    staff = platform.login("staff1")
    base = {"name": "重复", "password": "member-pass-1", "community_id": staff.user["community_id"]}
    answers = [requests.post(platform.url(SIGNUP), json={**base, **extra}, timeout=15) for extra in (
        {"phone": "13566660101", "id_number": _id(101)},  # new
        {"phone": "13566660102", "id_number": demo_id_number(1)},  # 张伟's ID number
        {"phone": "13800000001", "id_number": _id(103)})]  # 张伟's phone
    assert {a.status_code for a in answers} == {201}
    assert answers[0].json() == answers[1].json() == answers[2].json()
    reviews = staff.get(f"/api/communities/{staff.user['community_id']}/signup-reviews").json()
    assert {"id_number_registered", "phone_in_use"} <= {r["reason"] for r in reviews}
    # and there is a limit per client
    client = support.session_from("127.0.0.21")
    codes = [client.post(platform.url(SIGNUP), json={**base, "phone": f"135666602{n:02d}", "id_number": _id(200 + n)},
                         timeout=15).status_code for n in range(22)]
    assert 429 in codes and codes[0] == 201


def test_finding_8_login_throttling_slows_attackers_without_locking_the_user_out(platform):
    attacker = support.session_from("127.0.0.31")
    login = platform.url("/api/auth/login")
    codes = [attacker.post(login, json={"username": "staff2", "password": "wrong"}, timeout=30).status_code
             for _ in range(11)]
    assert codes[:10] == [401] * 10 and codes[10] == 429
    real = support.session_from("127.0.0.32").post(login, json={"username": "staff2", "password": "demo1234"},
                                                    timeout=30)
    assert real.status_code == 200  # the real user, elsewhere, still gets in
    sprayer = support.session_from("127.0.0.33")
    sprayed = [sprayer.post(login, json={"username": f"nobody{n}", "password": "x"}, timeout=30).status_code
               for n in range(15)]
    assert sprayed.count(401) == 10 and sprayed[10:] == [429] * 5


def test_finding_9_one_masking_and_unit_contacts_masked(platform):
    staff = platform.login("staff1")
    unit = staff.post("/api/work-units", {"name": "信任测试单位", "party_org": "党支部", "contact_name": "赵",
                                          "contact_phone": "13612345678"})
    assert unit.status_code == 201, unit.text
    for who in ("resident1", "13800000001", "street", "district2"):
        listed = platform.login(who).get("/api/work-units", params={"name": "信任测试单位"}).json()
        assert listed and listed[0]["contact_phone"] == "136****5678", who
    # a member's phone: in full to the person and their community's staff, masked to the rest
    assert platform.login("13800000001").get("/api/members/9").json()["phone"] == "13800000001"
    assert staff.get("/api/members/9").json()["phone"] == "13800000001"
    assert platform.login("resident1").get("/api/members/9").json()["phone"] == "138****0001"
    assert platform.login("street").get("/api/members/9").json()["phone"] == "138****0001"


def test_finding_10_services_verify_their_callers(platform):
    """On the broker without ACTOR_KEY: an RPC claiming to be the system (or anybody) is refused."""
    from nameko.standalone.rpc import ClusterRpcProxy

    from common.errors import Unauthorized

    config = {"AMQP_URI": platform.env["AMQP_URI"], "serializer": "json"}
    with ClusterRpcProxy(config, timeout=15) as rpc:
        for claim in ({"user_id": None, "role": "system"}, {"user_id": 1, "role": "district_staff",
                                                            "district_id": 1, "assertion": "made-up"}):
            try:
                rpc.registration.member_facts(claim, [9])
                raise AssertionError("an unsigned actor was trusted")
            except Unauthorized as err:
                assert err.code == "ACTOR_UNVERIFIED"
            try:
                rpc.bridge.create_api_key(claim, {"system": "evil", "communities": None})
                raise AssertionError("an api key was made for an unsigned caller")
            except Unauthorized:
                pass


def test_exports_neutralise_formula_injection(platform):
    staff = platform.login("staff1")
    community_id = staff.user["community_id"]
    evil = "=HYPERLINK(\"http://evil\",\"点我\")"
    created = staff.post("/api/members", {"name": evil, "phone": "13577770001", "id_number": _id(300),
                                          "community_id": community_id, "skills": ["法律"]})
    assert created.status_code in (201, 400), created.text
    if created.status_code == 400:  # a name check refused it: the export cannot carry it then
        return
    csv_text = staff.get("/api/talent/export", params={"format": "csv", "name": "=HYPER"}).content.decode(
        "utf-8-sig")
    assert "'=HYPERLINK" in csv_text and "\n=HYPERLINK" not in csv_text and ",=HYPERLINK" not in csv_text
    xlsx = staff.get("/api/talent/export", params={"format": "xlsx", "name": "=HYPER"})
    values = [c for row in load_workbook(io.BytesIO(xlsx.content)).active.values for c in row]
    assert "'" + evil in values and evil not in values
