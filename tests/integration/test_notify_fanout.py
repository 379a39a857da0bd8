"""Fan-out through the real registration service: a notice to every member of a street, written
in bounded chunks, once, while the service keeps answering."""

import time

from nameko.standalone.rpc import ClusterRpcProxy
from sqlalchemy import func, select

from common.db import EventPublisher, Store, envelope
from common.errors import Forbidden
from services.notify.models import Base as NotifyBase
from services.notify.models import Message
from services.notify.service import NotifyService
from services.registration import demo as registration_demo
from services.registration.domain import id_number_check_char
from services.registration.models import Base as RegistrationBase
from services.registration.service import RegistrationService
from services.registration.usecases import roster_import
from tests import support

SYSTEM = support.service_actor  # signed afresh at each call: assertions are short-lived

IMPORTED = 250


def roster(community_id: int, n: int) -> list[dict]:
    rows = []
    for i in range(n):
        first17 = f"44060419900101{i:03d}"
        rows.append({"name": f"党员{i}", "phone": f"139{i:08d}", "id_number": first17 + id_number_check_char(first17),
                     "community_id": community_id})
    return rows


def count_messages(url: str, notice_id: int) -> int:
    store = Store(NotifyBase.metadata, "notify", url, "amqp://unused/")
    try:
        with store.uow() as uow:
            return uow.session.scalar(select(func.count()).select_from(Message).where(Message.notice_id == notice_id))
    finally:
        store.dispose()


def test_notice_to_a_whole_street_reaches_every_member_once(start_service, amqp_uri, vhost):
    reg_config = start_service(RegistrationService)
    config = start_service(NotifyService, NOTIFY_FANOUT_CHUNK=100)
    store = Store(RegistrationBase.metadata, "registration", reg_config["DATABASE_URL"], amqp_uri)
    context: dict = {}
    try:
        registration_demo.seed(store, context)
        result = roster_import.import_roster(store, SYSTEM(), {"rows": roster(context["community_ids"][1], IMPORTED),
                                                            "source": "test"})
        assert result["created"] == IMPORTED and not result["errors"], result
    finally:
        store.dispose()
    payload = {"title": "关于参加周末环境整治的通知", "body": "请本街道在职党员周六上午到所在社区报到。",
               "audience": {"roles": ["member"], "street_id": context["street_id"]}}
    with ClusterRpcProxy(config) as rpc:
        street, other_staff = support.sign_in(rpc, "street"), support.sign_in(rpc, "staff2")
        started = time.monotonic()
        notice = rpc.notify.broadcast(street, payload, idempotency_key="weekend-1")
        assert time.monotonic() - started < 2 and notice["status"] == "pending"
        # the service keeps answering while it fans out
        assert rpc.notify.preferences(support.sign_in(rpc, "13800000001"))["channels"] == ["inbox"]
        done = support.wait_for(lambda: (n := rpc.notify.get_notice(street, notice["id"]))["status"] == "done" and n,
                                timeout=30, message="the fan-out")
        again = rpc.notify.broadcast(street, payload, idempotency_key="weekend-1")
        try:
            rpc.notify.broadcast(other_staff, payload)
            raise AssertionError("a community's staff may not notify the whole street")
        except Forbidden:
            pass
        members = IMPORTED + len(registration_demo.MEMBERS)
        assert done["recipients"] == members and done["inbox"] == members
        assert again["id"] == notice["id"]
        someone = rpc.registration.recipients(SYSTEM(), {"roles": ["member"],
                                                       "community_id": context["community_ids"][0]})
        assert len(someone) == 4
        theirs = support.actors_of(reg_config["DATABASE_URL"], someone)
        inbox = rpc.notify.inbox(theirs[0])
        assert inbox["messages"][0]["title"] == payload["title"]

        # an activity for one community reaches that community's members only
        EventPublisher(amqp_uri, "activities").publish(envelope("activities", "activity.published", {
            "activity_id": 1, "community_id": context["community_ids"][0], "title": "敬老院探访",
            "starts_at": "2026-11-28T01:00:00+00:00", "ends_at": "2026-11-28T03:00:00+00:00", "place": "敬老院"}))
        support.wait_for(lambda: all(
            rpc.notify.inbox(m)["unread"] == 2 for m in theirs),
            message="the activity notice")
        support.wait_queues_idle(vhost)
        time.sleep(1.5)
    assert count_messages(config["DATABASE_URL"], notice["id"]) == members
