"""Notify's use cases: record what events ask for, fan out in batches, deliver with retries.

The path of a message:
1. an event handler records a ``Notice`` per kind (and, for people the event names, their inbox
   rows and channel deliveries) in the same commit as the event's inbox row;
2. a notice to an audience (every member of a street …) is resolved by the fan-out worker:
   ``registration.recipients`` is called outside any transaction, then inbox rows and
   deliveries are inserted in bounded chunks, each its own commit;
3. the delivery worker claims due deliveries with a lease (several instances never send one
   twice), sends them concurrently, and records sent / retry-at / dead with the reason.
"""

import logging
import os
import time
import uuid
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import bindparam, func, or_, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import OperationalError

from common import assertions, outbound
from common.actors import STAFF_ROLES, Actor, reaches, require_role
from common.db import Store, UnitOfWork, utcnow
from common.errors import Conflict, Forbidden, NotFound, ValidationFailed
from common.schemas import load
from services.notify import channels, domain, schemas
from services.notify.models import ChannelSetting, Delivery, Message, Notice, Preference

log = logging.getLogger(__name__)

DUE_STATUSES = ("pending", "retry", "digest")
OPERATOR_ROLES = ("community_staff", "street_staff", "district_staff")


@dataclass
class Tuning:
    """Knobs from the service's config (or environment); tests shorten the waits."""

    http_timeout: float = 5.0
    max_attempts: int = domain.MAX_ATTEMPTS
    retry_base: float = domain.BASE_BACKOFF_SECONDS
    lease_seconds: float = 120.0
    batch: int = 50  # deliveries claimed per tick, at most
    chunk: int = 1000  # recipients written per commit during fan-out

    @classmethod
    def from_config(cls, config: dict) -> "Tuning":
        def get(name, cast, default):
            value = config.get(name, os.environ.get(name))
            return cast(value) if value not in (None, "") else default

        return cls(http_timeout=get("NOTIFY_HTTP_TIMEOUT", float, 5.0),
                   max_attempts=get("NOTIFY_MAX_ATTEMPTS", int, domain.MAX_ATTEMPTS),
                   retry_base=get("NOTIFY_RETRY_BASE_SECONDS", float, domain.BASE_BACKOFF_SECONDS),
                   lease_seconds=get("NOTIFY_LEASE_SECONDS", float, 120.0),
                   batch=get("NOTIFY_BATCH", int, 50), chunk=get("NOTIFY_FANOUT_CHUNK", int, 1000))


def _insert_ignoring_duplicates(session, model, rows: list[dict]):
    """Batch insert; a row whose dedup_key exists is skipped (that message was already made)."""
    if not rows:
        return
    insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    session.execute(insert(model).on_conflict_do_nothing(index_elements=["dedup_key"]), rows)


# --- 1. events become notices --------------------------------------------------------------

def record_event(uow: UnitOfWork, event: dict):
    """Inside the event handler's unit of work: notices, and everything not needing a lookup."""
    session = uow.session
    for intent in domain.plan(event):
        notice = Notice(dedup_key=intent.key, source_event_id=event["event_id"], kind=intent.kind,
                        title=intent.title or intent.kind, body=intent.body, urgent=intent.urgent,
                        community_id=intent.community_id, street_id=intent.street_id,
                        e_branch_id=intent.e_branch_id, audience=_clean(intent.audience),
                        recipient_ids=intent.recipients, group_post=intent.group, webhook=intent.webhook,
                        data=event["data"], created_at=utcnow(), next_attempt_at=utcnow())
        session.add(notice)
        session.flush()
        if intent.error:
            _fail_notice(uow, notice, intent.error)
            continue
        _expand_targets(session, notice)
        if intent.recipients:
            _expand_people(session, notice, intent.recipients)
            notice.recipients = len(intent.recipients)
        if notice.audience is None:
            notice.status, notice.done_at = "done", utcnow()


def _clean(audience: dict | None) -> dict | None:
    if audience is None:
        return None
    return {k: v for k, v in audience.items() if v is not None and v != []}


def _fail_notice(uow: UnitOfWork, notice: Notice, reason: str):
    """A notice that cannot be made (a template missing a field): kept, dead, shown to operators."""
    notice.status, notice.error = "failed", reason
    delivery = Delivery(dedup_key=domain.delivery_key(notice.dedup_key, "notice", "render"),
                        notice_id=notice.id, kind=notice.kind, channel="render", community_id=notice.community_id,
                        street_id=notice.street_id, title=notice.title, body="", urgent=notice.urgent,
                        status="dead", attempts=1, last_error=reason, created_at=utcnow(), updated_at=utcnow(),
                        next_attempt_at=utcnow())
    uow.session.add(delivery)
    uow.session.flush()
    _emit_dead(uow, delivery)


def _emit_dead(uow: UnitOfWork, delivery: Delivery):
    uow.emit("delivery.dead_lettered", {
        "message_id": delivery.id, "channel": delivery.channel, "reason": delivery.last_error or "",
        "kind": delivery.kind, "dedup_key": delivery.dedup_key, "community_id": delivery.community_id})


def _preferences(session, user_ids) -> dict[int, dict]:
    found = session.execute(_PREFERENCES, {"ids": list(user_ids)}).all()  # rows: no ORM objects to track
    return {p.user_id: _prefs_dict(p) for p in found}


# built once: every event with recipients asks (building costs SQLAlchemy more than running it)
_PREFERENCES = select(Preference.__table__).where(
    Preference.__table__.c.user_id.in_(bindparam("ids", expanding=True)))


def _prefs_dict(p: Preference) -> dict:
    return {"user_id": p.user_id, "channels": list(p.channels or ["inbox"]), "opt_outs": list(p.opt_outs or []),
            "quiet_hours": p.quiet_hours, "digest": bool(p.digest), "phone": p.phone, "email": p.email}


def _expand_people(session, notice: Notice, recipient_ids: list[int]):
    """Inbox rows and push deliveries for these people, by their preferences, in one batch each."""
    now = utcnow()
    recipient_ids = list(dict.fromkeys(recipient_ids))
    prefs = _preferences(session, recipient_ids)
    messages, deliveries = [], []
    for user_id in recipient_ids:
        pref = prefs.get(user_id) or domain.default_preferences(user_id)
        for channel in domain.channels_for(pref, notice.kind, notice.urgent):
            if channel == "inbox":
                messages.append({"dedup_key": domain.inbox_key(notice.dedup_key, user_id),
                                 "recipient_id": user_id, "channel": "inbox", "kind": notice.kind,
                                 "title": notice.title, "body": notice.body, "created_at": now,
                                 "notice_id": notice.id})
                continue
            status, due = domain.schedule(pref, channel, notice.urgent, now)
            deliveries.append(_delivery_row(notice, channel, str(user_id), now, status=status, due=due,
                                            recipient_id=user_id))
    _insert_ignoring_duplicates(session, Message, messages)
    _insert_ignoring_duplicates(session, Delivery, deliveries)


def _delivery_row(notice: Notice, channel: str, target: str, now, *, status="pending", due=None,
                  recipient_id=None, setting_id=None) -> dict:
    return {"dedup_key": domain.delivery_key(notice.dedup_key, target, channel), "notice_id": notice.id,
            "kind": notice.kind, "channel": channel, "recipient_id": recipient_id, "setting_id": setting_id,
            "community_id": notice.community_id, "street_id": notice.street_id, "title": notice.title,
            "body": notice.body, "urgent": notice.urgent, "status": status, "attempts": 0,
            "next_attempt_at": due or now, "created_at": now, "updated_at": now}


def _expand_targets(session, notice: Notice):
    """Group-chat robots and other systems' webhooks configured for the notice's community."""
    wanted = (domain.GROUP_CHANNELS if notice.group_post else ()) + (("webhook",) if notice.webhook else ())
    if not wanted or notice.community_id is None:
        return
    settings = session.scalars(select(ChannelSetting).where(
        ChannelSetting.community_id == notice.community_id, ChannelSetting.enabled,
        ChannelSetting.channel.in_(wanted))).all()
    now = utcnow()
    rows = [_delivery_row(notice, s.channel, f"setting{s.id}", now, setting_id=s.id) for s in settings
            if (not s.kinds or notice.kind in s.kinds)
            and (s.e_branch_id is None or s.e_branch_id == notice.e_branch_id)]
    _insert_ignoring_duplicates(session, Delivery, rows)


# --- 2. fan-out to audiences ---------------------------------------------------------------

def fan_out_due(store: Store, registration, tuning: Tuning) -> int:
    """Resolve one due audience notice and write its messages in chunks; returns recipients."""
    now = utcnow()
    with store.uow() as uow:
        query = (select(Notice.id).where(Notice.status == "pending", Notice.next_attempt_at <= now,
                                         or_(Notice.lease_until.is_(None), Notice.lease_until < now))
                 .order_by(Notice.id).limit(1))
        if store.engine.dialect.name == "postgresql":
            query = query.with_for_update(skip_locked=True)
        try:
            notice_id = uow.session.scalar(query)
            if notice_id is None:
                return 0
            won = uow.session.execute(
                update(Notice).where(Notice.id == notice_id, or_(Notice.lease_until.is_(None),
                                                                  Notice.lease_until < now))
                .values(lease_until=now + timedelta(seconds=tuning.lease_seconds))).rowcount
            uow.commit()
        except OperationalError:  # SQLite: another instance is writing; try next tick
            return 0
        if not won:
            return 0
        audience = dict(uow.session.get(Notice, notice_id).audience or {})
    # the remote call happens outside any open transaction
    try:
        recipient_ids = [int(r) for r in registration.recipients(assertions.system("notify"), audience)]
    except Exception as exc:  # registration down or slow: retried with backoff, never lost
        _notice_retry(store, notice_id, f"查询收件人失败：{type(exc).__name__}: {str(exc)[:200]}", tuning)
        return 0
    for start in range(0, len(recipient_ids), tuning.chunk):
        with store.uow() as uow:
            notice = uow.session.get(Notice, notice_id)
            _expand_people(uow.session, notice, recipient_ids[start:start + tuning.chunk])
            uow.commit()
        time.sleep(0)  # let other greenthreads (RPCs, deliveries) run between chunks
    with store.uow() as uow:
        notice = uow.session.get(Notice, notice_id)
        notice.status, notice.done_at, notice.lease_until = "done", utcnow(), None
        notice.recipients = len(recipient_ids)
        notice.error = None
        uow.commit()
    return len(recipient_ids)


def _notice_retry(store: Store, notice_id: int, reason: str, tuning: Tuning):
    with store.uow() as uow:
        notice = uow.session.get(Notice, notice_id)
        notice.attempts += 1
        notice.error, notice.lease_until = reason, None
        state, wait = domain.after_failure(notice.attempts, False, tuning.max_attempts, tuning.retry_base)
        if state == "dead":
            notice.status = "failed"
            delivery = Delivery(dedup_key=domain.delivery_key(notice.dedup_key, "audience", "fanout"),
                                notice_id=notice.id, kind=notice.kind, channel="fanout",
                                community_id=notice.community_id, street_id=notice.street_id,
                                title=notice.title, body="", urgent=notice.urgent, status="dead",
                                attempts=notice.attempts, last_error=reason, created_at=utcnow(),
                                updated_at=utcnow(), next_attempt_at=utcnow())
            uow.session.add(delivery)
            uow.session.flush()
            _emit_dead(uow, delivery)
        else:
            notice.next_attempt_at = utcnow() + timedelta(seconds=wait)
        uow.commit()
    log.warning("fan-out of notice %s failed (attempt %s): %s", notice_id, notice.attempts, reason[:200])


# --- 3. deliveries -------------------------------------------------------------------------

@dataclass
class Job:
    """One send: one delivery, or several digest rows of one person and channel."""

    ids: list[int]
    channel: str
    config: dict | None
    outgoing: channels.Outgoing | None
    problem: channels.ChannelError | None = None
    setting_id: int | None = None


def claim_due(store: Store, token: str, limit: int, tuning: Tuning, busy_settings=()) -> list[Job]:
    """Lease up to ``limit`` due deliveries for this instance and prepare their sends."""
    if limit <= 0:
        return []
    now = utcnow()
    with store.uow() as uow:
        session = uow.session
        query = (select(Delivery.id).where(Delivery.status.in_(DUE_STATUSES), Delivery.next_attempt_at <= now,
                                           or_(Delivery.lease_until.is_(None), Delivery.lease_until < now))
                 .order_by(Delivery.next_attempt_at, Delivery.id).limit(limit))
        if busy_settings:
            query = query.where(or_(Delivery.setting_id.is_(None), Delivery.setting_id.not_in(list(busy_settings))))
        if store.engine.dialect.name == "postgresql":
            query = query.with_for_update(skip_locked=True)
        try:
            ids = list(session.scalars(query))
            if not ids:
                return []
            session.execute(update(Delivery).where(
                Delivery.id.in_(ids), or_(Delivery.lease_until.is_(None), Delivery.lease_until < now))
                .values(lease_until=now + timedelta(seconds=tuning.lease_seconds), lease_token=token))
            uow.commit()
        except OperationalError:  # SQLite: another writer holds the lock; next tick
            return []
    with store.uow() as uow:
        rows = uow.session.scalars(select(Delivery).where(Delivery.id.in_(ids), Delivery.lease_token == token)
                                   .order_by(Delivery.id)).all()
        return _jobs(uow.session, rows)


def _jobs(session, rows: list[Delivery]) -> list[Job]:
    people = {r.recipient_id for r in rows if r.recipient_id is not None}
    prefs = _preferences(session, people) if people else {}
    setting_ids = {r.setting_id for r in rows if r.setting_id}
    settings = {s.id: s for s in session.scalars(select(ChannelSetting).where(ChannelSetting.id.in_(setting_ids)))} \
        if setting_ids else {}
    notice_ids = {r.notice_id for r in rows if r.channel == "webhook" and r.notice_id}
    notice_data = dict(session.execute(select(Notice.id, Notice.data).where(Notice.id.in_(notice_ids))).all()) \
        if notice_ids else {}
    digests: dict[tuple, list[Delivery]] = {}
    jobs = []
    for row in rows:
        if row.status == "digest":
            digests.setdefault((row.recipient_id, row.channel, row.community_id), []).append(row)
            continue
        jobs.append(_job(session, [row], row.title, row.body, prefs, settings, notice_data))
    for group in digests.values():
        if len(group) == 1:
            jobs.append(_job(session, group, group[0].title, group[0].body, prefs, settings, notice_data))
            continue
        title, body = domain.compose_digest([(r.title, r.body) for r in group])
        jobs.append(_job(session, group, title, body, prefs, settings, notice_data))
    return jobs


def _job(session, rows, title, body, prefs, settings, notice_data) -> Job:
    row = rows[0]
    ids = [r.id for r in rows]
    try:
        channels.channel_for(row.channel)
        if row.setting_id:
            setting = settings.get(row.setting_id)
            if setting is None or not setting.enabled:
                raise channels.ChannelError(f"{row.channel}: 渠道设置已删除或停用")
            config = dict(setting.config or {})
        else:
            config = _person_channel_config(session, row.channel, row.community_id)
        address = None
        if row.recipient_id is not None:
            pref = prefs.get(row.recipient_id) or {}
            address = pref.get("phone") if row.channel == "sms" else pref.get("email")
        outgoing = channels.Outgoing(kind=row.kind, title=title, body=body, dedup_key=row.dedup_key,
                                     address=address, data=notice_data.get(row.notice_id) or {})
        return Job(ids, row.channel, config, outgoing, setting_id=row.setting_id)
    except channels.ChannelError as err:
        return Job(ids, row.channel, None, None, problem=err, setting_id=row.setting_id)


def _person_channel_config(session, channel: str, community_id: int | None) -> dict:
    """A community's SMS gateway / mail server, else the platform-wide one."""
    found = session.scalars(select(ChannelSetting).where(
        ChannelSetting.channel == channel, ChannelSetting.enabled,
        or_(ChannelSetting.community_id == community_id, ChannelSetting.community_id.is_(None)))
        .order_by(ChannelSetting.community_id.is_(None), ChannelSetting.id)).first()
    if found is None:
        label = {"sms": "短信", "email": "邮件"}.get(channel, channel)
        raise channels.ChannelError(f"{channel}: 本社区及全平台均未配置{label}渠道")
    return dict(found.config or {})


def send_job(job: Job, tuning: Tuning) -> channels.ChannelError | None:
    """The network part: no database session is open while it runs."""
    if job.problem:
        return job.problem
    try:
        channels.channel_for(job.channel, tuning.http_timeout).send(job.config, job.outgoing)
        return None
    except channels.ChannelError as err:
        return err
    except Exception as exc:  # a bug or an odd answer: recorded and retried like any failure
        log.exception("channel %s raised", job.channel)
        return channels.ChannelError(f"{job.channel}: 内部错误 {type(exc).__name__}: {str(exc)[:160]}")


def record_outcome(store: Store, job: Job, token: str, error: channels.ChannelError | None, tuning: Tuning):
    now = utcnow()
    with store.uow() as uow:
        rows = uow.session.scalars(select(Delivery).where(Delivery.id.in_(job.ids),
                                                          Delivery.lease_token == token)).all()
        for row in rows:
            row.attempts += 1
            row.lease_until, row.lease_token, row.updated_at = None, None, now
            if error is None:
                row.status, row.sent_at, row.last_error = "sent", now, None
                continue
            row.last_error = error.reason[:2000]
            state, wait = domain.after_failure(row.attempts, error.permanent, tuning.max_attempts,
                                               tuning.retry_base)
            if state == "dead":
                row.status = "dead"
                uow.session.flush()
                _emit_dead(uow, row)
            else:
                row.status, row.next_attempt_at = "retry", now + timedelta(seconds=wait)
        uow.commit()
    if error is not None:
        log.info("delivery %s via %s failed: %s", job.ids, job.channel, error.reason[:200])


def target_of(job: Job) -> str:
    """What one receiver is: a configured robot/webhook, or a person channel's gateway."""
    return f"setting:{job.setting_id}" if job.setting_id else f"channel:{job.channel}"


def release(store: Store, ids: list[int], token: str):
    """Give leased deliveries back at once (this instance will not send them now)."""
    with store.uow() as uow:
        uow.session.execute(update(Delivery).where(Delivery.id.in_(ids), Delivery.lease_token == token)
                            .values(lease_until=None, lease_token=None))
        uow.commit()


def deliver_due(store: Store, tuning: Tuning, spawn=None, free: int | None = None, admit=None, done=None,
                busy_settings=()) -> int:
    """Claim due deliveries and send them; ``spawn`` runs each send concurrently (a green pool).

    ``admit(job)`` may refuse a job whose receiver already has enough sends in flight (a slow
    webhook must not take every slot); refused jobs are released for a later tick. ``done(job)``
    is told when a send is recorded. ``busy_settings`` are receivers not to claim for now.
    """
    token = uuid.uuid4().hex
    jobs = claim_due(store, token, tuning.batch if free is None else min(free, tuning.batch), tuning,
                     busy_settings=busy_settings)
    refused = []

    def run(job):
        try:
            record_outcome(store, job, token, send_job(job, tuning), tuning)
        finally:
            if done:
                done(job)

    started = 0
    for job in jobs:
        if admit is not None and not admit(job):
            refused += job.ids
            continue
        started += 1
        if spawn is None:
            run(job)
        else:
            spawn(run, job)
    if refused:
        release(store, refused, token)
    return started


# --- inbox ---------------------------------------------------------------------------------

def inbox(store: Store, actor: dict, query: dict | None = None) -> dict:
    actor = load(Actor, actor)
    q = load(schemas.InboxQuery, query or {})
    with store.uow() as uow:
        mine = Message.recipient_id == actor["user_id"]
        page = select(Message).where(mine)
        if q["before_id"]:
            page = page.where(Message.id < q["before_id"])
        messages = uow.session.scalars(page.order_by(Message.id.desc()).limit(q["limit"] + 1)).all()
        unread = uow.session.scalar(
            select(func.count()).select_from(Message).where(mine, Message.read_at.is_(None)))
        return schemas.Inbox().dump({"unread": unread, "messages": messages[:q["limit"]],
                                     "has_more": len(messages) > q["limit"]})


def mark_read(store: Store, actor: dict, message_id: int) -> dict:
    actor = load(Actor, actor)
    with store.uow() as uow:
        message = uow.session.get(Message, message_id)
        if message is None or message.recipient_id != actor["user_id"]:
            raise NotFound(code="MESSAGE_NOT_FOUND", message="找不到该消息")
        message.read_at = message.read_at or utcnow()
        result = schemas.Message().dump(message)
        uow.commit()
    return result


def mark_all_read(store: Store, actor: dict) -> dict:
    actor = load(Actor, actor)
    with store.uow() as uow:
        marked = uow.session.execute(update(Message).where(
            Message.recipient_id == actor["user_id"], Message.read_at.is_(None)).values(read_at=utcnow())).rowcount
        uow.commit()
    return {"marked": marked}


# --- preferences ---------------------------------------------------------------------------

def get_preferences(store: Store, actor: dict) -> dict:
    actor = load(Actor, actor)
    with store.uow() as uow:
        pref = uow.session.get(Preference, actor["user_id"])
        data = _prefs_dict(pref) if pref else domain.default_preferences(actor["user_id"])
    return schemas.PreferencesView().dump(data)


def set_preferences(store: Store, actor: dict, payload: dict) -> dict:
    actor = load(Actor, actor)
    if actor["user_id"] is None:
        raise Forbidden(message="系统账号没有个人通知设置")
    data = domain.check_preferences(load(schemas.Preferences, payload))
    with store.uow() as uow:
        pref = uow.session.get(Preference, actor["user_id"]) or Preference(user_id=actor["user_id"])
        for key in ("channels", "opt_outs", "quiet_hours", "digest", "phone", "email"):
            setattr(pref, key, data[key])
        pref.updated_at = utcnow()
        uow.session.add(pref)
        uow.commit()
        result = _prefs_dict(pref)
    return schemas.PreferencesView().dump(result)


# --- templates -----------------------------------------------------------------------------

def list_templates(actor: dict) -> list[dict]:
    actor = load(Actor, actor)
    require_role(actor, *STAFF_ROLES)
    return schemas.Template(many=True).dump([
        {"kind": kind, "label": t.label, "title": t.title, "body": t.body, "fields_": t.fields, "urgent": t.urgent}
        for kind, t in domain.TEMPLATES.items()])


def preview_template(actor: dict, payload: dict) -> dict:
    actor = load(Actor, actor)
    require_role(actor, *STAFF_ROLES)
    data = load(schemas.PreviewIn, payload)
    template = domain.TEMPLATES.get(data["kind"])
    if template is None:
        raise NotFound(code="UNKNOWN_TEMPLATE", message=f"没有名为 {data['kind']} 的消息模板",
                       fields={"kind": [f"可选：{'、'.join(domain.TEMPLATES)}"]})
    missing = [name for name in template.fields if data["fields"].get(name) is None]
    if missing:
        return schemas.Preview().dump({"kind": data["kind"], "ok": False, "title": None, "body": None,
                                       "missing": missing})
    title, body = domain.render(data["kind"], data["fields"])
    return schemas.Preview().dump({"kind": data["kind"], "ok": True, "title": title, "body": body, "missing": []})


# --- channel settings ----------------------------------------------------------------------

def _check_place(actor: dict, registration, community_id: int | None):
    """Staff act on their own part of the tree; the platform-wide default is district business."""
    if community_id is None:
        if actor["role"] not in ("district_staff", "system"):
            raise Forbidden(message="全平台默认渠道只能由区级工作人员设置")
        return
    if actor["role"] in ("community_staff", "system"):
        if not reaches(actor, community_id=community_id):
            raise Forbidden(message="只能管理本社区的通知渠道")
        return
    place = registration.get_place(community_id)
    if not reaches(actor, community_id=community_id, street_id=place.get("street_id"),
                   district_id=place.get("district_id")):
        raise Forbidden(message="该社区不在您的管辖范围内")


def list_channels(store: Store, registration, actor: dict, query: dict) -> list[dict]:
    actor = load(Actor, actor)
    require_role(actor, *OPERATOR_ROLES)
    query = load(schemas.ChannelQuery, query)
    community_id = query["community_id"] if query["community_id"] is not None else actor.get("community_id")
    _check_place(actor, registration, community_id)
    with store.uow() as uow:
        where = (ChannelSetting.community_id == community_id if community_id is not None
                 else ChannelSetting.community_id.is_(None))
        rows = uow.session.scalars(select(ChannelSetting).where(where).order_by(ChannelSetting.id)).all()
        return [_setting_view(s) for s in rows]


def _setting_view(s: ChannelSetting) -> dict:
    return schemas.ChannelSetting().dump({
        "id": s.id, "community_id": s.community_id, "channel": s.channel, "name": s.name,
        "e_branch_id": s.e_branch_id, "enabled": s.enabled, "kinds": list(s.kinds or []),
        "config": domain.masked_config(s.channel, s.config or {}), "updated_at": s.updated_at})


def _check_receiver(channel: str, config: dict):
    """At registration already: no receiver on loopback/private/link-local unless allow-listed."""
    try:
        if config.get("url"):
            outbound.check_url(config["url"])
        if channel == "email" and config.get("host"):
            try:
                port = int(config.get("port") or 25)
            except (TypeError, ValueError):
                raise ValidationFailed(message="渠道设置有误，请按提示修改",
                                       fields={"config": {"port": ["端口应为数字"]}}) from None
            outbound.check_host(str(config["host"]), port)
    except outbound.NotAllowed as err:
        key = "url" if config.get("url") else "host"
        raise ValidationFailed(message="渠道设置有误，请按提示修改", fields={"config": {key: [str(err)]}}) from None


def set_channel(store: Store, registration, actor: dict, payload: dict) -> dict:
    """Create or replace a community's setting for one channel (and name); idempotent by nature."""
    actor = load(Actor, actor)
    require_role(actor, *OPERATOR_ROLES)
    data = load(schemas.ChannelSettingIn, payload)
    domain.check_channel_config(data["channel"], data["config"])
    _check_receiver(data["channel"], data["config"])
    bad = [k for k in data["kinds"] if k not in domain.TEMPLATES]
    if bad:
        raise ValidationFailed(fields={"kinds": [f"没有这些消息类型：{'、'.join(bad)}"]})
    _check_place(actor, registration, data["community_id"])
    with store.uow() as uow:
        where = [ChannelSetting.channel == data["channel"], ChannelSetting.name == data["name"],
                 ChannelSetting.community_id == data["community_id"] if data["community_id"] is not None
                 else ChannelSetting.community_id.is_(None)]
        setting = uow.session.scalar(select(ChannelSetting).where(*where)) or ChannelSetting(
            community_id=data["community_id"], channel=data["channel"], name=data["name"])
        for key in ("e_branch_id", "enabled", "config", "kinds"):
            setattr(setting, key, data[key])
        setting.updated_by, setting.updated_at = actor["user_id"], utcnow()
        uow.session.add(setting)
        uow.session.flush()
        view = _setting_view(setting)
        uow.commit()
    return view


# --- staff notices (工作通知) ----------------------------------------------------------------

def broadcast(store: Store, registration, actor: dict, payload: dict, idempotency_key=None) -> dict:
    """A notice to everyone matching an audience; answers at once, the fan-out worker delivers."""
    actor = load(Actor, actor)
    require_role(actor, *OPERATOR_ROLES)
    data = load(schemas.BroadcastIn, payload)
    audience = _clean(data["audience"])
    places = {k: v for k, v in audience.items() if k != "roles"}
    if not places:
        raise ValidationFailed(message="请指定通知范围（社区、街道、网格、e支部或单位）",
                               fields={"audience": ["至少指定一个范围"]})
    _check_audience(actor, registration, audience)
    key = f"broadcast:{actor['user_id']}:{idempotency_key or uuid.uuid4().hex}"
    title, body = domain.render("staff_notice", {"title": data["title"], "body": data["body"]})
    with store.uow() as uow:
        existing = uow.session.scalar(select(Notice).where(Notice.dedup_key == key))
        if existing is not None:  # a retried command: the first answer, nothing sent twice
            return _notice_view(uow.session, existing)
        notice = Notice(dedup_key=key, kind="staff_notice", title=title, body=body, urgent=data["urgent"],
                        community_id=audience.get("community_id"), street_id=audience.get("street_id"),
                        audience=audience, data={"title": title, "body": body}, created_by=actor["user_id"],
                        created_at=utcnow(), next_attempt_at=utcnow(), status="pending")
        uow.session.add(notice)
        uow.session.flush()
        view = _notice_view(uow.session, notice)
        uow.commit()
    return view


def _check_audience(actor: dict, registration, audience: dict):
    role = actor["role"]
    if role == "system":
        return
    if role == "community_staff":
        if audience.get("community_id") != actor.get("community_id"):
            raise Forbidden(message="社区工作人员只能通知本社区（请在范围中填写本社区）")
        return
    if role == "street_staff" and audience.get("street_id") is not None:
        if audience["street_id"] != actor.get("street_id"):
            raise Forbidden(message="只能通知本街道")
        return
    if role == "district_staff" and audience.get("district_id") is not None:
        if audience["district_id"] != actor.get("district_id"):
            raise Forbidden(message="只能通知本区")
        return
    place_id = audience.get("community_id") or audience.get("street_id")
    if place_id is None:
        raise Forbidden(message="请在通知范围中填写您管辖的街道或社区")
    place = registration.get_place(place_id)
    street_id = place.get("street_id") if place.get("kind") != "street" else place.get("id")
    if not reaches(actor, community_id=audience.get("community_id"), street_id=street_id,
                   district_id=place.get("district_id")):
        raise Forbidden(message="通知范围不在您的管辖范围内")


def _notice_view(session, notice: Notice) -> dict:
    inbox_count = session.scalar(select(func.count()).select_from(Message).where(Message.notice_id == notice.id))
    by_status = dict(session.execute(select(Delivery.status, func.count()).where(Delivery.notice_id == notice.id)
                                     .group_by(Delivery.status)).all())
    return schemas.NoticeView().dump({
        "id": notice.id, "kind": notice.kind, "title": notice.title, "urgent": notice.urgent,
        "status": notice.status, "recipients": notice.recipients, "audience": notice.audience,
        "error": notice.error, "created_at": notice.created_at, "done_at": notice.done_at,
        "inbox": inbox_count, "deliveries": by_status})


def get_notice(store: Store, actor: dict, notice_id: int, registration=None) -> dict:
    actor = load(Actor, actor)
    require_role(actor, *OPERATOR_ROLES)
    with store.uow() as uow:
        notice = uow.session.get(Notice, notice_id)
        if notice is None or not _may_see(actor, notice.community_id, notice.street_id, notice.created_by,
                                          registration=registration):
            raise NotFound(code="NOTICE_NOT_FOUND", message="找不到该通知")
        return _notice_view(uow.session, notice)


def _district_of(registration, community_id, street_id):
    place_id = street_id or community_id
    if place_id is None or registration is None:
        return None
    try:
        return registration.get_place(place_id).get("district_id")
    except NotFound:
        return None


def _district_streets(registration, district_id) -> list[int]:
    if registration is None or district_id is None:
        return []
    return [p["id"] for p in registration.list_children(district_id) if p["kind"] == "street"]


def _may_see(actor: dict, community_id, street_id, created_by=None, registration=None) -> bool:
    """Operators' view of notices and deliveries: their own part of the tree (finding 6: a district's
    staff no longer see every district's), and what they sent themselves."""
    role = actor["role"]
    if role == "system":
        return True
    if created_by is not None and created_by == actor["user_id"]:
        return True
    if role == "district_staff":
        return actor.get("district_id") is not None and \
            _district_of(registration, community_id, street_id) == actor.get("district_id")
    if role == "street_staff":
        return street_id is not None and street_id == actor.get("street_id")
    return community_id is not None and community_id == actor.get("community_id")


# --- delivery status for operators ---------------------------------------------------------

def list_deliveries(store: Store, actor: dict, query: dict, registration=None) -> list[dict]:
    actor = load(Actor, actor)
    require_role(actor, *OPERATOR_ROLES)
    query = load(schemas.DeliveryQuery, query)
    stmt = select(Delivery)
    for key in ("status", "channel", "community_id", "notice_id"):
        if query[key] is not None:
            stmt = stmt.where(getattr(Delivery, key) == query[key])
    if actor["role"] == "street_staff":
        stmt = stmt.where(Delivery.street_id == actor.get("street_id"))
    elif actor["role"] == "community_staff":
        stmt = stmt.where(Delivery.community_id == actor.get("community_id"))
    elif actor["role"] == "district_staff":
        stmt = stmt.where(Delivery.street_id.in_(_district_streets(registration, actor.get("district_id"))))
    with store.uow() as uow:
        rows = uow.session.scalars(stmt.order_by(Delivery.id.desc()).offset(query["offset"])
                                  .limit(query["limit"])).all()
        return schemas.Delivery(many=True).dump(rows)


def _delivery_for(session, actor: dict, delivery_id: int, registration=None) -> Delivery:
    row = session.get(Delivery, delivery_id)
    if row is None or not _may_see(actor, row.community_id, row.street_id, registration=registration):
        raise NotFound(code="DELIVERY_NOT_FOUND", message="找不到该投递记录")
    return row


def get_delivery(store: Store, actor: dict, delivery_id: int, registration=None) -> dict:
    actor = load(Actor, actor)
    require_role(actor, *OPERATOR_ROLES)
    with store.uow() as uow:
        return schemas.Delivery().dump(_delivery_for(uow.session, actor, delivery_id, registration))


def retry_delivery(store: Store, actor: dict, delivery_id: int, registration=None) -> dict:
    """An operator sends a dead delivery again (after fixing the receiver or the setting)."""
    actor = load(Actor, actor)
    require_role(actor, *OPERATOR_ROLES)
    with store.uow() as uow:
        row = _delivery_for(uow.session, actor, delivery_id, registration)
        if row.channel not in domain.CHANNELS:
            raise ValidationFailed(code="NOT_RETRYABLE", message="该记录不是渠道投递（如模板缺字段），无法重发")
        if row.status != "dead":
            raise Conflict(code="NOT_DEAD", message="只有投递失败（已放弃）的记录可以重发",
                           details={"current_state": row.status})
        row.status, row.next_attempt_at, row.updated_at = "retry", utcnow(), utcnow()
        row.attempts = 0
        view = schemas.Delivery().dump(row)
        uow.commit()
    return view
