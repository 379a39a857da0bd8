"""Dispatch with registration on the real broker: matching, offers, and a claim storm."""

import pytest
from nameko.standalone.rpc import ClusterRpcProxy

from cli import demo
from common.db import Store
from common.errors import Conflict, Forbidden
from services.dispatch.models import Base as DispatchBase
from services.dispatch.models import MenuItem
from services.dispatch.service import DispatchService
from services.registration.service import RegistrationService
from tests import support


@pytest.fixture
def platform(start_service, amqp_uri):
    reg_config = start_service(RegistrationService)
    dis_config = start_service(DispatchService)
    demo.seed({"registration": reg_config["DATABASE_URL"], "dispatch": dis_config["DATABASE_URL"]}, amqp_uri)
    dis = Store(DispatchBase.metadata, "dispatch", dis_config["DATABASE_URL"], amqp_uri)
    with ClusterRpcProxy(dis_config) as rpc:
        rpc.dispatch_store = dis
        rpc.registration_url = reg_config["DATABASE_URL"]
        yield rpc
    dis.dispose()


def login(rpc, username):
    return support.sign_in(rpc, username)


def test_request_is_offered_to_members_with_the_skill(platform):
    resident = login(platform, "resident1")
    menu = platform.dispatch.list_menu(resident["community_id"])
    legal = next(i for i in menu if i["title"] == "法律咨询")
    request = platform.dispatch.submit_request(resident, {"menu_item_id": legal["id"],
                                                          "fields": {"topic": "family"}})
    assert request["state"] == "dispatched"
    lawyer = login(platform, "13800000001")
    assert request["offered_to"] == [lawyer["user_id"]]
    assert [h["action"] for h in request["history"]] == ["submit", "accept", "dispatch"]
    other_member = login(platform, "13800000002")
    with pytest.raises(Forbidden):
        platform.dispatch.claim(other_member, request["id"])


def test_claim_storm_has_exactly_one_winner(platform):
    staff = login(platform, "staff1")
    members = [
        platform.registration.register_member(staff, {
            "name": f"党员{n}", "phone": f"1390000{n:04d}", "id_number": demo.demo_id_number(100 + n),
            "community_id": staff["community_id"], "skills": ["调解"]})
        for n in range(30)
    ]
    resident = login(platform, "resident1")
    with platform.dispatch_store.uow() as uow:  # a need no member's skill matches: open to all
        item = MenuItem(community_id=resident["community_id"], title="水上救生", category="公益服务",
                        skills=["救生"], points=5)
        uow.session.add(item)
        uow.commit()
    request = platform.dispatch.submit_request(resident, {"menu_item_id": item.id})
    assert request["offered_to"] == [] and request["state"] == "dispatched"
    claimers = support.actors_of(platform.registration_url, [m["id"] for m in members])
    offered = []
    outcomes = []
    # all 30 claims are on the wire before any reply is read
    replies = [platform.dispatch.claim.call_async(actor, request["id"]) for actor in offered + claimers]
    for reply in replies:
        try:
            outcomes.append(("won", reply.result()))
        except Conflict as err:
            outcomes.append(("lost", err))
    winners = [o for o in outcomes if o[0] == "won"]
    assert len(winners) == 1
    assert winners[0][1]["members_claimed"] == 1
    losers = [o[1] for o in outcomes if o[0] != "won"]
    assert len(losers) == 29
    # lost the race inside the update, or arrived after the request was already claimed
    assert {e.code for e in losers} <= {"ALREADY_TAKEN", "INVALID_TRANSITION"}
    assert all(e.details["current_state"] == "claimed" for e in losers)
    final = platform.dispatch.get_request(support.service_actor(), request["id"])
    assert final["state"] == "claimed" and len(final["claimed_by"]) == 1
