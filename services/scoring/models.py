"""Scoring's tables: the append-only ledger, what it could not take, rules, evaluations, quarters."""

from sqlalchemy import JSON, DateTime, Float, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from common.db import new_metadata, utcnow, version_id


class Base(DeclarativeBase):
    metadata = new_metadata()


class LedgerEntry(Base):
    """One credit or debit, never edited: ``entry_key`` (the source fact) makes re-delivery harmless."""

    __tablename__ = "ledger"
    __table_args__ = (Index("ix_ledger_period_member", "period", "member_id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    entry_key: Mapped[str] = mapped_column(String(120), unique=True)
    member_id: Mapped[int] = mapped_column(Integer, index=True)
    community_id: Mapped[int | None] = mapped_column(Integer, index=True)
    points: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(30))  # service | wish | activity | no_show | adjustment | correction
    reason: Mapped[str] = mapped_column(Text)
    source_event_id: Mapped[str | None] = mapped_column(String(80))
    created_at: Mapped[object] = mapped_column(DateTime(timezone=True), default=utcnow)
    period: Mapped[str] = mapped_column(String(7), default="")
    content_hash: Mapped[str] = mapped_column(String(32), default="")
    rating: Mapped[int | None] = mapped_column(Integer)
    hours: Mapped[float] = mapped_column(Float, default=0.0)
    actor_id: Mapped[int | None] = mapped_column(Integer)  # who adjusted by hand
    corrects_id: Mapped[int | None] = mapped_column(Integer)  # the entry a correction amends


class LedgerConflict(Base):
    """The same source key came again with different content: held for a person to decide."""

    __tablename__ = "ledger_conflicts"
    __table_args__ = (UniqueConstraint("entry_key", "content_hash"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    entry_key: Mapped[str] = mapped_column(String(120))
    content_hash: Mapped[str] = mapped_column(String(32))
    entry_id: Mapped[int] = mapped_column(Integer)  # the entry already on the ledger
    member_id: Mapped[int] = mapped_column(Integer)
    community_id: Mapped[int | None] = mapped_column(Integer, index=True)
    points: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(30))
    reason: Mapped[str] = mapped_column(Text)
    source_event_id: Mapped[str | None] = mapped_column(String(80))
    status: Mapped[str] = mapped_column(String(20), default="open")  # open | accepted | dismissed
    resolution: Mapped[str] = mapped_column(Text, default="")
    resolved_by: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[object] = mapped_column(DateTime(timezone=True), default=utcnow)


class Rejection(Base):
    """An event scoring could not apply yet (unknown member…), kept with its reason to re-apply."""

    __tablename__ = "rejections"
    __table_args__ = (UniqueConstraint("event_id", "member_id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[str] = mapped_column(String(80))
    event_type: Mapped[str] = mapped_column(String(80))
    member_id: Mapped[int] = mapped_column(Integer, index=True)
    community_id: Mapped[int | None] = mapped_column(Integer, index=True)
    code: Mapped[str] = mapped_column(String(40))
    reason: Mapped[str] = mapped_column(Text)
    envelope: Mapped[dict] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(20), default="pending", index=True)  # pending | applied
    created_at: Mapped[object] = mapped_column(DateTime(timezone=True), default=utcnow)
    applied_at: Mapped[object | None] = mapped_column(DateTime(timezone=True))


class MemberView(Base):
    """Registration's members as scoring needs them, from member.* events."""

    __tablename__ = "members"
    member_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    name: Mapped[str] = mapped_column(String(100), default="")
    community_id: Mapped[int] = mapped_column(Integer, index=True)
    street_id: Mapped[int | None] = mapped_column(Integer)
    district_id: Mapped[int | None] = mapped_column(Integer)
    grid_id: Mapped[int | None] = mapped_column(Integer)
    work_unit_id: Mapped[int | None] = mapped_column(Integer, index=True)
    e_branch_id: Mapped[int | None] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(20), default="active")  # active | revoked
    updated_at: Mapped[object] = mapped_column(DateTime(timezone=True), default=utcnow)


class WorkUnitView(Base):
    """Work units' names, from registration's unit.reported, for their reports."""

    __tablename__ = "work_units"
    work_unit_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    name: Mapped[str] = mapped_column(String(200), default="")
    community_id: Mapped[int | None] = mapped_column(Integer)


class RuleSet(Base):
    """An override of the default rules for one district or community."""

    __tablename__ = "rules"
    __table_args__ = (UniqueConstraint("scope", "scope_id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    scope: Mapped[str] = mapped_column(String(20))  # district | community
    scope_id: Mapped[int] = mapped_column(Integer)
    district_id: Mapped[int | None] = mapped_column(Integer)  # a community's district, to layer its rules
    config: Mapped[dict] = mapped_column(JSON, default=dict)
    updated_by: Mapped[int | None] = mapped_column(Integer)
    updated_at: Mapped[object] = mapped_column(DateTime(timezone=True), default=utcnow)


class Evaluation(Base):
    """The community's or the work unit's assessment of a member for a quarter (0–100)."""

    __tablename__ = "evaluations"
    __table_args__ = (UniqueConstraint("member_id", "period", "source"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    member_id: Mapped[int] = mapped_column(Integer)
    period: Mapped[str] = mapped_column(String(7), index=True)
    source: Mapped[str] = mapped_column(String(20))  # community | work_unit
    score: Mapped[float] = mapped_column(Float)
    comment: Mapped[str] = mapped_column(Text, default="")
    actor_id: Mapped[int | None] = mapped_column(Integer)
    updated_at: Mapped[object] = mapped_column(DateTime(timezone=True), default=utcnow)


class Period(Base):
    """A quarter that was closed: from then on its figures come from the snapshot only."""

    __tablename__ = "periods"
    period: Mapped[str] = mapped_column(String(7), primary_key=True)
    state: Mapped[str] = mapped_column(String(20))  # closing | closed
    closed_by: Mapped[int | None] = mapped_column(Integer)
    closed_at: Mapped[object] = mapped_column(DateTime(timezone=True), default=utcnow)
    members: Mapped[int] = mapped_column(Integer, default=0)
    total_points: Mapped[int] = mapped_column(Integer, default=0)
    # optimistic concurrency: two instances resuming a stale close cannot both win
    version: Mapped[int] = mapped_column(Integer, nullable=False, default=1, server_default="1")
    __mapper_args__ = version_id(version)


class Snapshot(Base):
    """A member's frozen quarter: points, the four sides of the evaluation, score and stars."""

    __tablename__ = "snapshots"
    __table_args__ = (Index("ix_snapshots_period_community_points", "period", "community_id", "points"),)
    period: Mapped[str] = mapped_column(String(7), primary_key=True)
    member_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    name: Mapped[str] = mapped_column(String(100), default="")
    community_id: Mapped[int | None] = mapped_column(Integer)
    grid_id: Mapped[int | None] = mapped_column(Integer)
    work_unit_id: Mapped[int | None] = mapped_column(Integer, index=True)
    e_branch_id: Mapped[int | None] = mapped_column(Integer)
    points: Mapped[int] = mapped_column(Integer, default=0)
    entries: Mapped[int] = mapped_column(Integer, default=0)
    hours: Mapped[float] = mapped_column(Float, default=0.0)
    balance: Mapped[int] = mapped_column(Integer, default=0)
    rating_avg: Mapped[float | None] = mapped_column(Float)
    community_score: Mapped[float | None] = mapped_column(Float)
    unit_score: Mapped[float | None] = mapped_column(Float)
    score: Mapped[float] = mapped_column(Float, default=0.0)
    stars: Mapped[int] = mapped_column(Integer, default=0)


class UnitReport(Base):
    """A work unit's quarterly report (双向反馈), issued through notify; the rows are the snapshot."""

    __tablename__ = "unit_reports"
    __table_args__ = (UniqueConstraint("period", "work_unit_id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    period: Mapped[str] = mapped_column(String(7))
    work_unit_id: Mapped[int] = mapped_column(Integer)
    members: Mapped[int] = mapped_column(Integer)
    total_points: Mapped[int] = mapped_column(Integer)
    issued_at: Mapped[object] = mapped_column(DateTime(timezone=True), default=utcnow)


class AuditEntry(Base):
    """Who changed what by hand: adjustments, rules, assessments, closings, conflict decisions."""

    __tablename__ = "audit_log"
    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[object] = mapped_column(DateTime(timezone=True), default=utcnow)
    actor_id: Mapped[int | None] = mapped_column(Integer)
    actor_role: Mapped[str] = mapped_column(String(20))
    action: Mapped[str] = mapped_column(String(40))
    target: Mapped[str] = mapped_column(String(80))
    detail: Mapped[dict] = mapped_column(JSON, default=dict)
