"""Registration on the real broker and database: the registration's life, rosters, the card, queries."""

import time

import pytest
from kombu import Connection, Exchange, Queue
from nameko.standalone.rpc import ClusterRpcProxy

from cli import demo
from common.db import EventPublisher, envelope
from common.errors import Conflict, Forbidden, ValidationFailed
from services.registration.domain import id_number_check_char
from services.registration.service import RegistrationService
from tests import support

SYSTEM = support.service_actor  # signed afresh at each call: assertions are short-lived


def _id(n: int) -> str:
    first17 = f"4406041980{n:07d}"
    return first17 + id_number_check_char(first17)


@pytest.fixture
def events_queue(amqp_uri):
    """Every event registration publishes, captured from the start."""
    queue = Queue("test-registration-events", Exchange("registration.events", type="topic", durable=True),
                  routing_key="#", durable=True, auto_delete=False)
    with Connection(amqp_uri) as conn:
        queue(conn.channel()).declare()
    return queue.name


@pytest.fixture
def rpc(start_service, amqp_uri, events_queue):
    config = start_service(RegistrationService)
    demo.seed({"registration": config["DATABASE_URL"]}, amqp_uri)
    with ClusterRpcProxy(config) as proxy:
        proxy.amqp_uri = amqp_uri
        proxy.events = events_queue
        yield proxy


def login(rpc, username, password=demo.DEMO_PASSWORD):
    return support.sign_in(rpc, username, password)


def events(rpc, *types):
    def seen():
        got = [m.payload for m in support.get_messages(rpc.amqp_uri, rpc.events, limit=500)]
        return [e for e in got if not types or e["event_type"] in types]
    return seen()


def details(staff, n, **extra):
    return {"name": f"党员{n}", "phone": f"1370000{n:04d}", "id_number": _id(500 + n),
            "community_id": staff["community_id"], **extra}


def test_self_registration_is_decided_by_the_community_and_keeps_its_history(rpc):
    staff = login(rpc, "staff1")
    posts = rpc.registration.list_posts(staff["community_id"])
    assert len(posts) == 11 and {p["category"] for p in posts} == {"文明宣传", "社区建设", "公共事务"}
    legal = next(p for p in posts if p["name"] == "法律服务")
    events(rpc)  # drop the demo's events
    receipt = rpc.registration.sign_up({**details(staff, 1), "password": "member-pass-1", "skills": ["法律"],
                                        "post_ids": [legal["id"]], "free_time": [{"preset": "weekday_evenings"}],
                                        "commitments": ["每月服务一次"], "work_unit": "新单位"})
    assert receipt["status"] == "submitted" and set(receipt) == {"status", "status_label", "message"}
    member = login(rpc, "13700000001", "member-pass-1")
    mine = rpc.registration.get_member(member, member["user_id"])
    assert mine["phone"] == "13700000001"  # shown in full to the person
    assert "id_number" not in mine and mine["posts"][0]["name"] == "法律服务"
    # not accepted yet: the account acts only as an applicant, who sees its own status (finding 2)
    assert member["role"] == "applicant" and member["registration_status"] == "submitted"
    assert member["community_id"] == staff["community_id"]
    # not active yet: no candidate, no recipient
    assert mine["id"] not in [c["member_id"] for c in rpc.registration.find_candidates(SYSTEM(),
        {"community_id": staff["community_id"], "skills": ["法律"], "limit": 50})]
    with pytest.raises(Conflict) as err:  # one active registration per member
        rpc.registration.submit_registration(member, details(staff, 1))
    assert err.value.code == "ALREADY_REGISTERED"

    other_staff = login(rpc, "staff2")
    with pytest.raises(Forbidden):
        rpc.registration.reject_member(other_staff, mine["id"], {"reason": "不是本社区"})
    with pytest.raises(ValidationFailed) as err:
        rpc.registration.reject_member(staff, mine["id"], {"reason": ""})
    assert "reason" in err.value.fields
    rejected = rpc.registration.reject_member(staff, mine["id"], {"reason": "网格填写有误"})
    assert rejected["status"] == "rejected" and rejected["decision_reason"] == "网格填写有误"
    again = rpc.registration.submit_registration(member, details(staff, 1, grid_id=staff["community_id"] + 1))
    assert again["status"] == "submitted"
    accepted = rpc.registration.accept_member(staff, mine["id"], {})
    assert accepted["status"] == "accepted"
    tv = rpc.registration.session_state(SYSTEM(), [mine["id"]])[str(mine["id"])]["tv"]
    member = login(rpc, "13700000001", "member-pass-1")
    assert member["role"] == "member" and member["tv"] == tv
    assert mine["id"] in rpc.registration.recipients(SYSTEM(), {"roles": ["member"],
                                                              "community_id": staff["community_id"]})

    # moving home to 跃进社区 and changing job: the registration moves, the history stays
    target = other_staff["community_id"]
    moved = rpc.registration.transfer_member(member, mine["id"], {"community_id": target, "work_unit": "另一单位",
                                                                  "reason": "搬家并换工作"})
    assert moved["community_id"] == target and moved["work_unit"] == "另一单位" and moved["posts"] == []
    # the move waits for the new community: until then an applicant there, and the old token is stale
    assert moved["status"] == "submitted"
    assert rpc.registration.session_state(SYSTEM(), [mine["id"]])[str(mine["id"])]["tv"] > member["tv"]
    waiting = login(rpc, "13700000001", "member-pass-1")
    assert (waiting["role"], waiting["community_id"]) == ("applicant", target)
    with pytest.raises(Forbidden):  # the old community no longer decides
        rpc.registration.accept_member(staff, mine["id"], {})
    rpc.registration.accept_member(other_staff, mine["id"], {"reason": "欢迎"})
    assert login(rpc, "13700000001", "member-pass-1")["role"] == "member"
    revoked = rpc.registration.revoke_member(other_staff, mine["id"],
                                             {"reason": "调离本市", "revoked_on": "2026-12-31"})
    assert revoked["status"] == "revoked" and revoked["revoked_on"] == "2026-12-31"
    history = rpc.registration.member_history(other_staff, mine["id"])
    assert [h["action"] for h in history] == ["submit", "reject", "resubmit", "accept", "transfer", "accept",
                                              "revoke"]
    assert history[3]["community_id"] == staff["community_id"] and history[4]["community_id"] == target
    with pytest.raises(Forbidden):
        rpc.registration.member_history(login(rpc, "resident1"), mine["id"])

    got = support.wait_for(lambda: events(rpc), message="registration events")
    by_type = {}
    for e in got:
        by_type.setdefault(e["event_type"], []).append(e["data"])
    assert len(by_type["member.registered"]) == 2 and len(by_type["member.accepted"]) == 1
    assert by_type["member.rejected"][0]["reason"] == "网格填写有误"
    transferred = by_type["member.transferred"][0]  # told once the new community accepted the move
    assert transferred["from_community_id"] == staff["community_id"] and transferred["community_id"] == target
    assert transferred["street_id"] == staff["street_id"] and transferred["work_unit_id"] is not None
    assert by_type["member.revoked"][0]["revoked_on"] == "2026-12-31"


def test_bad_registrations_are_field_errors_and_write_nothing(rpc):
    staff = login(rpc, "staff1")
    before = len(rpc.registration.recipients(SYSTEM(), {}))
    grid_elsewhere = login(rpc, "resident2")["grid_id"]
    cases = [
        (details(staff, 2, phone="12345"), "phone"),
        (details(staff, 2, id_number=_id(502)[:17] + ("0" if _id(502)[17] != "0" else "1")), "id_number"),
        (details(staff, 2, community_id=99999), "community_id"),
        (details(staff, 2, grid_id=grid_elsewhere), "grid_id"),
        (details(staff, 2, free_time=[{"preset": "never"}]), "free_time"),
    ]
    for payload, field in cases:
        with pytest.raises(ValidationFailed) as err:
            rpc.registration.sign_up({**payload, "password": "long-enough-1"})
        assert field in err.value.fields, (field, err.value.fields)
    # 张伟's ID number with another phone, or his phone with a new ID number: the same receipt as anyone
    # gets (finding 7: no oracle); each collision waits in the community's review queue instead
    fresh = rpc.registration.sign_up({**details(staff, 3), "password": "long-enough-1"})
    by_id = rpc.registration.sign_up({**details(staff, 2, id_number=demo.demo_id_number(1)),
                                      "password": "long-enough-1"})
    by_phone = rpc.registration.sign_up({**details(staff, 4), "phone": "13800000001", "password": "long-enough-1"})
    assert fresh == by_id == by_phone
    reviews = rpc.registration.list_signup_reviews(staff, staff["community_id"])
    assert [r["reason"] for r in reviews[:2]] == ["phone_in_use", "id_number_registered"]
    with pytest.raises(Forbidden):
        rpc.registration.list_signup_reviews(login(rpc, "staff2"), staff["community_id"])
    assert len(rpc.registration.recipients(SYSTEM(), {})) == before
    with pytest.raises(ValidationFailed):
        rpc.registration.find_candidates(SYSTEM(), {"community_id": "x"})


def _rows(staff, count, start=0, **extra):
    return [{"row": n + 2, "name": f"导入{n}", "phone": f"1360000{n:04d}", "id_number": _id(600 + n),
             "community": "东风社区", "grid": "第一网格", "skills": "法律、调解" if n % 2 else "医疗",
             "posts": "法律服务", "free_time": "工作日晚上", "work_unit": "石湾镇某企业", **extra}
            for n in range(start, start + count)]


def test_roster_import_is_all_or_nothing_and_idempotent(rpc):
    staff = login(rpc, "staff1")
    rows = _rows(staff, 40)
    bad = [dict(rows[3], id_number="440604198001010010"), dict(rows[5], grid="不存在的网格"),
           dict(rows[7], community="跃进社区"), dict(rows[9], phone=rows[8]["phone"])]
    broken = rows[:3] + [bad[0], rows[4], bad[1], rows[6], bad[2], rows[8], bad[3]] + rows[10:]
    before = len(rpc.registration.recipients(SYSTEM(), {"roles": ["member"]}))
    result = rpc.registration.import_roster(staff, {"rows": broken, "source": "东风社区名册.xlsx"})
    assert result["created"] == 0 and [e["row"] for e in result["errors"]] == [5, 7, 9, 11]
    reasons = {e["row"]: e["reason"] for e in result["errors"]}
    assert "身份证号码" in reasons[5] and "网格" in reasons[7] and "管辖范围" in reasons[9]
    assert "第10行的手机号码重复" in reasons[11]
    assert len(rpc.registration.recipients(SYSTEM(), {"roles": ["member"]})) == before  # nothing written
    assert rpc.registration.roster_errors(staff, result["import_id"]) == result["errors"]
    with pytest.raises(Forbidden):
        rpc.registration.roster_errors(login(rpc, "staff2"), result["import_id"])

    events(rpc)  # drop the demo's events
    first = rpc.registration.import_roster(staff, {"rows": rows, "source": "东风社区名册.xlsx"})
    assert (first["created"], first["updated"], first["unchanged"], first["errors"]) == (40, 0, 0, [])
    accepted = support.wait_for(lambda: events(rpc, "member.accepted"), message="the imported members' events")
    assert len(accepted) == 40 and accepted[0]["data"]["street_id"] == staff["street_id"]
    assert {e["data"]["name"] for e in accepted} == {r["name"] for r in rows}
    assert len(rpc.registration.recipients(SYSTEM(), {"roles": ["member"]})) == before + 40
    again = rpc.registration.import_roster(staff, {"rows": rows, "source": "东风社区名册.xlsx"})
    assert (again["created"], again["updated"], again["unchanged"]) == (0, 0, 40)
    changed = [dict(rows[0], skills="法律、IT"), dict(rows[1], community="跃进社区", grid="")]
    street = login(rpc, "street")  # the street reaches both communities
    third = rpc.registration.import_roster(street, {"rows": changed + rows[2:]})
    assert (third["created"], third["updated"], third["unchanged"]) == (0, 2, 38)
    imported = rpc.registration.talent = rpc.registration.search_talent(street, {"name": "导入1", "per_page": 200})
    moved = next(m for m in imported["items"] if m["name"] == "导入1")
    assert moved["community_name"] == "跃进社区" and moved["grid_id"] is None
    assert moved["phone"] == "136****0001"  # street staff see masked phones
    with pytest.raises(Forbidden):
        rpc.registration.import_roster(login(rpc, "13800000001"), {"rows": rows})


def test_candidates_talent_search_and_recipients_on_a_thousand_members(rpc):
    staff = login(rpc, "staff1")
    rows = _rows(staff, 1000, start=1000)
    for n, row in enumerate(rows):
        row["free_time"] = "周末全天" if n % 3 else "工作日晚上"
    started = time.perf_counter()
    assert rpc.registration.import_roster(staff, {"rows": rows})["created"] == 1000
    import_seconds = time.perf_counter() - started
    assert import_seconds < 30
    monday_evening = "2026-11-23T19:30:00+08:00"
    started = time.perf_counter()
    found = rpc.registration.find_candidates(SYSTEM(), {"community_id": staff["community_id"],
                                                        "skills": ["法律", "调解"], "at": monday_evening,
                                                        "limit": 200})
    elapsed = time.perf_counter() - started
    assert len(found) == 200 and elapsed < 2
    assert found[0]["skill_match"] == 2 and found[0]["available"] is True
    assert [c["skill_match"] for c in found] == sorted((c["skill_match"] for c in found), reverse=True)
    availability = [c["available"] for c in found if c["skill_match"] == 2]
    assert availability == sorted(availability, reverse=True)  # free members first among equals
    assert {"member_id", "name", "community_id", "grid_id", "building_id", "skills", "skill_match",
            "available"} <= set(found[0])

    page = rpc.registration.search_talent(staff, {"skill": "调解", "available_at": monday_evening,
                                                  "page": 2, "per_page": 50})
    assert page["total"] == 167 and len(page["items"]) == 50 and page["page"] == 2
    assert all("调解" in m["skills"] for m in page["items"])
    assert page["items"][0]["phone"].isdigit()  # the member's own community staff see full numbers
    with pytest.raises(Forbidden):
        rpc.registration.search_talent(staff, {"community_id": login(rpc, "staff2")["community_id"]})
    unit = login(rpc, "unit1")
    assert rpc.registration.search_talent(unit, {})["total"] == 6  # the demo's members of its unit only

    members = rpc.registration.recipients(SYSTEM(), {"roles": ["member"], "street_id": staff["street_id"]})
    assert len(members) == 1006
    assert rpc.registration.recipients(SYSTEM(), {"roles": ["unit_org"], "work_unit_id": unit["work_unit_id"]}) == [
        unit["user_id"]]
    assert rpc.registration.recipients(SYSTEM(), {"roles": ["street_staff"], "street_id": staff["street_id"]}) == [
        login(rpc, "street")["user_id"]]
    facts = rpc.registration.member_facts(SYSTEM(), members[:3])
    assert [f["member_id"] for f in facts] == members[:3] and facts[0]["street_id"] == staff["street_id"]
    rows = rpc.registration.export_talent(staff, {"skill": "医疗"})
    assert len(rows) == 501 and {"name", "phone", "community_name", "post_names", "free_time_text"} <= set(rows[0])


def test_the_card_counts_services_from_events_and_survives_scoring_being_down(rpc):
    staff = login(rpc, "staff1")
    member = login(rpc, "13800000001")
    dispatch = EventPublisher(rpc.amqp_uri, "dispatch")
    activities = EventPublisher(rpc.amqp_uri, "activities")
    confirmed = envelope("dispatch", "request.confirmed", {
        "request_id": 7, "community_id": staff["community_id"], "menu_item_id": 1, "title": "法律咨询",
        "state": "confirmed", "member_ids": [member["user_id"]], "rating": 5, "points": 10, "hours": 1.5})
    dispatch.publish(confirmed)
    dispatch.publish(confirmed)  # a redelivery counts once
    activities.publish(envelope("activities", "activity.attended", {
        "activity_id": 3, "community_id": staff["community_id"], "title": "登革热清积水",
        "starts_at": "2026-11-22T09:00:00+08:00", "ends_at": "2026-11-22T12:00:00+08:00", "place": "东风公园",
        "member_id": member["user_id"], "hours": 3.0}))
    rpc.registration.add_training(staff, member["user_id"], {"title": "社区调解培训", "hours": 2,
                                                              "held_on": "2026-11-01"})

    def card():
        got = rpc.registration.get_card(member, member["user_id"])
        return got if got["services"]["count"] == 2 else None

    got = support.wait_for(card, message="both services on the card")
    # the request's stated 1.5 hours count only once the organiser confirms them (records)
    assert got["services"]["hours"] == 3.0 and got["services"]["requests"] == 1
    EventPublisher(rpc.amqp_uri, "records").publish(envelope("records", "entry.confirmed", {
        "entry_id": 1, "member_id": member["user_id"], "source": "request", "ref_id": 7,
        "community_id": staff["community_id"], "title": "法律咨询", "hours": 1.5}))
    got = support.wait_for(lambda: (c := rpc.registration.get_card(member, member["user_id"]))
                           ["services"]["hours"] == 4.5 and c, message="confirmed hours on the card")
    assert {p["place"] for p in got["services"]["places"]} == {"东风社区", "东风公园"}
    assert got["trainings"][0]["title"] == "社区调解培训"
    assert got["member"]["posts"][0]["name"] == "法律服务" and got["e_branch"] == "东风社区在职党员e支部"
    assert got["teams"] == ["东风社区法律服务队"]
    # no scoring service runs here: the card comes without points instead of failing
    assert got["points"] is None and got["points_available"] is False
    assert rpc.registration.get_card(staff, member["user_id"])["services"]["count"] == 2
    with pytest.raises(Forbidden):
        rpc.registration.get_card(login(rpc, "13800000005"), member["user_id"])


def test_work_units_report_and_the_tree_is_managed_in_scope(rpc):
    street, staff = login(rpc, "street"), login(rpc, "staff1")
    unit = rpc.registration.create_work_unit(street, {"name": "石湾供电所", "party_org": "石湾供电所党支部"})
    with pytest.raises(Forbidden):  # no co-building report in the street's communities yet: no login for it
        rpc.registration.create_unit_account(street, unit["id"], {"username": "power", "name": "供电所党支部",
                                                                  "password": "unit-pass-1"})
    rpc.registration.report_unit(street, unit["id"], {"community_id": staff["community_id"], "commitments": ["x"]})
    account = rpc.registration.create_unit_account(street, unit["id"], {"username": "power", "name": "供电所党支部",
                                                                        "password": "unit-pass-1"})
    unit_org = login(rpc, "power", "unit-pass-1")
    assert unit_org["role"] == "unit_org" and unit_org["work_unit_id"] == unit["id"] == account["work_unit_id"]
    with pytest.raises(Forbidden):  # another unit's organisation cannot report for it
        rpc.registration.report_unit(login(rpc, "unit1"), unit["id"], {"community_id": staff["community_id"],
                                                                       "commitments": ["x"]})
    report = rpc.registration.report_unit(unit_org, unit["id"], {"community_id": staff["community_id"],
                                                                 "commitments": ["免费检查老旧线路"]})
    assert report["work_unit_name"] == "石湾供电所"
    units = rpc.registration.list_co_building_units(staff["community_id"])
    assert [u["work_unit_name"] for u in units] == ["佛山市某单位", "石湾供电所"]
    assert units[0]["members_reported"] == 4
    assert any(e["event_type"] == "unit.reported" and e["data"]["name"] == "石湾供电所"
               for e in support.wait_for(lambda: events(rpc, "unit.reported"), message="unit.reported"))

    community = rpc.registration.create_place(street, staff["street_id"], {"kind": "community", "name": "新社区"})
    assert len(rpc.registration.list_posts(community["id"])) == 11  # seeded with the standard posts
    with pytest.raises(Forbidden):
        rpc.registration.create_place(staff, staff["street_id"], {"kind": "community", "name": "越权社区"})
    grid = rpc.registration.create_place(staff, staff["community_id"], {"kind": "grid", "name": "第三网格"})
    rpc.registration.create_place(staff, grid["id"], {"kind": "building", "name": "8栋"})
    with pytest.raises(Forbidden):
        rpc.registration.create_place(staff, community["id"], {"kind": "grid", "name": "别人的网格"})
    with pytest.raises(ValidationFailed):
        rpc.registration.create_place(staff, staff["community_id"], {"kind": "building", "name": "跳级"})
    assert [c["name"] for c in rpc.registration.list_children(staff["community_id"])][-1] == "第三网格"

    pairing = rpc.registration.create_pairing(staff, {"community_id": staff["community_id"], "e_branch_id": 1,
                                                      "household": "黄阿婆家", "starts_on": "2026-03-01"})
    assert pairing["ends_on"] == "2027-02-28"
    with pytest.raises(ValidationFailed):
        rpc.registration.create_pairing(staff, {"community_id": staff["community_id"], "household": "无人结对"})
    team = rpc.registration.create_team(staff, staff["community_id"], {"name": "巡逻队", "kind": "巡逻"})
    member = login(rpc, "13800000002")
    assert rpc.registration.add_team_members(staff, team["id"], {"member_ids": [member["user_id"]]})[
        "member_ids"] == [member["user_id"]]
    with pytest.raises(ValidationFailed):  # 陈静 is 跃进社区's
        rpc.registration.add_team_members(staff, team["id"], {"member_ids": [login(rpc, "13800000005")["user_id"]]})
