"""Scoring's use cases: events into the ledger, adjustments, rules, assessments, member queries.

Quarter closing and everything read from a closed quarter live in ``quarters.py``.
"""

import logging
import uuid
from datetime import UTC, datetime, timedelta, timezone

from sqlalchemy import func, select

import authz
from common import assertions
from common.actors import Actor, reaches
from common.db import Store, UnitOfWork, utcnow
from common.errors import Conflict, Forbidden, NotFound, Unprocessable
from common.schemas import load
from services.scoring import domain, schemas
from services.scoring.models import (
    AuditEntry,
    Evaluation,
    LedgerConflict,
    LedgerEntry,
    MemberView,
    Period,
    Rejection,
    RuleSet,
    Snapshot,
    WorkUnitView,
)

log = logging.getLogger(__name__)

# quarters follow the calendar where the programme runs
CHINA = timezone(timedelta(hours=8))
RESOLVE_BATCH = 200


# ---- shared lookups ----------------------------------------------------------------------------

def closed_periods(session) -> set[str]:
    """Quarters closed or being closed: nothing new may land in them."""
    return set(session.scalars(select(Period.period)))


def current_period(session, now: datetime | None = None) -> str:
    """The open quarter new entries land in today."""
    return domain.landing_period(domain.period_of((now or utcnow()).astimezone(CHINA)), closed_periods(session))


def occurred_period(event: dict) -> str:
    try:
        moment = datetime.fromisoformat(event["occurred_at"])
    except (TypeError, ValueError):
        moment = utcnow()
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return domain.period_of(moment.astimezone(CHINA))


def rule_layers(session, community_id: int | None, district_id: int | None = None) -> tuple[dict, dict]:
    community = session.scalar(select(RuleSet).where(RuleSet.scope == "community",
                                                     RuleSet.scope_id == community_id)) if community_id else None
    if district_id is None and community is not None:
        district_id = community.district_id
    district = session.scalar(select(RuleSet).where(RuleSet.scope == "district",
                                                    RuleSet.scope_id == district_id)) if district_id else None
    return (district.config if district else None), (community.config if community else None)


def effective_rules(session, community_id: int | None, district_id: int | None = None) -> dict:
    return domain.merge_rules(*rule_layers(session, community_id, district_id))


def _balance(session, member_id: int) -> int:
    return int(session.scalar(select(func.coalesce(func.sum(LedgerEntry.points), 0))
                              .where(LedgerEntry.member_id == member_id)))


def _earned(session, member_id: int, period: str) -> int:
    return int(session.scalar(select(func.coalesce(func.sum(LedgerEntry.points), 0)).where(
        LedgerEntry.member_id == member_id, LedgerEntry.period == period, LedgerEntry.points > 0,
        LedgerEntry.kind.in_(("service", "wish", "activity")))))


def _audit(session, actor: dict, action: str, target: str, detail: dict):
    session.add(AuditEntry(actor_id=actor.get("user_id"), actor_role=actor["role"], action=action,
                           target=target, detail=detail, at=utcnow()))


def _member(session, member_id: int) -> MemberView:
    member = session.get(MemberView, member_id)
    if member is None:
        raise NotFound(code="MEMBER_NOT_FOUND", message="积分系统中没有该党员（尚未报到或尚未同步）")
    return member


def _check_staff_reach(actor: dict, member: MemberView, message="该党员不在您的管辖范围内"):
    if not reaches(actor, community_id=member.community_id, street_id=member.street_id,
                   district_id=member.district_id):
        raise Forbidden(message=message)


# ---- events into the ledger --------------------------------------------------------------------

def apply_credits(uow: UnitOfWork, event: dict, credits: list[domain.Credit], community_id: int | None,
                  rules_for=None) -> dict:
    """Put credits on the ledger once; unknown members become rejections, changed content conflicts.

    ``rules_for(member)`` gives the rules a credit was computed with; credits whose value depends
    on the rules are recomputed per member by the caller through it.
    """
    session = uow.session
    period = domain.landing_period(occurred_period(event), closed_periods(session))
    outcome = {"credited": 0, "duplicates": 0, "conflicts": 0, "rejected": 0}
    for credit in credits:
        member = session.get(MemberView, credit.member_id)
        if member is None or member.status != "active":
            code, reason = (("UNKNOWN_MEMBER", "积分系统中还没有该党员的报到信息，待同步后补记") if member is None
                            else ("MEMBER_REVOKED", "该党员的报到已撤销，不再记分"))
            _reject(session, event, credit.member_id, community_id, code, reason)
            outcome["rejected"] += 1
            continue
        rules = effective_rules(session, member.community_id, member.district_id)
        if rules_for is not None:
            credit = rules_for(credit, rules)
        existing = session.scalar(select(LedgerEntry).where(LedgerEntry.entry_key == credit.entry_key))
        if existing is not None:
            if existing.content_hash == credit.content_hash:
                outcome["duplicates"] += 1
            else:
                _hold_conflict(session, existing, credit, event, community_id)
                outcome["conflicts"] += 1
            continue
        points, note = credit.points, ""
        if points > 0 and rules["period_cap"] is not None:
            points = domain.capped(points, _earned(session, member.member_id, period), rules["period_cap"])
            note = "（已达本季度积分上限，按上限计）" if points < credit.points else ""
        elif points < 0:
            points = domain.floored(points, _balance(session, member.member_id), rules["deduction_floor"])
            note = "（扣分以规则下限为止）" if points > credit.points else ""
        session.add(LedgerEntry(
            entry_key=credit.entry_key, member_id=credit.member_id, community_id=community_id,
            points=points, kind=credit.kind, reason=credit.reason + note, source_event_id=event["event_id"],
            period=period, content_hash=credit.content_hash, rating=credit.rating, hours=credit.hours,
            created_at=utcnow()))
        session.flush()
        outcome["credited"] += 1
    return outcome


def _reject(session, event, member_id, community_id, code, reason):
    exists = session.scalar(select(Rejection).where(Rejection.event_id == event["event_id"],
                                                    Rejection.member_id == member_id))
    if exists is not None:
        exists.status, exists.code, exists.reason = "pending", code, reason
        return
    session.add(Rejection(event_id=event["event_id"], event_type=event["event_type"], member_id=member_id,
                          community_id=community_id, code=code, reason=reason, envelope=event,
                          status="pending", created_at=utcnow()))
    log.info("scoring rejected %s for member %s: %s", event["event_type"], member_id, code)


def _hold_conflict(session, existing: LedgerEntry, credit: domain.Credit, event, community_id):
    held = session.scalar(select(LedgerConflict).where(LedgerConflict.entry_key == credit.entry_key,
                                                       LedgerConflict.content_hash == credit.content_hash))
    if held is not None:
        return
    session.add(LedgerConflict(
        entry_key=credit.entry_key, content_hash=credit.content_hash, entry_id=existing.id,
        member_id=credit.member_id, community_id=community_id if community_id is not None else existing.community_id,
        points=credit.points, kind=credit.kind, reason=credit.reason, source_event_id=event["event_id"],
        status="open", resolution="", created_at=utcnow()))
    log.warning("scoring conflict on %s: recorded %s, now %s", credit.entry_key, existing.points, credit.points)


def credits_of(event: dict, member_ids: list[int] | None = None) -> tuple[list[domain.Credit], int | None, object]:
    """The credits an event carries (optionally only for some members), its community, a rules hook."""
    data, kind = event["data"], event["event_type"]
    defaults = domain.merge_rules()
    if kind == "request.confirmed":
        credits = domain.credits_for_confirmed_request(event["event_id"], data, defaults)

        def hook(credit, rules):
            return domain.Credit(**{**credit.__dict__, "points": domain.service_points(rules, data)})
    elif kind == "wish.fulfilled":
        credits = domain.credits_for_wish(data, defaults)

        def hook(credit, rules):
            return domain.Credit(**{**credit.__dict__, "points": int(rules["wish_points"])})
    elif kind == "activity.attended":
        credits = [domain.credit_for_attendance(data, defaults)]

        def hook(credit, rules):
            return domain.credit_for_attendance(data, rules)
    elif kind == "activity.no_show":
        credits = [domain.penalty_for_no_show(data, defaults)]

        def hook(credit, rules):
            return domain.penalty_for_no_show(data, rules)
    elif kind == "entry.confirmed":
        credit = domain.credit_for_confirmed_hours(event["event_id"], data)
        credits, hook = ([credit] if credit else []), None
    else:
        raise Unprocessable(code="NOT_A_CREDIT_EVENT", message="该事件不产生积分")
    if member_ids is not None:
        credits = [c for c in credits if c.member_id in member_ids]
    return credits, data.get("community_id"), hook


def credit_event(uow: UnitOfWork, event: dict) -> dict:
    credits, community_id, hook = credits_of(event)
    return apply_credits(uow, event, credits, community_id, hook)


def credit_confirmed_request(uow: UnitOfWork, event: dict):
    return credit_event(uow, event)


def _reapply_for(uow: UnitOfWork, member_id: int) -> int:
    """Apply what was rejected for a member now known; returns how many entries it made."""
    session = uow.session
    made = 0
    pending = session.scalars(select(Rejection).where(
        Rejection.member_id == member_id, Rejection.status == "pending").order_by(Rejection.id)).all()
    for rejection in pending:
        credits, community_id, hook = credits_of(rejection.envelope, [member_id])
        outcome = apply_credits(uow, rejection.envelope, credits, community_id, hook)
        if not outcome["rejected"]:
            rejection.status, rejection.applied_at = "applied", utcnow()
            made += outcome["credited"]
    return made


def upsert_member(uow: UnitOfWork, data: dict, status: str = "active") -> int:
    session = uow.session
    member = session.get(MemberView, data["member_id"])
    if member is None:
        member = MemberView(member_id=data["member_id"])
        session.add(member)
    for key in ("name", "community_id", "street_id", "district_id", "grid_id", "work_unit_id", "e_branch_id"):
        if key in data:
            setattr(member, key, data[key])
    member.status = status
    member.updated_at = utcnow()
    session.flush()
    return _reapply_for(uow, member.member_id) if status == "active" else 0


def on_member_known(uow: UnitOfWork, event: dict):
    upsert_member(uow, event["data"])


def on_member_revoked(uow: UnitOfWork, event: dict):
    member = uow.session.get(MemberView, event["data"]["member_id"])
    if member is None:
        member = MemberView(member_id=event["data"]["member_id"], community_id=event["data"]["community_id"])
        uow.session.add(member)
    member.status, member.updated_at = "revoked", utcnow()


def on_unit_reported(uow: UnitOfWork, event: dict):
    data = event["data"]
    unit = uow.session.get(WorkUnitView, data["work_unit_id"]) or WorkUnitView(work_unit_id=data["work_unit_id"])
    unit.name, unit.community_id = data["name"], data["community_id"]
    uow.session.add(unit)


def reapply_known(store: Store, limit: int = RESOLVE_BATCH) -> int:
    """Apply rejections whose member has become known since: a credit and the member's
    member.accepted handled at the same moment each miss the other's uncommitted row."""
    with store.uow() as uow:
        ids = list(uow.session.scalars(
            select(Rejection.member_id).join(MemberView, MemberView.member_id == Rejection.member_id)
            .where(Rejection.status == "pending", MemberView.status == "active").distinct().limit(limit)))
        made = sum(_reapply_for(uow, member_id) for member_id in ids)
        uow.commit()
    return made


def resolve_unknown_members(store: Store, registration, limit: int = RESOLVE_BATCH) -> int:
    """Ask registration about members scoring has events for but never heard of (e.g. loaded
    before scoring ran), then apply what was waiting. Remote call outside any transaction."""
    with store.uow() as uow:
        ids = list(uow.session.scalars(select(Rejection.member_id).where(
            Rejection.status == "pending", Rejection.code == "UNKNOWN_MEMBER").distinct().limit(limit)))
    if not ids:
        return 0
    facts = registration.member_facts(assertions.system("scoring"), ids)
    made = 0
    with store.uow() as uow:
        for row in facts or []:
            data = load(schemas.MemberFactsIn, row)
            if data.pop("status") in ("accepted", "active"):
                made += upsert_member(uow, data)
        uow.commit()
    return made


# ---- people's actions --------------------------------------------------------------------------

def adjust_points(store: Store, actor: dict, member_id: int, payload: dict, idempotency_key: str | None = None):
    """Community staff add or deduct by hand, with a reason; a correction is a new entry."""
    actor = load(Actor, actor)
    data = load(schemas.Adjustment, payload)
    if actor["role"] not in ("community_staff", "system"):
        raise Forbidden(message="只有社区工作人员可以调整积分")
    key = f"adj:{actor['user_id']}:{idempotency_key}" if idempotency_key else f"adj:{uuid.uuid4()}"
    kind = "correction" if data["corrects_entry_id"] else "adjustment"
    fingerprint = domain.content_hash(member_id, data["points"], kind)
    with store.uow() as uow:
        session = uow.session
        member = _member(session, member_id)
        _check_staff_reach(actor, member)
        earlier = session.scalar(select(LedgerEntry).where(LedgerEntry.entry_key == key))
        if earlier is not None:
            if earlier.content_hash != fingerprint:
                raise Conflict(code="IDEMPOTENCY_KEY_REUSED", message="该请求编号已用于另一次调整，请换一个编号")
            return schemas.LedgerEntry().dump(earlier)
        if data["corrects_entry_id"]:
            corrected = session.get(LedgerEntry, data["corrects_entry_id"])
            if corrected is None or corrected.member_id != member_id:
                raise NotFound(code="ENTRY_NOT_FOUND", message="要更正的积分记录不存在",
                               fields={"corrects_entry_id": ["不是该党员的积分记录"]})
        rules = effective_rules(session, member.community_id, member.district_id)
        domain.check_adjustment(data["points"], data["reason"], _balance(session, member_id),
                                rules["deduction_floor"])
        entry = LedgerEntry(
            entry_key=key, member_id=member_id, community_id=member.community_id, points=data["points"],
            kind=kind, reason=data["reason"].strip(), period=current_period(session), content_hash=fingerprint,
            actor_id=actor["user_id"], corrects_id=data["corrects_entry_id"], hours=0.0, created_at=utcnow())
        session.add(entry)
        session.flush()
        _audit(session, actor, f"points.{kind}", f"member:{member_id}",
               {"entry_id": entry.id, "points": data["points"], "reason": entry.reason,
                "corrects_entry_id": data["corrects_entry_id"]})
        result = schemas.LedgerEntry().dump(entry)
        uow.commit()
    return result


def community_facts(session, community_id) -> dict:
    """A community's place for the policy, from the members scoring knows there."""
    row = session.execute(select(MemberView.street_id, MemberView.district_id)
                          .where(MemberView.community_id == community_id, MemberView.street_id.is_not(None))
                          .limit(1)).first()
    units = session.scalars(select(WorkUnitView.work_unit_id).where(WorkUnitView.community_id == community_id))
    return authz.facts(community_id=community_id, street_id=row[0] if row else None,
                       district_id=row[1] if row else None, co_building_unit_ids=list(units))



def get_rules(store: Store, actor: dict, community_id: int) -> dict:
    actor = load(Actor, actor)
    with store.uow() as uow:
        district, community = rule_layers(uow.session, community_id, actor.get("district_id"))
        authz.check(actor, "scoring.scoring_rules", community_facts(uow.session, community_id),
                    message="只能查看本人管辖范围内社区的积分规则")
        return schemas.RulesView().dump({"scope": "community", "scope_id": community_id,
                                         "effective": domain.merge_rules(district, community),
                                         "district": district, "community": community})


def set_rules(store: Store, actor: dict, scope: str, scope_id: int, payload: dict) -> dict:
    actor = load(Actor, actor)
    layer = load(schemas.Rules, payload)
    if scope == "community":
        if actor["role"] not in ("community_staff", "system") or not reaches(actor, community_id=scope_id):
            raise Forbidden(message="只有本社区工作人员可以设置社区积分规则")
    elif actor["role"] not in ("district_staff", "system") or not reaches(actor, district_id=scope_id):
        raise Forbidden(message="只有本区组织部门可以设置全区积分规则")
    with store.uow() as uow:
        session = uow.session
        row = session.scalar(select(RuleSet).where(RuleSet.scope == scope, RuleSet.scope_id == scope_id))
        district_id = scope_id if scope == "district" else (actor.get("district_id") or (row and row.district_id))
        district_layer = None
        if scope == "community":
            district_layer, _ = rule_layers(session, None, district_id)
        domain.check_rules(domain.merge_rules(district_layer, layer) if district_layer else layer)
        if row is None:
            row = RuleSet(scope=scope, scope_id=scope_id)
            session.add(row)
        row.config, row.district_id = layer, district_id
        row.updated_by, row.updated_at = actor["user_id"], utcnow()
        _audit(session, actor, "rules.set", f"{scope}:{scope_id}", {"rules": layer})
        session.flush()
        uow.commit()
    if scope == "community":
        return get_rules(store, {**actor, "role": "system"}, scope_id)
    return schemas.RulesView().dump({"scope": scope, "scope_id": scope_id, "effective": domain.merge_rules(layer),
                                     "district": layer, "community": None})


def assess(store: Store, actor: dict, member_id: int, payload: dict) -> dict:
    """立体评价: the community's or the work unit's assessment for a quarter (one each, replaceable)."""
    actor = load(Actor, actor)
    data = load(schemas.Assess, payload)
    with store.uow() as uow:
        session = uow.session
        member = _member(session, member_id)
        if actor["role"] == "community_staff":
            _check_staff_reach(actor, member)
            source = "community"
        elif actor["role"] == "unit_org":
            if actor.get("work_unit_id") is None or actor["work_unit_id"] != member.work_unit_id:
                raise Forbidden(message="只能评价本单位的党员")
            source = "work_unit"
        else:
            raise Forbidden(message="只有社区或党员所在单位的党组织可以评价")
        period = data["period"] or current_period(session)
        if period in closed_periods(session):
            raise Conflict(code="PERIOD_CLOSED", message=f"{period} 已结账，不能再评价", details={"period": period})
        row = session.scalar(select(Evaluation).where(Evaluation.member_id == member_id,
                                                      Evaluation.period == period, Evaluation.source == source))
        if row is None:
            row = Evaluation(member_id=member_id, period=period, source=source)
            session.add(row)
        row.score, row.comment = data["score"], data["comment"]
        row.actor_id, row.updated_at = actor["user_id"], utcnow()
        session.flush()
        _audit(session, actor, "evaluation.set", f"member:{member_id}",
               {"period": period, "source": source, "score": data["score"]})
        uow.emit("evaluation.recorded", {"member_id": member_id, "period": period, "source": source,
                                         "score": float(data["score"]), "comment": data["comment"] or "",
                                         "community_id": member.community_id})
        result = schemas.EvaluationView().dump(row)
        uow.commit()
    return result


def list_conflicts(store: Store, actor: dict, community_id: int, query: dict | None) -> list[dict]:
    actor = load(Actor, actor)
    q = load(schemas.ReviewQuery, query or {})
    with store.uow() as uow:
        # finding 6: a street's or district's staff read only their own area's conflicts
        authz.check(actor, "scoring.scoring_conflicts", community_facts(uow.session, community_id),
                    message="只能查看本人管辖范围内社区的积分冲突")
        stmt = (select(LedgerConflict, LedgerEntry.points).join(LedgerEntry, LedgerEntry.id == LedgerConflict.entry_id)
                .where(LedgerConflict.community_id == community_id))
        if q["status"]:
            stmt = stmt.where(LedgerConflict.status == q["status"])
        rows = uow.session.execute(stmt.order_by(LedgerConflict.id.desc()).limit(q["limit"])).all()
        return [schemas.ConflictView().dump({**_columns(c), "recorded_points": p}) for c, p in rows]


def resolve_conflict(store: Store, actor: dict, conflict_id: int, payload: dict) -> dict:
    """accept: a correction entry brings the ledger to the new content; dismiss: keep the record."""
    actor = load(Actor, actor)
    data = load(schemas.ResolveConflict, payload)
    if actor["role"] not in ("community_staff", "system"):
        raise Forbidden(message="只有社区工作人员可以处理积分冲突")
    with store.uow() as uow:
        session = uow.session
        conflict = session.get(LedgerConflict, conflict_id)
        if conflict is None:
            raise NotFound(code="CONFLICT_NOT_FOUND", message="找不到该积分冲突")
        if not reaches(actor, community_id=conflict.community_id):
            raise Forbidden(message="该积分冲突不在您的管辖范围内")
        if conflict.status != "open":
            raise Conflict(code="CONFLICT_ALREADY_RESOLVED", message="该冲突已处理",
                           details={"current_state": conflict.status})
        entry = session.get(LedgerEntry, conflict.entry_id)
        if data["decision"] == "accept" and conflict.points != entry.points:
            delta = conflict.points - entry.points
            session.add(LedgerEntry(
                entry_key=f"conflict:{conflict.id}", member_id=conflict.member_id, community_id=conflict.community_id,
                points=delta, kind="correction", reason=f"更正：{data['reason']}", period=current_period(session),
                content_hash=domain.content_hash(conflict.member_id, delta, "correction"),
                actor_id=actor["user_id"], corrects_id=entry.id, hours=0.0, created_at=utcnow()))
        conflict.status = "accepted" if data["decision"] == "accept" else "dismissed"
        conflict.resolution, conflict.resolved_by = data["reason"], actor["user_id"]
        _audit(session, actor, f"conflict.{data['decision']}", f"conflict:{conflict.id}", {"reason": data["reason"]})
        session.flush()
        result = schemas.ConflictView().dump({**_columns(conflict), "recorded_points": entry.points})
        uow.commit()
    return result


def list_rejections(store: Store, actor: dict, community_id: int, query: dict | None) -> list[dict]:
    actor = load(Actor, actor)
    q = load(schemas.ReviewQuery, query or {})
    with store.uow() as uow:
        authz.check(actor, "scoring.scoring_rejections", community_facts(uow.session, community_id),
                    message="只能查看本人管辖范围内社区的未记分事件")
        stmt = select(Rejection).where(Rejection.community_id == community_id)
        if q["status"]:
            stmt = stmt.where(Rejection.status == q["status"])
        rows = uow.session.scalars(stmt.order_by(Rejection.id.desc()).limit(q["limit"])).all()
        return schemas.RejectionView(many=True).dump(rows)


def reapply_rejection(store: Store, registration, actor: dict, rejection_id: int) -> dict:
    actor = load(Actor, actor)
    if actor["role"] not in ("community_staff", "system"):
        raise Forbidden(message="只有社区工作人员可以补记积分")
    with store.uow() as uow:
        rejection = uow.session.get(Rejection, rejection_id)
        if rejection is None:
            raise NotFound(code="REJECTION_NOT_FOUND", message="找不到该条未记分事件")
        if not reaches(actor, community_id=rejection.community_id):
            raise Forbidden(message="该事件不在您的管辖范围内")
        if rejection.status != "pending":
            raise Conflict(code="ALREADY_APPLIED", message="该事件已补记", details={"current_state": rejection.status})
        member_id = rejection.member_id
        known = uow.session.get(MemberView, member_id) is not None
    if not known and registration is not None:
        try:  # maybe registration knows the member by now
            facts = registration.member_facts(assertions.system("scoring"), [member_id])
        except Exception:  # registration down or older: fall through to the clear 422 below
            log.warning("member_facts unavailable", exc_info=True)
            facts = []
        with store.uow() as uow:
            for row in facts or []:
                data = load(schemas.MemberFactsIn, row)
                if data.pop("status") in ("accepted", "active"):
                    upsert_member(uow, data)
            uow.commit()
    with store.uow() as uow:
        rejection = uow.session.get(Rejection, rejection_id)
        if rejection.status == "pending":
            credits, community_id, hook = credits_of(rejection.envelope, [member_id])
            outcome = apply_credits(uow, rejection.envelope, credits, community_id, hook)
            if outcome["rejected"]:
                raise Unprocessable(code="MEMBER_UNKNOWN", message="该党员尚未报到或已撤销，暂不能补记积分")
            rejection.status, rejection.applied_at = "applied", utcnow()
            _audit(uow.session, actor, "rejection.reapply", f"rejection:{rejection_id}", outcome)
        result = schemas.RejectionView().dump(rejection)
        uow.commit()
    return result


def _columns(row) -> dict:
    return {c.key: getattr(row, c.key) for c in row.__table__.columns}


# ---- member views ------------------------------------------------------------------------------

def _summary(session, member_id: int) -> dict:
    period = current_period(session)
    latest = session.scalar(select(Snapshot).where(Snapshot.member_id == member_id)
                            .order_by(Snapshot.period.desc()).limit(1))
    rank = None
    if latest is not None and latest.community_id is not None:
        rank = 1 + session.scalar(select(func.count()).select_from(Snapshot).where(
            Snapshot.period == latest.period, Snapshot.community_id == latest.community_id,
            Snapshot.points > latest.points))
    period_points = session.scalar(select(func.coalesce(func.sum(LedgerEntry.points), 0)).where(
        LedgerEntry.member_id == member_id, LedgerEntry.period == period))
    return {"member_id": member_id, "balance": _balance(session, member_id), "period": period,
            "period_points": int(period_points), "stars": latest.stars if latest else 0,
            "stars_period": latest.period if latest else None, "rank_in_community": rank}


def member_points(store: Store, actor: dict, member_id: int) -> dict:
    """Balance, this quarter, last closed quarter's stars and rank, and the latest entries."""
    actor = load(Actor, actor)
    with store.uow() as uow:
        session = uow.session
        if actor["user_id"] != member_id and actor["role"] != "system":
            member = session.get(MemberView, member_id)
            if actor["role"] == "unit_org":
                allowed = member is not None and actor.get("work_unit_id") == member.work_unit_id
            elif member is not None:
                allowed = reaches(actor, community_id=member.community_id, street_id=member.street_id,
                                  district_id=member.district_id)
            else:
                community = session.scalar(select(LedgerEntry.community_id)
                                           .where(LedgerEntry.member_id == member_id).limit(1))
                allowed = actor["role"] in ("street_staff", "district_staff") or (
                    community is not None and reaches(actor, community_id=community))
            if not allowed:
                raise Forbidden(message="只能查看本人或本辖区党员的积分")
        entries = session.scalars(select(LedgerEntry).where(LedgerEntry.member_id == member_id)
                                  .order_by(LedgerEntry.id.desc()).limit(50)).all()
        return schemas.Balance().dump({**_summary(session, member_id), "entries": entries})


def member_summary(store: Store, member_id: int) -> dict:
    """For registration's e-volunteer card: no actor, no entries."""
    with store.uow() as uow:
        return schemas.MemberSummary().dump(_summary(uow.session, int(member_id)))
