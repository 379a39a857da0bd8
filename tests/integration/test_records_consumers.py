"""The volunteer record's consumers on the real broker and database: several events about one
member handled at the same moment (the demo's seeding does this: a member accepted, then given
an e-branch) make one volunteer row with the latest facts, and nothing is dead-lettered.

Before the row was inserted-or-ignored, the second handler failed on the primary key and its
event went to the dead-letter queue, so a member's e-branch could be missing from the record
(and their hours from the secretary's queue)."""

import time

from sqlalchemy import select

from common import messaging
from common.db import EventPublisher, Store, envelope
from services.records.models import Base, Volunteer
from services.records.service import RecordsService
from tests import support

MEMBERS = range(70001, 70041)


def test_events_about_one_new_member_at_once_make_one_row_and_no_dead_letter(start_service, amqp_uri):
    config = start_service(RecordsService)
    publish = EventPublisher(amqp_uri, "registration").publish
    for member_id in MEMBERS:  # both at once: each type has its own queue, so workers run them side by side
        facts = {"member_id": member_id, "name": f"党员{member_id}", "community_id": 3}
        publish(envelope("registration", "member.accepted", facts))
        publish(envelope("registration", "member.updated", {**facts, "e_branch_id": 7}))

    store = Store(Base.metadata, "records", config["DATABASE_URL"], amqp_uri)

    def consumed():
        with store.sessionmaker() as session:
            rows = session.scalars(select(Volunteer).where(Volunteer.member_id.in_(list(MEMBERS)))).all()
        return rows if len(rows) == len(MEMBERS) else None

    rows = support.wait_for(consumed, timeout=60, message="a volunteer row for every member")
    time.sleep(1)  # any handler still running would dead-letter now
    assert [m.headers.get("x-reason") for m in support.get_messages(amqp_uri, messaging.DEAD_LETTER_QUEUE.name)] == []
    assert {r.member_id for r in rows} == set(MEMBERS)
    assert all(r.name == f"党员{r.member_id}" and r.community_id == 3 and r.volunteer_number for r in rows)
    store.dispose()
