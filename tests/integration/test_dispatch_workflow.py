"""Dispatch's workflow engine with registration on the real broker and a real database:
hotline orders, staff dispatch, idempotency, deadlines and escalation, wishes and opinions."""

import json

import pytest
from nameko.standalone.rpc import ClusterRpcProxy
from sqlalchemy import func, select

from cli import demo
from common.db import Store
from common.errors import Conflict, Forbidden, NotFound, ValidationFailed
from services.dispatch.models import Base as DispatchBase
from services.dispatch.models import IdempotencyKey, Request
from services.dispatch.service import DispatchService
from services.registration.service import RegistrationService
from tests import support
from tests.support import wait_for


def HOTLINE():  # noqa: N802  the bridge places hotline calls as itself (signed afresh: short-lived)
    return support.service_actor("bridge")


@pytest.fixture
def rpc(start_service, amqp_uri):
    reg_config = start_service(RegistrationService)
    dis_config = start_service(DispatchService)
    demo.seed({"registration": reg_config["DATABASE_URL"], "dispatch": dis_config["DATABASE_URL"]}, amqp_uri)
    store = Store(DispatchBase.metadata, "dispatch", dis_config["DATABASE_URL"], amqp_uri)
    with ClusterRpcProxy(dis_config) as proxy:
        proxy.store = store
        proxy.users = {}
        proxy.registration_url = reg_config["DATABASE_URL"]
        yield proxy
    store.dispose()


def login(rpc, username):
    if username not in rpc.users:
        rpc.users[username] = support.sign_in(rpc, username)
    return rpc.users[username]


def item(rpc, community_id, title):
    return next(i for i in rpc.dispatch.list_menu(community_id) if i["title"] == title)


def events(rpc, event_type=None):
    outbox = rpc.store.metadata.tables["outbox"]
    with rpc.store.engine.connect() as conn:
        rows = conn.execute(select(outbox.c.event_type, outbox.c.payload).order_by(outbox.c.id)).all()
    return [json.loads(p)["data"] | {"type": t} for t, p in rows if event_type in (None, t)]


def count(rpc, model):
    with rpc.store.sessionmaker() as session:
        return session.scalar(select(func.count()).select_from(model))


def new_member(rpc, n, skills, community_index=0):
    staff = login(rpc, "staff1" if community_index == 0 else "staff2")
    m = rpc.registration.register_member(staff, {
        "name": f"党员{n}", "phone": f"1390000{n:04d}", "id_number": demo.demo_id_number(200 + n),
        "community_id": staff["community_id"], "skills": skills})
    return support.actors_of(rpc.registration_url, [m["id"]])[0]


def test_hotline_order_bad_input_and_idempotent_retries(rpc):
    staff = login(rpc, "staff1")
    legal = item(rpc, staff["community_id"], "法律咨询")
    before = count(rpc, Request)
    bad = [
        ({"menu_item_id": 99999, "caller": {"name": "王先生", "phone": "13700001111"}}, NotFound,
         "MENU_ITEM_NOT_FOUND"),
        ({"menu_item_id": legal["id"], "caller": {"name": "王先生", "phone": "13700001111"}},
         ValidationFailed, "INVALID_FIELDS"),  # required "topic" missing
        ({"menu_item_id": legal["id"], "fields": {"topic": 3}, "caller": {"name": "王", "phone": "13700001111"}},
         ValidationFailed, "INVALID_FIELDS"),
        ({"menu_item_id": legal["id"], "fields": {"topic": "family"}, "description": "长" * 4001,
          "caller": {"name": "王", "phone": "13700001111"}}, ValidationFailed, "VALIDATION_ERROR"),
        ({"menu_item_id": legal["id"], "fields": {"topic": "family"}}, ValidationFailed, "VALIDATION_ERROR"),
    ]
    for payload, error, code in bad:
        with pytest.raises(error) as err:
            rpc.dispatch.submit_request(HOTLINE(), payload)
        assert err.value.code == code, payload
    assert count(rpc, Request) == before  # nothing half-written

    payload = {"menu_item_id": legal["id"], "fields": {"topic": "labour"}, "description": "工资被拖欠",
               "caller": {"name": "王先生", "phone": "13700001111"}, "community_id": staff["community_id"]}
    first = rpc.dispatch.submit_request(HOTLINE(), payload, idempotency_key="hotline-42")
    again = rpc.dispatch.submit_request(HOTLINE(), payload, idempotency_key="hotline-42")
    assert again == first and first["resident_id"] is None and first["source"] == "hotline"
    assert first["caller_phone"] == "13700001111"  # the system sees it
    assert count(rpc, Request) == before + 1
    assert len([e for e in events(rpc, "request.submitted") if e["request_id"] == first["id"]]) == 1
    # staff of the caller's community see the number; the street sees it masked
    assert rpc.dispatch.get_request(staff, first["id"])["caller_phone"] == "13700001111"
    street = login(rpc, "street")
    assert rpc.dispatch.search_requests(street, {"community_id": staff["community_id"]})[0]["caller_phone"] \
        == "137****1111"
    found = rpc.dispatch.search_requests(HOTLINE(), {"states": ["dispatched"], "community_id": staff["community_id"]})
    assert [r["id"] for r in found if r["source"] == "hotline"] == [first["id"]]
    assert rpc.dispatch.search_requests(staff, {"states": ["closed"]}) == []
    with pytest.raises(Forbidden):
        rpc.dispatch.search_requests(login(rpc, "resident1"), {})

    # a retried claim returns the first result instead of a 409
    lawyer = login(rpc, "13800000001")
    claimed = rpc.dispatch.claim(lawyer, first["id"], idempotency_key="tap-1")
    assert rpc.dispatch.claim(lawyer, first["id"], idempotency_key="tap-1") == claimed
    with pytest.raises(Conflict) as err:
        rpc.dispatch.claim(lawyer, first["id"])
    assert err.value.code == "ALREADY_CLAIMED"
    with pytest.raises(Conflict) as err:  # the same key for another command is refused
        rpc.dispatch.complete(lawyer, first["id"], {}, idempotency_key="tap-1")
    assert err.value.code == "IDEMPOTENCY_KEY_REUSED"
    assert count(rpc, IdempotencyKey) == 2
    # the caller confirms by phone: staff confirm for them, rating checked
    rpc.dispatch.complete(lawyer, first["id"], {"reason": "电话解答"})
    with pytest.raises(ValidationFailed) as err:
        rpc.dispatch.confirm(staff, first["id"], {"rating": 6})
    assert "rating" in err.value.fields
    closed = rpc.dispatch.confirm(staff, first["id"], {"rating": 4, "comment": "来电表示满意"})
    assert closed["state"] == "closed" and closed["rating"] == 4
    with pytest.raises(Conflict) as err:
        rpc.dispatch.claim(login(rpc, "13800000002"), first["id"])
    assert err.value.details["current_state"] == "closed"


def test_staff_dispatch_decline_hand_back_reassign_and_multi_member(rpc):
    staff = login(rpc, "staff1")
    resident = login(rpc, "resident1")
    community = staff["community_id"]
    rpc.dispatch.set_policy(staff, community, {"auto_accept": False, "offer_top_k": 1, "open_after_minutes": 600})
    with pytest.raises(Forbidden):
        rpc.dispatch.set_policy(login(rpc, "staff2"), community, {"auto_accept": True})
    item_ = rpc.dispatch.create_menu_item(staff, community, {
        "title": "搬运重物", "category": "公益服务", "skills": ["搬运"], "members_needed": 2, "points": 6,
        "fields": [{"code": "floor", "description": "楼层", "datatype": "number", "required": True, "order": 1},
                   {"code": "items", "description": "物品", "datatype": "multivaluelist", "order": 2,
                    "values": [{"key": "bed", "name": "床"}, {"key": "sofa", "name": "沙发"}]}]})
    with pytest.raises(ValidationFailed):
        rpc.dispatch.create_menu_item(staff, community, {"title": "x", "category": "y",
                                                         "fields": [{"code": "a", "description": "b",
                                                                     "datatype": "picture"}]})
    movers = [new_member(rpc, n, ["搬运"]) for n in range(4)]
    with pytest.raises(ValidationFailed):
        rpc.dispatch.submit_request(resident, {"menu_item_id": item_["id"], "fields": {"floor": 3, "items": ["tv"]}})
    req = rpc.dispatch.submit_request(resident, {"menu_item_id": item_["id"],
                                                 "fields": {"floor": 3, "items": ["bed", "sofa"]}})
    assert req["state"] == "submitted"  # this community accepts by hand
    with pytest.raises(Forbidden):  # another community's staff
        rpc.dispatch.accept(login(rpc, "staff2"), req["id"])
    with pytest.raises(Forbidden) as err:  # street staff work their queue, not the community's
        rpc.dispatch.accept(login(rpc, "street"), req["id"])
    assert err.value.code == "NOT_ESCALATED"
    ranked = rpc.dispatch.candidates(staff, req["id"])
    assert {c["member_id"] for c in ranked} == {m["user_id"] for m in movers}
    assert all("技能匹配1项" in c["reasons"] for c in ranked)
    req = rpc.dispatch.accept(staff, req["id"], {"reason": "情况属实"})
    assert req["state"] == "dispatched" and len(req["offered_to"]) == 1 and not req["open_to_all"]
    offered = next(m for m in movers if m["user_id"] == req["offered_to"][0])
    others = [m for m in movers if m is not offered]
    with pytest.raises(Forbidden) as err:
        rpc.dispatch.claim(others[0], req["id"])
    assert err.value.code == "NOT_OFFERED"
    req = rpc.dispatch.decline(offered, req["id"], {"reason": "出差"})
    assert req["open_to_all"]  # everyone offered declined: open to all at once
    req = rpc.dispatch.claim(others[0], req["id"])
    assert req["state"] == "dispatched" and req["members_claimed"] == 1
    req = rpc.dispatch.claim(others[1], req["id"])
    assert req["state"] == "claimed" and req["members_claimed"] == 2
    with pytest.raises(Conflict) as err:
        rpc.dispatch.claim(others[2], req["id"])
    assert err.value.details["current_state"] == "claimed"
    with pytest.raises(ValidationFailed):
        rpc.dispatch.hand_back(others[1], req["id"], {})
    req = rpc.dispatch.hand_back(others[1], req["id"], {"reason": "临时加班"})
    assert req["state"] == "dispatched" and req["members_claimed"] == 1
    req = rpc.dispatch.reassign(staff, req["id"], {"member_ids": [others[0]["user_id"], others[2]["user_id"]],
                                                   "reason": "网格长协调"})
    assert req["state"] == "claimed" and sorted(req["claimed_by"]) == sorted(
        [others[0]["user_id"], others[2]["user_id"]])
    with pytest.raises(Forbidden):
        rpc.dispatch.start(others[1], req["id"])
    assert rpc.dispatch.start(others[2], req["id"])["state"] == "in_service"
    with pytest.raises(Conflict):  # too late to cancel once service has begun
        rpc.dispatch.cancel(resident, req["id"], {"reason": "不需要了"})
    req = rpc.dispatch.complete(others[0], req["id"], {"reason": "已搬完"})
    req = rpc.dispatch.confirm(resident, req["id"], {"rating": 5, "comment": "谢谢"})
    actions = [h["action"] for h in rpc.dispatch.timeline(resident, req["id"])]
    assert actions == ["submit", "accept", "dispatch", "decline", "open", "claim", "claim", "hand_back",
                       "reassign", "start", "complete", "confirm"]
    confirmed = events(rpc, "request.confirmed")[-1]
    assert confirmed["points"] == 9 and sorted(confirmed["member_ids"]) == sorted(req["claimed_by"])
    types = {e["type"] for e in events(rpc) if e.get("request_id") == req["id"]}
    assert {"request.declined", "request.handed_back", "request.reassigned", "request.started"} <= types
    # the loaded member now ranks below idle ones, and staff see why
    req2 = rpc.dispatch.submit_request(resident, {"menu_item_id": item_["id"], "fields": {"floor": 1}})
    ranked = rpc.dispatch.candidates(staff, req2["id"])
    assert ranked[-1]["member_id"] in (others[0]["user_id"], others[2]["user_id"])
    assert any(r.endswith("天前服务过") for r in ranked[-1]["reasons"])
    # a resident cancels before service
    req2 = rpc.dispatch.cancel(resident, req2["id"], {"reason": "家人帮忙了"})
    assert req2["state"] == "cancelled"
    with pytest.raises(Forbidden):
        rpc.dispatch.cancel(login(rpc, "resident2"), req["id"])


def test_deadlines_escalate_to_the_district_then_a_joint_meeting_and_auto_confirm(rpc):
    staff = login(rpc, "staff1")
    resident = login(rpc, "resident1")
    community = staff["community_id"]
    rescue = rpc.dispatch.create_menu_item(staff, community, {
        "title": "屋顶补漏", "category": "公益服务", "skills": ["防水"], "points": 20,
        "deadline_policy": {"claim_minutes": 0.02, "service_minutes": 60, "confirm_minutes": 0.02,
                            "remind_before_minutes": 0}})
    req = rpc.dispatch.submit_request(resident, {"menu_item_id": rescue["id"]})
    assert req["open_to_all"] and req["level"] == "grid"
    district = login(rpc, "district")
    street = login(rpc, "street")
    # grid → community → street → district, one level per missed claim deadline (~1.2 s each)
    wait_for(lambda: rpc.dispatch.get_request(district, req["id"])["level"] == "district", timeout=30,
             message="escalation to the district")
    escalations = [e for e in events(rpc, "request.escalated") if e["request_id"] == req["id"]]
    assert [e["level"] for e in escalations] == ["community", "street", "district"]
    assert all("超过接单时限" in e["reason"] for e in escalations)
    assert [r["id"] for r in rpc.dispatch.escalation_queue(district)] == [req["id"]]
    with pytest.raises(Forbidden):  # community staff no longer dispatch it
        rpc.dispatch.offer(staff, req["id"], {"open_to_all": True})
    down = rpc.dispatch.send_down(district, req["id"], {"reason": "请街道统筹"})
    assert down["level"] == "street"
    assert req["id"] in [r["id"] for r in rpc.dispatch.escalation_queue(street)]
    unit = login(rpc, "unit1")
    with pytest.raises(NotFound):  # a joint meeting only with units that exist (finding 5)
        rpc.dispatch.joint_meeting(street, req["id"], {"work_unit_ids": [7777], "reason": "由建筑公司承办"})
    met = rpc.dispatch.joint_meeting(street, req["id"], {"work_unit_ids": [unit["work_unit_id"]],
                                                         "reason": "由建筑公司承办"})
    assert met["state"] == "claimed" and met["work_unit_ids"] == [unit["work_unit_id"]]
    assert rpc.dispatch.get_request(unit, req["id"])["state"] == "claimed"
    with pytest.raises(Forbidden):  # another unit, not in the meeting
        rpc.dispatch.complete(login(rpc, "unit2"), req["id"], {})
    rpc.dispatch.complete(unit, req["id"], {"reason": "已修好"})
    # nobody confirms: the confirmation deadline confirms it with the default rating
    closed = wait_for(lambda: (r := rpc.dispatch.get_request(resident, req["id"]))["state"] == "closed" and r,
                      timeout=20, message="auto-confirmation")
    assert closed["rating"] == 5 and closed["history"][-1]["actor_role"] == "system"
    assert [e["request_id"] for e in events(rpc, "request.confirmed")] == [req["id"]]


def test_micro_wish_from_post_to_confirmation(rpc):
    staff = login(rpc, "staff1")
    a, b = new_member(rpc, 50, ["助老"]), new_member(rpc, 51, ["助老"])
    with pytest.raises(ValidationFailed):
        rpc.dispatch.post_wish(staff, {"title": "轮椅"})  # on someone's behalf: say whose
    wish = rpc.dispatch.post_wish(staff, {"title": "一副老花镜", "beneficiary": "低保户 李大爷"},
                                  idempotency_key="w1")
    assert rpc.dispatch.post_wish(staff, {"title": "一副老花镜", "beneficiary": "低保户 李大爷"},
                                  idempotency_key="w1")["id"] == wish["id"]
    assert wish["state"] == "posted"
    with pytest.raises(Forbidden):
        rpc.dispatch.claim_wish(login(rpc, "13800000005"), wish["id"])  # another community's member
    rpc.dispatch.claim_wish(a, wish["id"])
    with pytest.raises(Conflict):
        rpc.dispatch.claim_wish(b, wish["id"])
    with pytest.raises(Forbidden):
        rpc.dispatch.fulfil_wish(b, wish["id"], {"note": "x"})
    rpc.dispatch.fulfil_wish(a, wish["id"], {"note": "已配好送到家"})
    done = rpc.dispatch.confirm_wish(staff, wish["id"])
    assert done["state"] == "confirmed" and [h["action"] for h in done["history"]] == [
        "post", "claim", "fulfil", "confirm"]
    (fulfilled,) = events(rpc, "wish.fulfilled")
    assert fulfilled["member_ids"] == [a["user_id"]] and fulfilled["wish_id"] == wish["id"]
    assert {w["id"] for w in rpc.dispatch.list_wishes(a, {"state": "confirmed"})} == {wish["id"]}


def test_opinions_supervised_to_resolution_and_counted(rpc):
    resident = login(rpc, "resident1")
    staff = login(rpc, "staff1")
    street = login(rpc, "street")
    complaint = rpc.dispatch.submit_opinion(resident, {"kind": "complaint", "title": "路灯不亮",
                                                       "content": "3栋门口路灯坏了一周"})
    rpc.dispatch.submit_opinion(resident, {"kind": "suggestion", "title": "增设快递柜", "content": "方便老人"})
    with pytest.raises(Forbidden):
        rpc.dispatch.assign_opinion(login(rpc, "staff2"), complaint["id"], {"assignee": "物业"})
    # assigned with a deadline of ~1 second; it lapses and the street supervises
    rpc.dispatch.assign_opinion(staff, complaint["id"], {"assignee": "社区物业办", "due_days": 0.00001})
    overdue = wait_for(lambda: (o := rpc.dispatch.get_opinion(staff, complaint["id"]))["overdue"] and o,
                       timeout=20, message="the opinion to go overdue")
    assert overdue["supervision_level"] == "street"
    assert [o["id"] for o in rpc.dispatch.list_opinions(street, {"overdue": True})] == [complaint["id"]]
    resolved = rpc.dispatch.resolve_opinion(street, complaint["id"], {"resolution": "已更换灯泡"})
    assert resolved["state"] == "resolved"
    with pytest.raises(Conflict):
        rpc.dispatch.resolve_opinion(staff, complaint["id"], {"resolution": "again"})
    (stats,) = rpc.dispatch.opinion_stats(street, {})
    assert stats == {"community_id": staff["community_id"], "collected": 2, "resolved": 1, "overdue": 0,
                     "resolution_rate": 0.5}
    assert [e["opinion_id"] for e in events(rpc, "opinion.resolved")] == [complaint["id"]]
    assert {e["type"] for e in events(rpc) if e["type"].startswith("opinion.")} == {
        "opinion.submitted", "opinion.assigned", "opinion.overdue", "opinion.resolved"}


def test_community_needs_are_claimed_of_members_own_accord(rpc):
    staff = login(rpc, "staff1")
    community = staff["community_id"]
    need = rpc.dispatch.post_need(staff, community, {"title": "加装电梯意见入户征集", "members_needed": 2,
                                                     "description": "协助入户征求意见"})
    assert need["state"] == "dispatched" and need["open_to_all"] and need["source"] == "need"
    assert need["id"] in [n["id"] for n in rpc.dispatch.list_needs(staff, community)]
    assert "加装电梯意见入户征集" not in [i["title"] for i in rpc.dispatch.list_menu(community)]
    member = login(rpc, "13800000003")
    assert rpc.dispatch.claim(member, need["id"])["members_claimed"] == 1
    with pytest.raises(Forbidden):  # another community's member
        rpc.dispatch.claim(login(rpc, "13800000005"), need["id"])
    # staff retire a menu item: it leaves the menu and cannot be ordered
    legal = item(rpc, community, "法律咨询")
    rpc.dispatch.update_menu_item(staff, legal["id"], {"active": False})
    assert "法律咨询" not in [i["title"] for i in rpc.dispatch.list_menu(community)]
    with pytest.raises(NotFound):
        rpc.dispatch.submit_request(login(rpc, "resident1"), {"menu_item_id": legal["id"],
                                                              "fields": {"topic": "family"}})
