"""Activities' use cases: each loads input, applies the domain rules, commits, emits.

Concurrency: every change to an activity's places takes the activity's row first (a
conditional UPDATE — PostgreSQL's row lock, SQLite's write lock) and holds it to commit, so
sign-ups, withdrawals, promotions and edits of one activity are serialised, arrival order is
commit order, and nothing waits on anything but that one row (no deadlock between two orders).
"""

import secrets
import threading
from datetime import datetime

from sqlalchemy import distinct, func, select, update

import authz
from common.actors import Actor, reaches
from common.db import IntegrityError, Store, utcnow
from common.errors import Conflict, Forbidden, NotFound, ValidationFailed
from common.schemas import load
from common.timers import cancel as cancel_timer
from common.timers import schedule
from services.activities import domain, schemas
from services.activities.domain import aware
from services.activities.models import Activity, AttendanceEntry, Signup

REMINDER, CLOSE = "activity_reminder", "activity_close"
SYSTEM = {"user_id": None, "role": "system"}

_NO_SYNC = {"synchronize_session": False}
_WRITERS = [threading.Lock() for _ in range(64)]  # green under eventlet; striped, so bounded


def _writer(activity_id: int) -> threading.Lock:
    return _WRITERS[activity_id % len(_WRITERS)]


# ---- helpers ------------------------------------------------------------------------------

def _get(session, activity_id: int) -> Activity:
    activity = session.get(Activity, activity_id, populate_existing=True)
    if activity is None:
        raise NotFound(code="ACTIVITY_NOT_FOUND", message="找不到该活动")
    return activity


def _lock(session, activity_id: int) -> Activity:
    """Take the activity's row for the rest of the transaction (the first write of it)."""
    touched = session.execute(update(Activity).where(Activity.id == activity_id)
                              .values(updated_at=utcnow()).execution_options(**_NO_SYNC)).rowcount
    if not touched:
        raise NotFound(code="ACTIVITY_NOT_FOUND", message="找不到该活动")
    return _get(session, activity_id)


def _facts(activity: Activity) -> dict:
    """The activity as the domain rules see it: plain values, aware UTC times."""
    return {
        "id": activity.id, "community_id": activity.community_id, "street_id": activity.street_id,
        "district_id": activity.district_id, "publisher_id": activity.publisher_id,
        "publisher_role": activity.publisher_role, "work_unit_id": activity.work_unit_id,
        "leader_id": activity.leader_id, "audience": activity.audience, "audience_id": activity.audience_id,
        "state": activity.state, "starts_at": aware(activity.starts_at), "ends_at": aware(activity.ends_at),
        "signup_deadline": aware(activity.signup_deadline), "title": activity.title, "kind": activity.kind,
    }


def _activity_data(activity: Activity, my_status: str | None = None) -> dict:
    data = {c.key: getattr(activity, c.key) for c in Activity.__table__.columns}
    for key in ("starts_at", "ends_at", "signup_deadline", "created_at"):
        data[key] = aware(data[key])
    data.update(state_label=domain.STATE_LABELS[activity.state], my_status=my_status,
                places_left=max(activity.places - activity.confirmed, 0))
    return data


def _view(activity: Activity, my_status: str | None = None) -> dict:
    return schemas.Activity().dump(_activity_data(activity, my_status))


def _event(activity: Activity, **extra) -> dict:
    return {"activity_id": activity.id, "community_id": activity.community_id, "title": activity.title,
            "starts_at": aware(activity.starts_at).isoformat(), "ends_at": aware(activity.ends_at).isoformat(),
            "place": activity.place or "", **extra}


def _signup_view(session, signup: Signup) -> dict:
    position = None
    if signup.status == domain.WAITLISTED:
        position = session.scalar(select(func.count()).select_from(Signup).where(
            Signup.activity_id == signup.activity_id, Signup.status == domain.WAITLISTED,
            Signup.seq <= signup.seq))
    return schemas.Signup().dump({**_signup_data(signup), "position": position})


def _log(session, activity_id: int, member_id: int, actor: dict, action: str, from_value=None,
         to_value=None, hours=None, reason=""):
    session.add(AttendanceEntry(activity_id=activity_id, member_id=member_id, action=action,
                                from_value=from_value, to_value=to_value, hours=hours, reason=reason,
                                actor_id=actor.get("user_id"), actor_role=actor["role"], at=utcnow()))


def _mine(session, activity_id: int, member_id: int) -> Signup | None:
    return session.scalar(select(Signup).where(Signup.activity_id == activity_id, Signup.member_id == member_id)
                          .execution_options(populate_existing=True))


def _schedule_timers(uow, activity: Activity, now: datetime):
    remind = domain.reminder_at(aware(activity.starts_at), now)
    if remind is None:
        cancel_timer(uow, REMINDER, activity.id)
    else:
        schedule(uow, REMINDER, activity.id, remind)
    schedule(uow, CLOSE, activity.id, domain.close_at(aware(activity.ends_at)))


def _promote(uow, activity: Activity, actor: dict) -> list[int]:
    """Fill free places from the wait list, first come first served. Caller holds the row."""
    session = uow.session
    promoted = []
    now = utcnow()
    while activity.confirmed < activity.places:
        nxt = session.scalar(select(Signup).where(Signup.activity_id == activity.id,
                                                  Signup.status == domain.WAITLISTED)
                             .order_by(Signup.seq).limit(1))
        if nxt is None:
            break
        nxt.status, nxt.promoted_at, nxt.updated_at = domain.CONFIRMED, now, now
        activity.confirmed += 1
        activity.waitlisted -= 1
        _log(session, activity.id, nxt.member_id, actor, "promote", domain.WAITLISTED, domain.CONFIRMED,
             reason="有名额空出，候补自动递补")
        uow.emit("activity.promoted", _event(activity, member_id=nxt.member_id))
        promoted.append(nxt.member_id)
    return promoted


# ---- publishing ---------------------------------------------------------------------------

def publish(store: Store, registration, actor: dict, payload: dict, idempotency_key: str | None = None) -> dict:
    """A community, grid, e-branch or co-building unit publishes an activity.

    ``registration`` is the port to the registration service (the community's place in the tree).
    """
    actor = load(Actor, actor) | {k: v for k, v in (actor or {}).items() if k == "e_branch_secretary"}
    data = load(schemas.PublishActivity, payload)
    if idempotency_key:
        with store.uow() as uow:
            done = uow.session.scalar(select(Activity).where(Activity.publisher_id == actor["user_id"],
                                                             Activity.idempotency_key == idempotency_key))
            if done is not None:
                return _view(done)
    community_id = data["community_id"] or actor.get("community_id")
    if community_id is None:
        raise ValidationFailed(code="COMMUNITY_REQUIRED", fields={"community_id": ["请指明在哪个社区举办"]},
                               message="请指明在哪个社区举办活动")
    audience_id = domain.check_audience_shape(data["audience"], data["audience_id"])
    place = registration.get_place(community_id)  # outside any transaction
    if place.get("kind") != "community":
        raise NotFound(code="COMMUNITY_NOT_FOUND", fields={"community_id": ["不是社区（村居）"]},
                       message="找不到该社区")
    if data["audience"] == "grid":
        grid = registration.get_place(audience_id)
        if grid.get("kind") != "grid" or grid.get("parent_id") != community_id:
            raise NotFound(code="GRID_NOT_FOUND", fields={"audience_id": ["不是该社区的网格"]},
                           message="该社区没有这个网格")
    units = ([u["work_unit_id"] for u in registration.list_co_building_units(community_id)]
             if actor["role"] == "unit_org" else [])
    # finding 5: a work unit publishes only where it has a co-building report (the one policy)
    authz.check(actor, "activities.activity_publish", authz.facts(
        community_id=community_id, street_id=place.get("street_id"), district_id=place.get("district_id"),
        co_building_unit_ids=units), message="只能在本人管辖范围内（单位：已共驻共建）的社区发布活动")
    domain.check_can_publish(actor, place, data["audience"], audience_id)
    now = utcnow()
    starts_at, ends_at = data["starts_at"].astimezone(domain.UTC), data["ends_at"].astimezone(domain.UTC)
    deadline = (data["signup_deadline"] or domain.default_deadline(starts_at)).astimezone(domain.UTC)
    domain.check_schedule(starts_at, ends_at, deadline, now)
    with store.uow() as uow:
        activity = Activity(
            kind=data["kind"], community_id=community_id, street_id=place.get("street_id"),
            district_id=place.get("district_id"), publisher_id=actor["user_id"], publisher_role=actor["role"],
            publisher_name=actor.get("name") or "", work_unit_id=actor.get("work_unit_id")
            if actor["role"] == "unit_org" else None, leader_id=data["leader_id"], title=data["title"],
            description=data["description"], place=data["place"], starts_at=starts_at, ends_at=ends_at,
            signup_deadline=deadline, places=data["places"], waitlist_limit=data["waitlist_limit"],
            skills=data["skills"], audience=data["audience"], audience_id=audience_id, state=domain.PUBLISHED,
            confirmed=0, waitlisted=0, next_seq=0, code_secret=secrets.token_hex(32),
            idempotency_key=idempotency_key, created_at=now, updated_at=now)
        uow.session.add(activity)
        try:
            uow.session.flush()
        except IntegrityError:  # the same Idempotency-Key raced in: answer with the first
            uow.session.rollback()
            return _view(uow.session.scalar(select(Activity).where(
                Activity.publisher_id == actor["user_id"], Activity.idempotency_key == idempotency_key)))
        _schedule_timers(uow, activity, now)
        uow.emit("activity.published", _event(activity, audience=activity.audience,
                                               audience_id=activity.audience_id, places=activity.places))
        view = _view(activity)
        uow.commit()
    return view


def edit(store: Store, actor: dict, activity_id: int, payload: dict) -> dict:
    actor = load(Actor, actor)
    data = load(schemas.EditActivity, payload)
    now = utcnow()
    with store.uow() as uow:
        activity = _lock(uow.session, activity_id)
        domain.check_can_manage(actor, _facts(activity))
        if activity.state != domain.PUBLISHED:
            raise Conflict(code="NOT_EDITABLE", details={"current_state": activity.state},
                           message=f"活动{domain.STATE_LABELS[activity.state]}，不能修改")
        for key in ("starts_at", "ends_at", "signup_deadline"):
            if key in data:
                data[key] = data[key].astimezone(domain.UTC)
        starts_at = data.get("starts_at", aware(activity.starts_at))
        ends_at = data.get("ends_at", aware(activity.ends_at))
        deadline = data.get("signup_deadline", aware(activity.signup_deadline))
        if {"starts_at", "ends_at", "signup_deadline"} & set(data):
            domain.check_schedule(starts_at, ends_at, deadline, now)
        if "places" in data:
            domain.check_places(data["places"], activity.confirmed)
        for key, value in data.items():
            setattr(activity, key, value)
        activity.updated_at = now
        _promote(uow, activity, actor)
        if {"starts_at", "ends_at"} & set(data):
            _schedule_timers(uow, activity, now)
        view = _view(activity)
        uow.commit()
    return view


def cancel_activity(store: Store, actor: dict, activity_id: int, payload: dict) -> dict:
    actor = load(Actor, actor)
    data = load(schemas.CancelActivity, payload)
    with store.uow() as uow:
        session = uow.session
        activity = _lock(session, activity_id)
        domain.check_can_manage(actor, _facts(activity))
        if activity.state != domain.PUBLISHED:
            raise Conflict(code="NOT_CANCELLABLE", details={"current_state": activity.state},
                           message=f"活动{domain.STATE_LABELS[activity.state]}，不能取消")
        activity.state, activity.cancel_reason, activity.updated_at = domain.CANCELLED, data["reason"], utcnow()
        member_ids = list(session.scalars(select(Signup.member_id).where(
            Signup.activity_id == activity_id, Signup.status.in_(domain.ACTIVE_SIGNUPS)).order_by(Signup.seq)))
        cancel_timer(uow, REMINDER, activity_id)
        cancel_timer(uow, CLOSE, activity_id)
        uow.emit("activity.cancelled", _event(activity, member_ids=member_ids, reason=data["reason"]))
        view = _view(activity)
        uow.commit()
    return view


def _visible(actor: dict, activity: Activity) -> bool:
    facts = _facts(activity)
    if actor["role"] in ("member", "grid_leader") and domain.in_audience(actor, facts):
        return True
    if actor["role"] == "resident" and domain.resident_may_join(actor, facts):
        return True
    return domain.can_manage(actor, facts)


def get_activity(store: Store, actor: dict, activity_id: int) -> dict:
    actor = load(Actor, actor)
    with store.uow() as uow:
        activity = _get(uow.session, activity_id)
        mine = _mine(uow.session, activity_id, actor["user_id"]) if actor["user_id"] is not None else None
        if mine is None and not _visible(actor, activity):
            raise Forbidden(code="NOT_IN_AUDIENCE", message="该活动不面向您")
        return _view(activity, mine.status if mine else None)


def list_activities(store: Store, actor: dict, query: dict) -> list[dict]:
    """Members: what is open to them in their community; staff: their community (or the one asked)."""
    actor = load(Actor, actor)
    q = load(schemas.ListQuery, query)
    with store.uow() as uow:
        session = uow.session
        stmt = select(Activity)
        if actor["role"] in ("member", "grid_leader", "community_staff", "resident"):
            stmt = stmt.where(Activity.community_id == actor.get("community_id"))
        elif actor["role"] == "unit_org":
            unit = actor.get("work_unit_id")
            stmt = stmt.where((Activity.work_unit_id == unit)
                              | ((Activity.audience == "work_unit") & (Activity.audience_id == unit)))
        elif actor["role"] == "street_staff":
            stmt = stmt.where(Activity.street_id == actor.get("street_id"))
        elif actor["role"] == "district_staff":
            stmt = stmt.where(Activity.district_id == actor.get("district_id"))
        if q["community_id"] is not None:
            stmt = stmt.where(Activity.community_id == q["community_id"])
        if q["state"]:
            stmt = stmt.where(Activity.state == q["state"])
        if q["starts_after"]:
            stmt = stmt.where(Activity.starts_at >= q["starts_after"].astimezone(domain.UTC))
        if q["starts_before"]:
            stmt = stmt.where(Activity.starts_at < q["starts_before"].astimezone(domain.UTC))
        activities = session.scalars(stmt.order_by(Activity.starts_at.desc()).limit(q["limit"] * 4)).all()
        mine = {}
        if activities and actor["user_id"] is not None:
            mine = dict(session.execute(select(Signup.activity_id, Signup.status).where(
                Signup.member_id == actor["user_id"], Signup.activity_id.in_([a.id for a in activities]))).all())
        shown = [a for a in activities if a.id in mine or _visible(actor, a)][:q["limit"]]
        return [_view(a, mine.get(a.id)) for a in shown]


# ---- signing up ---------------------------------------------------------------------------

def sign_up(store: Store, actor: dict, activity_id: int) -> dict:
    """A place if one is left, else the wait list; exactly ``places`` win however many arrive at once."""
    actor = load(Actor, actor)
    member_id = actor["user_id"]
    now = utcnow()
    with store.uow() as uow:
        session = uow.session
        activity = _get(session, activity_id)
        domain.check_can_sign_up(actor, _facts(activity), now)
        mine = _mine(session, activity_id, member_id)
        if mine is not None and mine.status in domain.ACTIVE_SIGNUPS:
            raise domain.already_signed_up(mine.status)
        clash = session.scalar(
            select(Activity.title).join(Signup, Signup.activity_id == Activity.id).where(
                Signup.member_id == member_id, Signup.status.in_(domain.ACTIVE_SIGNUPS),
                Activity.id != activity_id, Activity.state != domain.CANCELLED,
                Activity.starts_at < activity.ends_at, Activity.ends_at > activity.starts_at).limit(1))
        if clash is not None:
            raise domain.time_conflict(clash)
        # one writer per activity inside this process: queueing here is cheaper than on the
        # database lock (SQLite's busy handler sleeps); across instances the row lock still decides
        with _writer(activity_id):
            # the counter decides, as the first write: it holds the row until commit
            still_open = (Activity.id == activity_id, Activity.state == domain.PUBLISHED,
                          Activity.signup_deadline > now)
            status = domain.CONFIRMED
            won = session.execute(update(Activity).where(*still_open, Activity.confirmed < Activity.places)
                                  .values(confirmed=Activity.confirmed + 1, next_seq=Activity.next_seq + 1)
                                  .execution_options(**_NO_SYNC)).rowcount
            if not won:
                status = domain.WAITLISTED
                won = session.execute(
                    update(Activity).where(*still_open, Activity.waitlist_limit.is_(None)
                                           | (Activity.waitlisted < Activity.waitlist_limit))
                    .values(waitlisted=Activity.waitlisted + 1, next_seq=Activity.next_seq + 1)
                    .execution_options(**_NO_SYNC)).rowcount
            if not won:
                session.rollback()
                domain.check_open_for_signup(_facts(_get(session, activity_id)), utcnow())
                raise domain.activity_full()
            seq = session.scalar(select(Activity.next_seq).where(Activity.id == activity_id))
            if mine is not None:  # signing up again after withdrawing: to the back of the queue
                again = session.execute(
                    update(Signup).where(Signup.id == mine.id, Signup.status == domain.WITHDRAWN)
                    .values(status=status, seq=seq, signed_up_at=now, promoted_at=None, updated_at=now)
                    .execution_options(**_NO_SYNC)).rowcount
                if not again:
                    session.rollback()
                    raise domain.already_signed_up(_mine(session, activity_id, member_id).status)
                signup = _mine(session, activity_id, member_id)
            else:
                signup = Signup(activity_id=activity_id, member_id=member_id, member_name=actor.get("name") or "",
                                participant_role="resident" if actor["role"] == "resident" else "member",
                                seq=seq, status=status, signed_up_at=now, updated_at=now, hours=0.0)
                session.add(signup)
                try:
                    session.flush()
                except IntegrityError:  # the same member's other request won: one sign-up each
                    session.rollback()
                    raise domain.already_signed_up(_mine(session, activity_id, member_id).status) from None
            view = _signup_view(session, signup)
            uow.commit()
    return view


def withdraw(store: Store, actor: dict, activity_id: int) -> dict:
    """A member cancels their sign-up before the start; a freed place goes to the wait list's first."""
    actor = load(Actor, actor)
    now = utcnow()
    with store.uow() as uow:
        session = uow.session
        activity = _lock(session, activity_id)
        mine = _mine(session, activity_id, actor["user_id"])
        if mine is None or mine.status not in domain.ACTIVE_SIGNUPS:
            raise Conflict(code="NOT_SIGNED_UP", message="您没有报名该活动")
        if activity.state != domain.PUBLISHED:
            raise Conflict(code="ACTIVITY_CLOSED", details={"current_state": activity.state},
                           message=f"活动{domain.STATE_LABELS[activity.state]}，无需取消报名")
        if now >= aware(activity.starts_at):
            raise Conflict(code="ACTIVITY_STARTED", message="活动已开始，不能在线取消报名；请向带队负责人请假")
        before = mine.status
        mine.status, mine.updated_at = domain.WITHDRAWN, now
        if before == domain.CONFIRMED:
            activity.confirmed -= 1
        else:
            activity.waitlisted -= 1
        _log(session, activity_id, mine.member_id, actor, "withdraw", before, domain.WITHDRAWN)
        _promote(uow, activity, SYSTEM)
        session.flush()
        view = _signup_view(session, mine)
        uow.commit()
    return view


def my_signups(store: Store, actor: dict) -> list[dict]:
    actor = load(Actor, actor)
    with store.uow() as uow:
        session = uow.session
        rows = session.execute(select(Signup, Activity).join(Activity, Activity.id == Signup.activity_id)
                               .where(Signup.member_id == actor["user_id"])
                               .order_by(Activity.starts_at.desc()).limit(100)).all()
        return [{**_signup_view(session, s), "activity": _view(a, s.status)} for s, a in rows]


def signups(store: Store, actor: dict, activity_id: int) -> list[dict]:
    """The roster in arrival order: places first, then the wait list."""
    actor = load(Actor, actor)
    with store.uow() as uow:
        session = uow.session
        domain.check_can_manage(actor, _facts(_get(session, activity_id)))
        rows = session.scalars(select(Signup).where(Signup.activity_id == activity_id).order_by(Signup.seq)).all()
        waiting = 0
        out = []
        for signup in rows:
            view = _signup_view_fast(signup)
            if signup.status == domain.WAITLISTED:
                waiting += 1
                view["position"] = waiting
            out.append(view)
        return out


def _signup_data(signup: Signup) -> dict:
    data = {c.key: getattr(signup, c.key) for c in Signup.__table__.columns}
    for key in ("checked_in_at", "checked_out_at", "signed_up_at", "promoted_at"):
        data[key] = aware(data[key])
    data.update(status_label=domain.SIGNUP_LABELS[signup.status], position=None)
    return data


def _signup_view_fast(signup: Signup) -> dict:
    return schemas.Signup().dump(_signup_data(signup))


# ---- on site ------------------------------------------------------------------------------

def current_code(store: Store, actor: dict, activity_id: int) -> dict:
    actor = load(Actor, actor)
    now = utcnow()
    with store.uow() as uow:
        activity = _get(uow.session, activity_id)
        domain.check_can_manage(actor, _facts(activity))
        domain.check_attendance_open(_facts(activity))
        secret = bytes.fromhex(activity.code_secret)
    code = domain.code_at(secret, activity_id, now)
    return schemas.CodeView().dump({
        "activity_id": activity_id, "code": code, "qr_payload": domain.qr_payload(activity_id, code),
        "valid_until": domain.code_expires_at(now), "step_seconds": domain.CODE_STEP_SECONDS})


def _confirmed_signup(session, activity_id: int, member_id: int) -> Signup:
    mine = _mine(session, activity_id, member_id)
    if mine is None or mine.status == domain.WITHDRAWN:
        raise Conflict(code="NOT_SIGNED_UP", message="没有报名该活动")
    if mine.status != domain.CONFIRMED:
        raise Conflict(code="NOT_CONFIRMED", details={"current_status": mine.status},
                       message="仍在候补名单中，没有获得名额")
    return mine


def check_in(store: Store, actor: dict, activity_id: int, payload: dict) -> dict:
    actor = load(Actor, actor)
    data = load(schemas.Code, payload)
    now = utcnow()
    with store.uow() as uow:
        session = uow.session
        activity = _get(session, activity_id)
        facts = _facts(activity)
        mine = _confirmed_signup(session, activity_id, actor["user_id"])
        domain.check_attendance_open(facts)
        domain.check_in_window(facts["starts_at"], facts["ends_at"], now)
        domain.verify_code(bytes.fromhex(activity.code_secret), activity_id, data["code"], now)
        if mine.checked_in_at is not None:
            raise Conflict(code="ALREADY_CHECKED_IN", message="您已经签到过了")
        attendance = domain.attendance_on_check_in(facts["starts_at"], now)
        # conditional: a double tap records one check-in
        done = session.execute(
            update(Signup).where(Signup.id == mine.id, Signup.checked_in_at.is_(None))
            .values(checked_in_at=now, attendance=attendance, updated_at=now)
            .execution_options(**_NO_SYNC)).rowcount
        if not done:
            session.rollback()
            raise Conflict(code="ALREADY_CHECKED_IN", message="您已经签到过了")
        _log(session, activity_id, mine.member_id, actor, "check_in", mine.attendance, attendance)
        view = _signup_view(session, _mine(session, activity_id, actor["user_id"]))
        uow.commit()
    return view


def check_out(store: Store, actor: dict, activity_id: int, payload: dict) -> dict:
    actor = load(Actor, actor)
    data = load(schemas.Code, payload)
    now = utcnow()
    with store.uow() as uow:
        session = uow.session
        activity = _get(session, activity_id)
        facts = _facts(activity)
        mine = _confirmed_signup(session, activity_id, actor["user_id"])
        domain.check_attendance_open(facts)
        domain.check_out_window(facts["starts_at"], facts["ends_at"], now)
        domain.verify_code(bytes.fromhex(activity.code_secret), activity_id, data["code"], now)
        if mine.checked_in_at is None:
            raise Conflict(code="NOT_CHECKED_IN", message="您还没有签到，不能签退；请联系带队负责人补记")
        if mine.checked_out_at is not None:
            raise Conflict(code="ALREADY_CHECKED_OUT", message="您已经签退过了")
        hours = mine.hours if mine.hours_by_leader else domain.hours_between(
            facts["starts_at"], facts["ends_at"], aware(mine.checked_in_at), now)
        done = session.execute(
            update(Signup).where(Signup.id == mine.id, Signup.checked_out_at.is_(None))
            .values(checked_out_at=now, hours=hours, updated_at=now).execution_options(**_NO_SYNC)).rowcount
        if not done:
            session.rollback()
            raise Conflict(code="ALREADY_CHECKED_OUT", message="您已经签退过了")
        _log(session, activity_id, mine.member_id, actor, "check_out", hours=hours)
        view = _signup_view(session, _mine(session, activity_id, actor["user_id"]))
        uow.commit()
    return view


def mark(store: Store, actor: dict, activity_id: int, payload: dict) -> dict:
    """The leader marks present, late, on leave or absent; a change of a mark needs a reason."""
    actor = load(Actor, actor)
    data = load(schemas.Mark, payload)
    with store.uow() as uow:
        session = uow.session
        activity = _lock(session, activity_id)
        facts = _facts(activity)
        domain.check_can_manage(actor, facts)
        domain.check_attendance_open(facts)
        signup = _confirmed_signup(session, activity_id, data["member_id"])
        window = domain.window_hours(facts["starts_at"], facts["ends_at"])
        domain.check_mark(signup.attendance, data["status"], data["reason"], data["hours"], window)
        served = domain.hours_between(facts["starts_at"], facts["ends_at"], aware(signup.checked_in_at),
                                      aware(signup.checked_out_at))
        before = signup.attendance
        signup.attendance = data["status"]
        signup.hours = domain.hours_for_mark(data["status"], data["hours"], served, window)
        signup.hours_by_leader = data["hours"] is not None
        signup.updated_at = utcnow()
        _log(session, activity_id, signup.member_id, actor, "correct" if before else "mark", before,
             data["status"], signup.hours, data["reason"])
        session.flush()
        view = _signup_view(session, signup)
        uow.commit()
    return view


def _close(uow, activity: Activity, actor: dict) -> dict:
    """Settle attendance: hours to scoring for those who came, a no-show for those who did not."""
    session = uow.session
    facts = _facts(activity)
    counts = {"attended": 0, "no_show": 0, "excused": 0}
    for signup in session.scalars(select(Signup).where(Signup.activity_id == activity.id,
                                                       Signup.status == domain.CONFIRMED).order_by(Signup.seq)):
        if signup.checked_in_at is not None and signup.checked_out_at is None and not signup.hours_by_leader:
            signup.hours = domain.hours_between(facts["starts_at"], facts["ends_at"],
                                                aware(signup.checked_in_at), None)
        result = domain.outcome(signup.attendance, signup.hours)
        signup.outcome = result
        if signup.participant_role == "resident":
            # a resident's attendance is kept here; points and the volunteer record are members'
            if result == "no_show" and signup.attendance is None:
                signup.attendance = domain.ABSENT
        elif result == "no_show":
            if signup.attendance is None:
                signup.attendance = domain.ABSENT
            signup.hours = 0.0
            uow.emit("activity.no_show", _event(activity, member_id=signup.member_id))
        elif result == "attended":
            uow.emit("activity.attended", _event(activity, member_id=signup.member_id, hours=signup.hours))
        counts[result] += 1
    activity.state, activity.closed_at = domain.CLOSED, utcnow()
    _log(session, activity.id, 0, actor, "close", domain.PUBLISHED, domain.CLOSED,
         reason=f"出席{counts['attended']}人，缺席{counts['no_show']}人，请假{counts['excused']}人")
    return counts


def close_attendance(store: Store, actor: dict, activity_id: int) -> dict:
    actor = load(Actor, actor)
    with store.uow() as uow:
        activity = _lock(uow.session, activity_id)
        facts = _facts(activity)
        domain.check_can_manage(actor, facts)
        domain.check_can_close(facts, utcnow())
        _close(uow, activity, actor)
        cancel_timer(uow, CLOSE, activity_id)
        uow.session.flush()
        result = _report(uow.session, activity)
        uow.commit()
    return result


# ---- timers -------------------------------------------------------------------------------

def on_close_timer(uow, timer: dict):
    activity = _lock(uow.session, int(timer["ref"]))
    if activity.state == domain.PUBLISHED:
        _close(uow, activity, SYSTEM)


def on_reminder_timer(uow, timer: dict):
    activity = _get(uow.session, int(timer["ref"]))
    if activity.state != domain.PUBLISHED:
        return
    member_ids = list(uow.session.scalars(select(Signup.member_id).where(
        Signup.activity_id == activity.id, Signup.status == domain.CONFIRMED).order_by(Signup.seq)))
    if member_ids:
        uow.emit("activity.reminder", _event(activity, member_ids=member_ids))


# ---- results ------------------------------------------------------------------------------

def _report(session, activity: Activity) -> dict:
    rows = session.scalars(select(Signup).where(Signup.activity_id == activity.id).order_by(Signup.seq)).all()
    confirmed = [s for s in rows if s.status == domain.CONFIRMED]
    trail = session.scalars(select(AttendanceEntry).where(AttendanceEntry.activity_id == activity.id)
                            .order_by(AttendanceEntry.id)).all()
    came = [s for s in confirmed if s.attendance in (domain.PRESENT, domain.LATE)]
    return schemas.Report().dump({
        "activity": _activity_data(activity),
        "signed_up": len(confirmed),
        "waitlisted": sum(1 for s in rows if s.status == domain.WAITLISTED),
        "attended": len(came),
        "late": sum(1 for s in confirmed if s.attendance == domain.LATE),
        "on_leave": sum(1 for s in confirmed if s.attendance == domain.LEAVE),
        "absent": sum(1 for s in confirmed if s.attendance == domain.ABSENT),
        "total_hours": round(sum(s.hours for s in came), 2),
        "signups": [_signup_data(s) for s in confirmed],
        "trail": [{**{c.key: getattr(e, c.key) for c in AttendanceEntry.__table__.columns}, "at": aware(e.at)}
                  for e in trail],
    })


def report(store: Store, actor: dict, activity_id: int) -> dict:
    actor = load(Actor, actor)
    with store.uow() as uow:
        activity = _get(uow.session, activity_id)
        domain.check_can_manage(actor, _facts(activity))
        return _report(uow.session, activity)


def community_stats(store: Store, registration, actor: dict, community_id: int, query: dict) -> dict:
    """Per community per period: activities held (attendance settled), members taking part, hours."""
    actor = load(Actor, actor)
    q = load(schemas.StatsQuery, query)
    place = registration.get_place(community_id)
    if not reaches(actor, community_id=community_id, street_id=place.get("street_id"),
                   district_id=place.get("district_id")):
        raise Forbidden(code="OUT_OF_SCOPE", message="该社区不在您的管辖范围内")
    since, until = q["since"].astimezone(domain.UTC), q["until"].astimezone(domain.UTC)
    in_period = (Activity.community_id == community_id, Activity.starts_at >= since, Activity.starts_at < until)
    with store.uow() as uow:
        session = uow.session
        held = session.scalar(select(func.count()).select_from(Activity).where(
            *in_period, Activity.state == domain.CLOSED))
        cancelled = session.scalar(select(func.count()).select_from(Activity).where(
            *in_period, Activity.state == domain.CANCELLED))
        settled = select(Signup).join(Activity, Activity.id == Signup.activity_id).where(
            *in_period, Activity.state == domain.CLOSED).subquery()
        members, attendances, hours = session.execute(
            select(func.count(distinct(settled.c.member_id)), func.count(settled.c.id), func.sum(settled.c.hours))
            .where(settled.c.outcome == "attended")).one()
        no_shows = session.scalar(select(func.count()).select_from(settled).where(settled.c.outcome == "no_show"))
    return schemas.CommunityStats().dump({
        "community_id": community_id, "since": since, "until": until, "activities_held": held,
        "activities_cancelled": cancelled, "members_taking_part": members, "attendances": attendances,
        "no_shows": no_shows, "total_hours": round(hours or 0.0, 2)})
