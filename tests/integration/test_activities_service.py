"""Activities with registration on the real broker and database: places and the wait list under a
storm, the on-site code, attendance and its trail, the events for scoring and notify, the timers."""

import json
from datetime import timedelta

import pytest
from kombu import Connection, Exchange, Queue
from nameko.standalone.rpc import ClusterRpcProxy
from sqlalchemy import select, update

from cli import demo
from common.db import Store, utcnow
from common.errors import Conflict, Forbidden, NotFound, ValidationFailed
from services.activities import domain
from services.activities.models import Activity, Base, Signup
from services.activities.service import ActivitiesService
from services.activities.usecases import CLOSE, REMINDER
from services.registration.service import RegistrationService
from tests import support

EVENTS_QUEUE = "test-activities-events"


@pytest.fixture
def platform(start_service, amqp_uri):
    reg_config = start_service(RegistrationService)
    act_config = start_service(ActivitiesService)
    demo.seed({"registration": reg_config["DATABASE_URL"]}, amqp_uri)
    with Connection(amqp_uri) as conn:  # listen to everything activities publishes
        Queue(EVENTS_QUEUE, Exchange("activities.events", type="topic", durable=True), routing_key="#",
              durable=True)(conn.channel()).declare()
    store = Store(Base.metadata, "activities", act_config["DATABASE_URL"], amqp_uri)
    with ClusterRpcProxy(act_config) as rpc:
        rpc.store = store
        rpc.amqp_uri = amqp_uri
        rpc.registration_url = reg_config["DATABASE_URL"]
        rpc.made = {}
        yield rpc
    store.dispose()


def login(rpc, username):
    return support.sign_in(rpc, username)


def members(rpc, staff, numbers, **fields):
    """Real accepted members of the staff's community (made once per number), signed in."""
    numbers = [1000 + n for n in numbers]
    new = [n for n in numbers if n not in rpc.made]
    ids = support.register_members(rpc.registration_url, staff["community_id"], new, **fields)
    rpc.made.update(zip(new, ids, strict=True))
    return support.actors_of(rpc.registration_url, [rpc.made[n] for n in numbers])


def member(rpc, staff, n, **fields):
    return members(rpc, staff, [n], **fields)[0]


def iso(dt):
    return dt.isoformat()


def publish(rpc, actor, *, starts_in=timedelta(days=2), hours=2.0, **extra):
    starts = utcnow() + starts_in
    body = {"title": "登革热防控清洁日", "place": "文化广场", "starts_at": iso(starts),
            "ends_at": iso(starts + timedelta(hours=hours)), "places": 5, **extra}
    return rpc.activities.publish(actor, body)


def events(rpc, event_type=None):
    got = [m.payload for m in support.get_messages(rpc.amqp_uri, EVENTS_QUEUE, limit=1000)]
    got = [json.loads(b) if isinstance(b, str) else b for b in got]
    return [e for e in got if event_type is None or e["event_type"] == event_type]


def travel(store, activity_id, delta):
    """Move the clock forward by ``delta`` for one activity: shift everything it stored back."""
    with store.uow() as uow:
        activity = uow.session.get(Activity, activity_id)
        for key in ("starts_at", "ends_at", "signup_deadline"):
            setattr(activity, key, domain.aware(getattr(activity, key)) - delta)
        for signup in uow.session.scalars(select(Signup).where(Signup.activity_id == activity_id)):
            for key in ("checked_in_at", "checked_out_at"):
                if getattr(signup, key) is not None:
                    setattr(signup, key, domain.aware(getattr(signup, key)) - delta)
        uow.commit()


def fire_now(store, kind, activity_id):
    timers = store.metadata.tables["timers"]
    with store.engine.begin() as conn:
        conn.execute(update(timers).where(timers.c.kind == kind, timers.c.ref == str(activity_id))
                     .values(due_at=utcnow() - timedelta(seconds=1)))


def test_places_wait_list_promotion_edit_and_cancel(platform):
    staff = login(platform, "staff1")
    grid_id = login(platform, "grid1")["grid_id"]
    activity = publish(platform, staff, places=2, waitlist_limit=1, skills=["助老"])
    assert activity["state"] == "published" and activity["places_left"] == 2
    assert activity["community_id"] == staff["community_id"]
    published = events(platform, "activity.published")
    assert [e["data"]["activity_id"] for e in published] == [activity["id"]]
    assert published[0]["data"]["places"] == 2

    a, b, c, d = members(platform, staff, range(4))
    aid = activity["id"]
    assert platform.activities.sign_up(a, aid)["status"] == "confirmed"
    assert platform.activities.sign_up(b, aid)["status"] == "confirmed"
    waiting = platform.activities.sign_up(c, aid)
    assert waiting["status"] == "waitlisted" and waiting["position"] == 1
    with pytest.raises(Conflict) as err:
        platform.activities.sign_up(d, aid)
    assert err.value.code == "ACTIVITY_FULL"
    with pytest.raises(Conflict) as err:
        platform.activities.sign_up(a, aid)
    assert err.value.code == "ALREADY_SIGNED_UP"

    # a member cannot hold two activities at once; back to back is fine
    clash = publish(platform, staff, starts_in=timedelta(days=2, hours=1))
    with pytest.raises(Conflict) as err:
        platform.activities.sign_up(a, clash["id"])
    assert err.value.code == "TIME_CONFLICT" and err.value.details["conflicting_activity"] == "登革热防控清洁日"
    after = publish(platform, staff, starts_in=timedelta(days=2, hours=2))
    assert platform.activities.sign_up(a, after["id"])["status"] == "confirmed"

    # places cannot go below those confirmed; more places promote the wait list
    with pytest.raises(Conflict) as err:
        platform.activities.edit(staff, aid, {"places": 1})
    assert err.value.code == "PLACES_BELOW_CONFIRMED"
    with pytest.raises(Forbidden):
        platform.activities.edit(a, aid, {"title": "我来改"})

    # a confirmed member withdraws: the first on the wait list gets the place
    assert platform.activities.withdraw(a, aid)["status"] == "cancelled"
    promoted = support.wait_for(lambda: events(platform, "activity.promoted"), message="activity.promoted")
    assert [e["data"]["member_id"] for e in promoted] == [c["user_id"]]
    assert platform.activities.get_activity(c, aid)["my_status"] == "confirmed"
    again = platform.activities.sign_up(a, aid)  # back of the queue
    assert again["status"] == "waitlisted" and again["position"] == 1
    edited = platform.activities.edit(staff, aid, {"places": 3, "title": "清洁日（扩招）"})
    assert edited["confirmed"] == 3 and edited["waitlisted"] == 0 and edited["title"] == "清洁日（扩招）"
    roster = platform.activities.signups(staff, aid)
    assert [(s["member_id"], s["status"]) for s in roster] == [
        (b["user_id"], "confirmed"), (c["user_id"], "confirmed"), (a["user_id"], "confirmed")]

    # audiences: a grid's activity is for that grid's members only
    grid_activity = publish(platform, staff, starts_in=timedelta(days=5), audience="grid", audience_id=grid_id)
    with pytest.raises(Forbidden) as err:
        platform.activities.sign_up(d, grid_activity["id"])
    assert err.value.code == "NOT_IN_AUDIENCE"
    in_grid = member(platform, staff, 9, grid_id=grid_id)
    assert platform.activities.sign_up(in_grid, grid_activity["id"])["status"] == "confirmed"
    with pytest.raises(NotFound) as err:
        publish(platform, staff, audience="grid", audience_id=staff["community_id"])
    assert err.value.code == "GRID_NOT_FOUND"

    # sign-up deadline, and staff of another community
    closed = publish(platform, staff, starts_in=timedelta(days=6),
                     signup_deadline=iso(utcnow() - timedelta(minutes=1)))
    with pytest.raises(Conflict) as err:
        platform.activities.sign_up(d, closed["id"])
    assert err.value.code == "SIGNUP_CLOSED"
    with pytest.raises(Forbidden):
        platform.activities.cancel(login(platform, "staff2"), aid, {"reason": "不是我的"})

    # cancelling tells everyone holding a place or waiting
    with pytest.raises(ValidationFailed):
        platform.activities.cancel(staff, aid, {})
    cancelled = platform.activities.cancel(staff, aid, {"reason": "台风预警，活动取消"})
    assert cancelled["state"] == "cancelled"
    (event,) = support.wait_for(lambda: events(platform, "activity.cancelled"), message="activity.cancelled")
    assert sorted(event["data"]["member_ids"]) == sorted([a["user_id"], b["user_id"], c["user_id"]])
    assert event["data"]["reason"] == "台风预警，活动取消"
    with pytest.raises(Conflict) as err:
        platform.activities.sign_up(d, aid)
    assert err.value.code == "ACTIVITY_CANCELLED"
    with pytest.raises(ValidationFailed):
        platform.activities.publish(staff, {"title": "x", "starts_at": "明天", "ends_at": "后天", "places": 0})


def test_signup_storm_fills_exactly_the_places_and_queues_the_rest_in_arrival_order(platform):
    staff = login(platform, "staff1")
    activity = publish(platform, staff, places=20)
    crowd = members(platform, staff, range(150))
    # all sign-ups are on the wire before any reply is read
    replies = [platform.activities.sign_up.call_async(m, activity["id"]) for m in crowd]
    results = [r.result() for r in replies]  # no error at all
    confirmed = [r for r in results if r["status"] == "confirmed"]
    waiting = [r for r in results if r["status"] == "waitlisted"]
    assert len(confirmed) == 20 and len(waiting) == 130
    assert sorted(r["seq"] for r in results) == list(range(1, 151))
    assert max(r["seq"] for r in confirmed) < min(r["seq"] for r in waiting)  # first come, first served
    assert sorted(r["position"] for r in waiting) == list(range(1, 131))
    assert all(r["position"] == r["seq"] - 20 for r in waiting)
    final = platform.activities.get_activity(staff, activity["id"])
    assert (final["confirmed"], final["waitlisted"], final["places_left"]) == (20, 130, 0)
    # and the same member twice at once gets one sign-up
    twice = [platform.activities.sign_up.call_async(member(platform, staff, 500), activity["id"]) for _ in range(5)]
    outcomes = []
    for reply in twice:
        try:
            outcomes.append(reply.result()["status"])
        except Conflict as err:
            outcomes.append(err.code)
    assert sorted(outcomes) == ["ALREADY_SIGNED_UP"] * 4 + ["waitlisted"]


def test_on_site_code_attendance_trail_close_and_results(platform):
    staff = login(platform, "staff1")
    store = platform.store
    activity = publish(platform, staff, starts_in=timedelta(minutes=10), hours=1.0,
                       signup_deadline=iso(utcnow() + timedelta(minutes=5)))
    aid = activity["id"]
    a, b, c, d = members(platform, staff, range(4))
    for m in (a, b, c, d):
        platform.activities.sign_up(m, aid)
    waiting = member(platform, staff, 99)
    platform.activities.edit(staff, aid, {"places": 4})
    assert platform.activities.sign_up(waiting, aid)["status"] == "waitlisted"

    code = platform.activities.current_code(staff, aid)
    assert len(code["code"]) == 6 and code["qr_payload"].endswith(code["code"])
    with pytest.raises(Forbidden):
        platform.activities.current_code(a, aid)  # members do not see the code; they are shown it
    wrong = str((int(code["code"]) + 1) % 1_000_000).zfill(6)
    with pytest.raises(Conflict) as err:
        platform.activities.check_in(a, aid, {"code": wrong})
    assert err.value.code == "WRONG_CODE"
    with pytest.raises(Conflict) as err:
        platform.activities.check_in(waiting, aid, {"code": code["code"]})
    assert err.value.code == "NOT_CONFIRMED"
    with pytest.raises(Conflict) as err:
        platform.activities.check_out(a, aid, {"code": code["code"]})
    assert err.value.code == "NOT_CHECKED_IN"
    assert platform.activities.check_in(a, aid, {"code": code["code"]})["attendance"] == "present"
    with pytest.raises(Conflict) as err:
        platform.activities.check_in(a, aid, {"code": code["code"]})
    assert err.value.code == "ALREADY_CHECKED_IN"
    later = publish(platform, staff, starts_in=timedelta(days=3))
    platform.activities.sign_up(d, later["id"])
    later_code = platform.activities.current_code(staff, later["id"])["code"]
    with pytest.raises(Conflict) as err:
        platform.activities.check_in(d, later["id"], {"code": later_code})
    assert err.value.code == "OUTSIDE_WINDOW"

    travel(store, aid, timedelta(minutes=30))  # 20 minutes after the start: B is late, scanning the QR code
    code = platform.activities.current_code(staff, aid)
    assert platform.activities.check_in(b, aid, {"code": code["qr_payload"]})["attendance"] == "late"
    travel(store, aid, timedelta(minutes=25))  # 45 minutes in: A leaves
    out = platform.activities.check_out(a, aid, {"code": platform.activities.current_code(staff, aid)["code"]})
    assert out["hours"] == 0.75
    # the leader marks C absent, then corrects it: a correction needs a reason and is on the trail
    assert platform.activities.mark(staff, aid, {"member_id": c["user_id"], "status": "absent"})["hours"] == 0
    with pytest.raises(ValidationFailed) as err:
        platform.activities.mark(staff, aid, {"member_id": c["user_id"], "status": "leave"})
    assert err.value.code == "REASON_REQUIRED"
    platform.activities.mark(staff, aid, {"member_id": c["user_id"], "status": "leave", "reason": "临时加班，已请假"})
    with pytest.raises(Forbidden):
        platform.activities.mark(a, aid, {"member_id": a["user_id"], "status": "present", "hours": 1})
    with pytest.raises(Conflict) as err:
        platform.activities.close_attendance(staff, aid)
    assert err.value.code == "NOT_ENDED"

    travel(store, aid, timedelta(minutes=20))  # ended 5 minutes ago; B never checked out
    report = platform.activities.close_attendance(staff, aid)
    assert report["activity"]["state"] == "closed"
    assert (report["signed_up"], report["attended"], report["late"], report["on_leave"], report["absent"]) == \
        (4, 2, 1, 1, 1)
    hours = {s["member_id"]: s["hours"] for s in report["signups"]}
    assert hours[a["user_id"]] == 0.75 and hours[b["user_id"]] == round(40 / 60, 2)  # late in, to the end
    assert report["total_hours"] == round(0.75 + round(40 / 60, 2), 2)
    correction = next(t for t in report["trail"] if t["action"] == "correct")
    assert (correction["from_value"], correction["to_value"], correction["reason"]) == \
        ("absent", "leave", "临时加班，已请假")
    assert correction["actor_id"] == staff["user_id"]

    attended = support.wait_for(lambda: events(platform), message="events")
    by_type = {}
    for e in attended:
        by_type.setdefault(e["event_type"], []).append(e["data"])
    assert sorted((e["member_id"], e["hours"]) for e in by_type["activity.attended"]) == sorted(
        [(a["user_id"], 0.75), (b["user_id"], round(40 / 60, 2))])
    assert [e["member_id"] for e in by_type["activity.no_show"]] == [d["user_id"]]
    with pytest.raises(Conflict) as err:
        platform.activities.mark(staff, aid, {"member_id": d["user_id"], "status": "present", "reason": "补记"})
    assert err.value.code == "ATTENDANCE_CLOSED"
    with pytest.raises(Conflict) as err:
        platform.activities.close_attendance(staff, aid)
    assert err.value.code == "ATTENDANCE_CLOSED"

    period = {"since": iso(utcnow() - timedelta(days=1)), "until": iso(utcnow() + timedelta(days=1))}
    stats = platform.activities.community_stats(staff, staff["community_id"], period)
    assert (stats["activities_held"], stats["members_taking_part"], stats["attendances"], stats["no_shows"]) == \
        (1, 2, 2, 1)
    assert stats["total_hours"] == report["total_hours"]
    with pytest.raises(Forbidden):
        platform.activities.community_stats(login(platform, "staff2"), staff["community_id"], period)


def test_timers_remind_the_day_before_and_close_attendance_after(platform):
    staff = login(platform, "staff1")
    store = platform.store
    activity = publish(platform, staff, starts_in=timedelta(days=3))
    aid = activity["id"]
    a, b = member(platform, staff, 1), member(platform, staff, 2)
    platform.activities.sign_up(a, aid)
    platform.activities.sign_up(b, aid)
    platform.activities.withdraw(b, aid)
    events(platform)  # drop what came before

    fire_now(store, REMINDER, aid)
    (reminder,) = support.wait_for(lambda: events(platform, "activity.reminder"), message="the reminder")
    assert reminder["data"]["member_ids"] == [a["user_id"]]
    assert reminder["data"]["activity_id"] == aid

    travel(store, aid, timedelta(days=3, hours=3))  # it took place and nobody came
    fire_now(store, CLOSE, aid)
    (no_show,) = support.wait_for(lambda: events(platform, "activity.no_show"), message="the no-show")
    assert no_show["data"]["member_id"] == a["user_id"]
    assert platform.activities.get_activity(staff, aid)["state"] == "closed"
    with store.engine.connect() as conn:
        timers = store.metadata.tables["timers"]
        assert conn.execute(select(timers.c.fired_at).where(timers.c.ref == str(aid))).scalars().all()
