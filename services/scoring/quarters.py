"""Closing a quarter, and everything read from a closed one: rankings, the public notice, the
recognition list, work-unit reports, exports and charts.

Closing is a set-based SQL job in short chunks (a range of member ids per statement, each its
own transaction, yielding to eventlet in between) so 10,000 members never hold one long
statement that would starve the AMQP heartbeat. Once a quarter's row is in ``periods`` no new
entry lands in it (see ``usecases.apply_credits``); its figures come only from ``snapshots``.
"""

import base64
import csv
import io
import logging
import os
from datetime import timedelta

import eventlet
from sqlalchemy import Numeric, and_, case, cast, delete, func, insert, literal, select, update
from sqlalchemy.exc import IntegrityError

import authz
from common.actors import Actor
from common.db import StaleDataError, Store, utcnow
from common.errors import Conflict, Forbidden, NotFound
from common.exports import safe_row
from common.schemas import load
from services.scoring import domain, schemas
from services.scoring.models import (
    Evaluation,
    LedgerEntry,
    MemberView,
    Period,
    Snapshot,
    UnitReport,
    WorkUnitView,
)
from services.scoring.usecases import CHINA, _audit, community_facts, current_period, effective_rules

log = logging.getLogger(__name__)

CHUNK_MEMBERS = 2000
STALE_CLOSING = timedelta(minutes=10)
CLOSERS = ("district_staff", "system")
SCOPE_COLUMNS = {"community": Snapshot.community_id, "grid": Snapshot.grid_id,
                 "e_branch": Snapshot.e_branch_id, "work_unit": Snapshot.work_unit_id}
SCOPE_LABELS = {"community": "社区", "grid": "网格", "e_branch": "e支部", "work_unit": "单位"}
CSV_HEADERS = ["排名", "党员编号", "姓名", "社区", "网格", "单位", "e支部", "季度积分", "服务时长",
               "居民评价", "社区评价", "单位评价", "综合得分", "星级"]


# ---- closing -----------------------------------------------------------------------------------

def platform_district() -> int:
    """The district whose organisation department runs this platform and closes its quarters."""
    return int(os.environ.get("BAODAO_DISTRICT_ID", "1"))


def close_quarter(store: Store, actor: dict, payload: dict) -> dict:
    actor = load(Actor, actor)
    data = load(schemas.CloseQuarter, payload)
    # finding 6: the quarter is the platform's; only the district running it closes it, not any district
    authz.check(actor, "scoring.close_quarter", authz.facts(district_id=platform_district()),
                message="只有本平台所属区县的组织部可以进行季度结账")
    period = data["period"]
    _begin(store, actor, period)
    try:
        totals = build_snapshot(store, period)
    except Exception:
        log.exception("closing %s failed; it can be retried after %s", period, STALE_CLOSING)
        raise
    with store.uow() as uow:
        session = uow.session
        row = session.get(Period, period)
        row.state, row.members, row.total_points = "closed", totals["members"], totals["total_points"]
        row.closed_at = utcnow()
        uow.emit("quarter.closed", {"period": period, "scope_id": actor.get("district_id"),
                                    "members": totals["members"]})
        names = dict(session.execute(select(WorkUnitView.work_unit_id, WorkUnitView.name)).all())
        for report in session.scalars(select(UnitReport).where(UnitReport.period == period)):
            uow.emit("unit_report.issued", {
                "work_unit_id": report.work_unit_id, "work_unit_name": names.get(report.work_unit_id, ""),
                "period": period, "members": report.members, "total_points": report.total_points,
                "report_url": f"/api/scoring/quarters/{period}/unit-reports/{report.work_unit_id}?format=xlsx"})
        for award in _recognised(session, period):
            uow.emit("member.recognised", award)
        _audit(session, actor, "quarter.close", f"period:{period}", totals)
        result = _period_view(session, row)
        uow.commit()
    return result


def _begin(store: Store, actor: dict, period: str):
    """Claim the quarter: its row stops new entries landing in it; a second close gets 409."""
    with store.uow() as uow:
        session = uow.session
        closed = {p.period: p for p in session.scalars(select(Period))}
        existing = closed.get(period)
        if existing is not None and existing.state == "closing" and _stale(existing.closed_at):
            existing.closed_at, existing.closed_by = utcnow(), actor["user_id"]  # resume a crashed close
            try:
                uow.commit()  # the version check: of two instances resuming it, one does
            except StaleDataError:
                raise Conflict(code="PERIOD_CLOSING", message=f"{period} 正在结账，请稍后查看结果",
                               details={"period": period}) from None
            return
        if existing is not None and existing.state == "closing":
            raise Conflict(code="PERIOD_CLOSING", message=f"{period} 正在结账，请稍后查看结果",
                           details={"period": period})
        domain.check_can_close(period, domain.period_of(utcnow().astimezone(CHINA)), set(closed))
        session.add(Period(period=period, state="closing", closed_by=actor["user_id"], closed_at=utcnow()))
        try:
            uow.commit()
        except IntegrityError:
            raise Conflict(code="PERIOD_ALREADY_CLOSED", message=f"{period} 已经结账，不能重复结账",
                           details={"period": period}) from None


def _stale(at) -> bool:
    if at is None:
        return True
    if at.tzinfo is None:
        at = at.replace(tzinfo=utcnow().tzinfo)
    return utcnow() - at > STALE_CLOSING


def build_snapshot(store: Store, period: str, chunk: int = CHUNK_MEMBERS) -> dict:
    """The quarter's figures for every member, computed by the database in chunks."""
    engine = store.engine
    with engine.begin() as conn:
        conn.execute(delete(Snapshot).where(Snapshot.period == period))  # a resumed close starts clean
        conn.execute(delete(UnitReport).where(UnitReport.period == period))
        low, high = conn.execute(select(func.min(LedgerEntry.member_id), func.max(LedgerEntry.member_id))
                                 .where(LedgerEntry.period <= period)).one()
        mlow, mhigh = conn.execute(select(func.min(MemberView.member_id), func.max(MemberView.member_id))).one()
    bounds = [b for b in (low, high, mlow, mhigh) if b is not None]
    if bounds:
        start, stop = min(bounds), max(bounds)
        for lo in range(start, stop + 1, chunk):
            with engine.begin() as conn:
                _snapshot_chunk(conn, period, lo, lo + chunk - 1)
            eventlet.sleep(0)  # let the heartbeat and other workers run between chunks
    with engine.begin() as conn:
        groups = conn.execute(select(Snapshot.community_id).where(Snapshot.period == period).distinct()).scalars().all()
    for community_id in groups:
        _score_community(store, period, community_id)
        eventlet.sleep(0)
    with engine.begin() as conn:
        conn.execute(insert(UnitReport).from_select(
            ["period", "work_unit_id", "members", "total_points", "issued_at"],
            select(literal(period), Snapshot.work_unit_id, func.count(), func.coalesce(func.sum(Snapshot.points), 0),
                   literal(utcnow(), type_=UnitReport.__table__.c.issued_at.type))
            .where(Snapshot.period == period, Snapshot.work_unit_id.is_not(None))
            .group_by(Snapshot.work_unit_id)))
        members, total = conn.execute(select(func.count(), func.coalesce(func.sum(Snapshot.points), 0))
                                      .where(Snapshot.period == period)).one()
    return {"members": int(members), "total_points": int(total)}


def _snapshot_chunk(conn, period: str, lo: int, hi: int):
    ledger, member = LedgerEntry.__table__, MemberView.__table__
    in_period = case((ledger.c.period == period, 1), else_=0)
    agg = (
        select(
            literal(period), ledger.c.member_id, func.coalesce(member.c.name, ""),
            func.coalesce(member.c.community_id, func.max(ledger.c.community_id)),
            member.c.grid_id, member.c.work_unit_id, member.c.e_branch_id,
            func.coalesce(func.sum(ledger.c.points * in_period), 0),
            func.coalesce(func.sum(in_period), 0),
            func.coalesce(func.sum(ledger.c.hours * in_period), 0.0),
            func.coalesce(func.sum(ledger.c.points), 0),
            func.avg(case((ledger.c.period == period, ledger.c.rating), else_=None)),
            literal(0.0), literal(0),
        )
        .select_from(ledger.outerjoin(member, member.c.member_id == ledger.c.member_id))
        .where(ledger.c.period <= period, ledger.c.member_id.between(lo, hi))
        .group_by(ledger.c.member_id, member.c.name, member.c.community_id, member.c.grid_id,
                  member.c.work_unit_id, member.c.e_branch_id, member.c.status)
        # a member counts in a quarter if active, or if they earned or lost something in it
        .having((func.sum(in_period) > 0) | (func.coalesce(member.c.status, "") == "active"))
    )
    columns = ["period", "member_id", "name", "community_id", "grid_id", "work_unit_id", "e_branch_id",
               "points", "entries", "hours", "balance", "rating_avg", "score", "stars"]
    conn.execute(insert(Snapshot).from_select(columns, agg))
    # active members with nothing on the ledger still belong in the notice and their unit's report
    none_yet = (
        select(literal(period), member.c.member_id, member.c.name, member.c.community_id, member.c.grid_id,
               member.c.work_unit_id, member.c.e_branch_id, literal(0), literal(0), literal(0.0), literal(0),
               literal(None), literal(0.0), literal(0))
        .where(member.c.status == "active", member.c.member_id.between(lo, hi),
               ~select(ledger.c.id).where(ledger.c.member_id == member.c.member_id,
                                          ledger.c.period <= period).exists())
    )
    conn.execute(insert(Snapshot).from_select(columns, none_yet))
    evaluation = Evaluation.__table__
    snap = Snapshot.__table__

    def side(source):
        return (select(evaluation.c.score).where(evaluation.c.member_id == snap.c.member_id,
                                                 evaluation.c.period == period, evaluation.c.source == source)
                .scalar_subquery())

    conn.execute(update(snap).where(snap.c.period == period, snap.c.member_id.between(lo, hi))
                 .values(community_score=side("community"), unit_score=side("work_unit")))


def _score_community(store: Store, period: str, community_id):
    """立体评价 and stars with this community's rules, for all its members in two statements."""
    with store.uow() as uow:
        rules = effective_rules(uow.session, community_id)
    snap = Snapshot.__table__
    weights = rules["weights"]
    full = float(rules["points_full_marks"])
    points_side = case((snap.c.points * 100.0 / full > 100.0, 100.0), (snap.c.points < 0, 0.0),
                       else_=snap.c.points * 100.0 / full)
    sides = [(weights.get("residents", 0), snap.c.rating_avg, 20.0),
             (weights.get("community", 0), snap.c.community_score, 1.0),
             (weights.get("work_unit", 0), snap.c.unit_score, 1.0)]
    numerator = float(weights["points"]) * points_side
    denominator = literal(float(weights["points"]))
    for weight, column, scale in sides:
        numerator = numerator + case((column.is_(None), 0.0), else_=column * (float(weight) * scale))
        denominator = denominator + case((column.is_(None), 0.0), else_=float(weight))
    where = and_(snap.c.period == period,
                 snap.c.community_id.is_(None) if community_id is None else snap.c.community_id == community_id)
    thresholds = sorted(((int(s), float(t)) for s, t in rules["star_thresholds"].items()), reverse=True)
    stars = case(*[(snap.c.score >= t, s) for s, t in thresholds], else_=0) if thresholds else literal(0)
    with store.engine.begin() as conn:
        # one decimal, as domain.evaluation_score (PostgreSQL rounds numeric, not double precision)
        conn.execute(update(snap).where(where).values(score=func.round(cast(numerator / denominator, Numeric), 1)))
        conn.execute(update(snap).where(where).values(stars=stars))


def _period_view(session, row: Period) -> dict:
    reports = session.scalar(select(func.count()).select_from(UnitReport).where(UnitReport.period == row.period))
    return schemas.PeriodView().dump({**{c.key: getattr(row, c.key) for c in Period.__table__.columns},
                                      "unit_reports": reports})


def list_periods(store: Store, actor: dict) -> list[dict]:
    load(Actor, actor)
    with store.uow() as uow:
        session = uow.session
        rows = [_period_view(session, p) for p in session.scalars(select(Period).order_by(Period.period.desc()))]
        open_period = current_period(session)
        # once today's quarter is closed, entries land in the next one, which has not begun
        started = domain.parse_period(open_period) <= domain.parse_period(domain.period_of(utcnow().astimezone(CHINA)))
        return [{"period": open_period, "state": "open", "closed_at": None, "closed_by": None,
                 "members": 0, "total_points": 0, "unit_reports": 0, "started": started},
                *[{**row, "started": True} for row in rows]]


# ---- reading a closed quarter ------------------------------------------------------------------

def _require_closed(session, period: str):
    domain.parse_period(period)
    row = session.get(Period, period)
    if row is None or row.state != "closed":
        raise Conflict(code="PERIOD_NOT_CLOSED", message=f"{period} 尚未结账，结账后才能查看季度结果",
                       details={"period": period, "current_state": row.state if row else "open"})


def area(session, actor: dict, action: str, community_id=None) -> list[int] | None:
    """The communities a list may show for ``action``: the caller's own community, every community of
    their street or district (finding 6: rankings and exports follow the caller's area), None = all."""
    scope = authz.list_filter(actor, action)
    if scope is None:
        return None if community_id is None else [community_id]
    if "community_id" in scope:
        communities = [scope["community_id"]]
    elif "street_id" in scope or "district_id" in scope:
        column = MemberView.street_id if "street_id" in scope else MemberView.district_id
        value = scope.get("street_id", scope.get("district_id"))
        communities = sorted(set(session.scalars(select(MemberView.community_id).where(column == value)
                                                 .distinct())) - {None})
    else:
        raise Forbidden(message="您的角色不能查看该季度结果")
    if community_id is not None:
        if community_id not in communities:
            raise Forbidden(code="OUT_OF_SCOPE", message="该社区不在您的管辖范围内")
        return [community_id]
    return communities


def _in(communities) -> list:
    return [Snapshot.community_id.in_(communities)] if communities is not None else []


NAME_SOURCES = {"community": "places", "grid": "places", "e_branch": "e_branches", "work_unit": "work_units"}


def lookup_names(registration, places=(), e_branches=(), work_units=()) -> dict:
    """Display names of places, e-branches and work units, asked of registration (one call, made
    outside any transaction). Without an answer the caller falls back to "社区3"-style labels."""
    wanted = {"places": places, "e_branches": e_branches, "work_units": work_units}
    empty = {key: {} for key in wanted}
    if registration is None or not any(wanted.values()):
        return empty
    try:
        found = registration.names({key: sorted({int(i) for i in ids if i is not None})
                                    for key, ids in wanted.items()})
    except Exception:  # names are a courtesy: a ranking must still answer without them
        log.warning("registration.names unavailable; showing numbered labels", exc_info=True)
        return empty
    return {key: {int(i): n for i, n in ((found or {}).get(key) or {}).items()} for key in wanted}


EMPTY_NAMES = {"places": {}, "e_branches": {}, "work_units": {}}


def _label(names: dict, scope: str, scope_id) -> str:
    if scope_id is None:
        return ""
    return names[NAME_SOURCES[scope]].get(scope_id) or f"{SCOPE_LABELS[scope]}{scope_id}"


def _named_members(rows: list[dict], registration) -> list[dict]:
    """Members' rows with the names of their community, grid, work unit and e-branch."""
    names = lookup_names(registration, places=[r["community_id"] for r in rows] + [r["grid_id"] for r in rows],
                         e_branches=[r["e_branch_id"] for r in rows], work_units=[r["work_unit_id"] for r in rows])
    for r in rows:
        for scope in NAME_SOURCES:
            r[f"{scope}_name"] = _label(names, scope, r[f"{scope}_id"])
    return rows


def _named_groups(groups: list[dict], registration) -> list[dict]:
    by_source = {}
    for g in groups:
        by_source.setdefault(NAME_SOURCES[g["scope"]], []).append(g["scope_id"])
    names = lookup_names(registration, **by_source)
    for g in groups:
        known = names[NAME_SOURCES[g["scope"]]].get(g["scope_id"])
        if known:
            g["name"] = known
    return groups


def _ranked_members(session, period: str, where, limit: int | None, order=None) -> list[dict]:
    order = order or (Snapshot.points.desc(),)
    rank = func.rank().over(order_by=order).label("rank")
    stmt = select(Snapshot, rank).where(Snapshot.period == period, *where).order_by(*order, Snapshot.member_id)
    if limit:
        stmt = stmt.limit(limit)
    rows = session.execute(stmt).all()
    return schemas.SnapshotRow(many=True).dump(
        [{**{c.key: getattr(s, c.key) for c in Snapshot.__table__.columns}, "rank": r} for s, r in rows])


def rankings(store: Store, actor: dict, period: str, query: dict | None, registration=None) -> list[dict]:
    """Groups (communities, grids, e-branches, work units) ranked by their members' points."""
    actor = load(Actor, actor)
    q = load(schemas.RankingQuery, query or {})
    authz.check(actor, "scoring.rankings")
    with store.uow() as uow:
        session = uow.session
        communities = area(session, actor, "scoring.rankings", q["community_id"])
        _require_closed(session, period)
        groups = _groups(session, period, q["by"], communities, q["limit"])
    return _named_groups(groups, registration)


def _groups(session, period, by, communities, limit) -> list[dict]:
    column = SCOPE_COLUMNS[by]
    total = func.sum(Snapshot.points)
    stmt = (select(column, func.count(), total, func.avg(Snapshot.points), func.avg(Snapshot.score),
                   func.rank().over(order_by=total.desc()))
            .where(Snapshot.period == period, column.is_not(None)).group_by(column)
            .order_by(total.desc(), column).limit(limit))
    if communities is not None:
        stmt = stmt.where(Snapshot.community_id.in_(communities))
    names = {}
    if by == "work_unit":
        names = dict(session.execute(select(WorkUnitView.work_unit_id, WorkUnitView.name)).all())
    return schemas.RankedGroup(many=True).dump([
        {"rank": rank, "scope": by, "scope_id": scope_id,
         "name": names.get(scope_id) or f"{SCOPE_LABELS[by]}{scope_id}", "members": n, "total_points": int(t or 0),
         "average_points": round(float(a or 0), 1), "average_score": round(float(s or 0), 1)}
        for scope_id, n, t, a, s, rank in session.execute(stmt).all()])


def member_rankings(store: Store, actor: dict, period: str, query: dict | None, registration=None) -> list[dict]:
    """Members ranked within one community, grid, e-branch or work unit."""
    actor = load(Actor, actor)
    q = load(schemas.MemberRankingQuery, query or {})
    where = [SCOPE_COLUMNS[q["within"]] == q["scope_id"]]
    authz.check(actor, "scoring.member_rankings")
    with store.uow() as uow:
        if actor["role"] == "unit_org":
            if q["within"] != "work_unit" or q["scope_id"] != actor.get("work_unit_id"):
                raise Forbidden(message="单位党组织只能查看本单位党员的排名")
        else:
            where += _in(area(uow.session, actor, "scoring.member_rankings"))
        _require_closed(uow.session, period)
        rows = _ranked_members(uow.session, period, where, q["limit"])
    return _named_members(rows, registration)


def public_notice(store: Store, actor: dict, period: str, community_id: int) -> dict:
    """通报公示: every member of the community with points and stars, for anyone living there."""
    actor = load(Actor, actor)
    with store.uow() as uow:
        # finding 6: the community's place, not the actor's own, decides (it compared the actor with itself)
        authz.check(actor, "scoring.public_notice", community_facts(uow.session, community_id),
                    message="只能查看本社区或辖区内社区的公示")
        _require_closed(uow.session, period)
        rows = _ranked_members(uow.session, period, [Snapshot.community_id == community_id], None)
    public = [{k: r[k] for k in ("rank", "member_id", "name", "points", "hours", "score", "stars")} for r in rows]
    return schemas.Notice().dump({"period": period, "community_id": community_id,
                                  "title": f"{period} 在职党员进社区服务积分及星级评定公示", "rows": public})


RECOGNISED_PER_COMMUNITY = 10


def _recognised(session, period: str) -> list[dict]:
    """The recognition list as awards for the volunteer record: each community's best, starred members."""
    rows = []
    for (community_id,) in session.execute(select(Snapshot.community_id).where(
            Snapshot.period == period, Snapshot.stars > 0).distinct()):
        ranked = _ranked_members(session, period, [Snapshot.community_id == community_id, Snapshot.stars > 0],
                                 RECOGNISED_PER_COMMUNITY, (Snapshot.score.desc(), Snapshot.points.desc()))
        rows += [{"member_id": r["member_id"], "period": period, "community_id": community_id,
                  "stars": r["stars"], "rank": r["rank"],
                  "title": f"{period} 季度星级评定{r['stars']}星（表彰第{r['rank']}名）"} for r in ranked]
    return rows


def recognition(store: Store, actor: dict, period: str, query: dict | None, registration=None) -> dict:
    """表彰: the best members by score, and the work units and e-branches by average score."""
    actor = load(Actor, actor)
    q = load(schemas.RecognitionQuery, query or {})
    authz.check(actor, "scoring.recognition")
    with store.uow() as uow:
        session = uow.session
        communities = area(session, actor, "scoring.recognition")
        where = _in(communities)
        _require_closed(session, period)
        members = _ranked_members(session, period, [*where, Snapshot.stars > 0], q["top"],
                                  (Snapshot.score.desc(), Snapshot.points.desc()))
        units = sorted(_groups(session, period, "work_unit", communities, 500),
                       key=lambda g: (-g["average_score"], -g["total_points"]))[:q["top"]]
        branches = sorted(_groups(session, period, "e_branch", communities, 500),
                          key=lambda g: (-g["average_score"], -g["total_points"]))[:q["top"]]
    for i, group in enumerate(units + branches):
        group["rank"] = (i if i < len(units) else i - len(units)) + 1
    _named_groups(units + branches, registration)
    _named_members(members, registration)
    return schemas.Recognition().dump({"period": period, "members": members, "work_units": units,
                                       "e_branches": branches})


def unit_report(store: Store, actor: dict, period: str, work_unit_id: int, query: dict | None,
                registration=None) -> dict:
    """双向反馈: a work unit's members and their quarter, for the unit's Party organisation."""
    actor = load(Actor, actor)
    q = load(schemas.ReportQuery, query or {})
    with store.uow() as uow:
        session = uow.session
        unit = session.get(WorkUnitView, work_unit_id)
        facts = community_facts(session, unit.community_id) if unit is not None else authz.facts()
        authz.check(actor, "scoring.unit_report", facts | {"work_unit_ids": [work_unit_id]},
                    message="只能查看本单位（或辖区内共建单位）的季度报告")
        _require_closed(session, period)
        report = session.scalar(select(UnitReport).where(UnitReport.period == period,
                                                         UnitReport.work_unit_id == work_unit_id))
        if report is None:
            raise NotFound(code="REPORT_NOT_FOUND", message="该单位本季度没有报到党员的积分报告")
        unit = session.get(WorkUnitView, work_unit_id)
        rows = _ranked_members(session, period, [Snapshot.work_unit_id == work_unit_id], None)
        view = {"period": period, "work_unit_id": work_unit_id, "work_unit_name": unit.name if unit else "",
                "members": report.members, "total_points": report.total_points, "issued_at": report.issued_at,
                "rows": rows}
    _named_members(rows, registration)
    if q["format"] == "json":
        return schemas.UnitReportView().dump(view)
    title = f"{view['work_unit_name'] or '单位'}{period}在职党员进社区服务情况"
    return _file(rows, q["format"], f"unit-{work_unit_id}-{period}", title)


def export(store: Store, actor: dict, period: str, query: dict | None, registration=None) -> dict:
    actor = load(Actor, actor)
    q = load(schemas.ExportQuery, query or {})
    authz.check(actor, "scoring.export")
    with store.uow() as uow:
        communities = area(uow.session, actor, "scoring.export", q["community_id"])
        _require_closed(uow.session, period)
        rows = _ranked_members(uow.session, period, _in(communities), None)
    community_id = communities[0] if communities is not None and len(communities) == 1 else None
    _named_members(rows, registration)
    name = f"scoring-{period}" + (f"-community-{community_id}" if community_id is not None else "")
    return _file(rows, q["format"], name, f"{period} 积分与星级")


def _cells(row: dict) -> list:
    named = [row.get(f"{scope}_name") or _label(EMPTY_NAMES, scope, row[f"{scope}_id"]) for scope in NAME_SOURCES]
    return [row["rank"], row["member_id"], row["name"], *named, row["points"], row["hours"], _round(row["rating_avg"]),
            _round(row["community_score"]), _round(row["unit_score"]), _round(row["score"]), row["stars"]]


def _round(value):
    return None if value is None else round(value, 1)


def _file(rows: list[dict], fmt: str, name: str, title: str) -> dict:
    if fmt == "csv":
        out = io.StringIO()
        writer = csv.writer(out)
        writer.writerow(CSV_HEADERS)
        writer.writerows(safe_row(_cells(r)) for r in rows)
        # a BOM so spreadsheet programs open the Chinese headers correctly
        content, ctype = ("\ufeff" + out.getvalue()).encode("utf-8"), "text/csv; charset=utf-8"
    else:
        from openpyxl import Workbook

        book = Workbook(write_only=True)
        sheet = book.create_sheet(title[:31].replace("/", "-") or "sheet")
        sheet.append([title])
        sheet.append(CSV_HEADERS)
        for r in rows:
            sheet.append(safe_row(_cells(r)))
        buffer = io.BytesIO()
        book.save(buffer)
        content = buffer.getvalue()
        ctype = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    return schemas.FileView().dump({"filename": f"{name}.{fmt}", "content_type": ctype,
                                    "content_base64": base64.b64encode(content).decode()})


def chart(store: Store, actor: dict, period: str, query: dict | None, registration=None) -> dict:
    """PNG: the distribution of members' points, or each community's total."""
    actor = load(Actor, actor)
    q = load(schemas.ChartQuery, query or {})
    authz.check(actor, "scoring.chart")
    with store.uow() as uow:
        session = uow.session
        communities = area(session, actor, "scoring.chart")
        _require_closed(session, period)
        if q["kind"] == "distribution":
            values = list(session.scalars(select(Snapshot.points).where(Snapshot.period == period,
                                                                          *_in(communities))))
        else:
            values = session.execute(
                select(Snapshot.community_id, func.sum(Snapshot.points))
                .where(Snapshot.period == period, Snapshot.community_id.is_not(None), *_in(communities))
                .group_by(Snapshot.community_id).order_by(Snapshot.community_id)).all()
    if q["kind"] != "distribution":
        names = lookup_names(registration, places=[c for c, _ in values])
        values = [(_label(names, "community", c), t) for c, t in values]
    png = _render(q["kind"], period, values)
    return schemas.FileView().dump({"filename": f"{q['kind']}-{period}.png", "content_type": "image/png",
                                    "content_base64": base64.b64encode(png).decode()})


def _render(kind: str, period: str, values) -> bytes:
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import font_manager
    from matplotlib import pyplot as plt

    # Chinese labels only where a CJK font is installed; otherwise English, never tofu boxes
    cjk = next((f.name for f in font_manager.fontManager.ttflist
                if any(k in f.name for k in ("Noto Sans CJK", "Noto Serif CJK", "WenQuanYi", "SimHei",
                                             "Source Han", "Droid Sans Fallback"))), None)
    labels = ({"distribution": (f"{period} 党员积分分布", "季度积分", "人数"),
               "communities": (f"{period} 各社区积分合计", "社区", "积分")} if cjk else
              {"distribution": (f"Points per member, {period}", "points", "members"),
               "communities": (f"Points per community, {period}", "community", "points")})[kind]
    fig, ax = plt.subplots(figsize=(8, 4.5), dpi=100)
    try:
        if cjk:
            plt.rcParams["font.family"] = cjk
        if kind == "distribution":
            ax.hist(values or [0], bins=min(30, max(5, len(set(values)) or 5)), color="#c0392b")
        else:
            ids = [str(c) for c, _ in values]
            ax.bar(ids, [int(t or 0) for _, t in values], color="#c0392b")
        ax.set_title(labels[0])
        ax.set_xlabel(labels[1])
        ax.set_ylabel(labels[2])
        fig.tight_layout()
        buffer = io.BytesIO()
        fig.savefig(buffer, format="png")
        return buffer.getvalue()
    finally:
        plt.close(fig)


def dashboard(store: Store, actor: dict, community_id: int) -> dict:
    """A community's figures: this quarter live from the ledger, the last closed one's stars."""
    from services.scoring.models import LedgerConflict, Rejection

    actor = load(Actor, actor)
    with store.uow() as uow:
        session = uow.session
        authz.check(actor, "scoring.scoring_dashboard", community_facts(session, community_id),
                    message="只能查看本人管辖范围内社区的积分概况")
        period = current_period(session)
        members = session.scalar(select(func.count()).select_from(MemberView).where(
            MemberView.community_id == community_id, MemberView.status == "active"))
        here = select(MemberView.member_id).where(MemberView.community_id == community_id)
        entries, points, hours, earners = session.execute(
            select(func.count(), func.coalesce(func.sum(LedgerEntry.points), 0),
                   func.coalesce(func.sum(LedgerEntry.hours), 0.0), func.count(LedgerEntry.member_id.distinct()))
            .where(LedgerEntry.period == period, LedgerEntry.member_id.in_(here))).one()
        conflicts = session.scalar(select(func.count()).select_from(LedgerConflict).where(
            LedgerConflict.community_id == community_id, LedgerConflict.status == "open"))
        rejections = session.scalar(select(func.count()).select_from(Rejection).where(
            Rejection.community_id == community_id, Rejection.status == "pending"))
        last = session.scalar(select(Period.period).where(Period.state == "closed").order_by(Period.period.desc())
                              .limit(1))
        stars, top = {}, []
        if last:
            stars = {str(s): n for s, n in session.execute(
                select(Snapshot.stars, func.count())
                .where(Snapshot.period == last, Snapshot.community_id == community_id).group_by(Snapshot.stars)).all()}
            top = _ranked_members(session, last, [Snapshot.community_id == community_id], 5)
        return schemas.Dashboard().dump({
            "community_id": community_id, "period": period, "members": members, "members_with_points": earners,
            "period_points": int(points), "period_hours": float(hours), "entries": entries,
            "average_points": round(int(points) / members, 1) if members else 0.0,
            "open_conflicts": conflicts, "pending_rejections": rejections, "last_closed": last,
            "stars": stars, "top_members": top})
