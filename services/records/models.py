"""Records' tables. Every entry names the organisation that recorded it (谁记录谁证明)."""

from sqlalchemy import Date, DateTime, Float, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from common.db import new_metadata, utcnow


class Base(DeclarativeBase):
    metadata = new_metadata()


class Volunteer(Base):
    """A member as the record needs them, from registration's member.* events.

    ``community_id`` is the organisation that keeps the whole record: it changes on a transfer
    only once the member consents.
    """

    __tablename__ = "volunteers"
    member_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    name: Mapped[str] = mapped_column(String(100), default="")
    volunteer_number: Mapped[str] = mapped_column(String(20), unique=True)
    id_number_masked: Mapped[str | None] = mapped_column(String(24))
    community_id: Mapped[int | None] = mapped_column(Integer, index=True)
    e_branch_id: Mapped[int | None] = mapped_column(Integer)
    work_unit_id: Mapped[int | None] = mapped_column(Integer)
    updated_at: Mapped[object] = mapped_column(DateTime(timezone=True), default=utcnow)


class Entry(Base):
    """One service (request, community need, micro-wish, activity): what, where, when, hours."""

    __tablename__ = "entries"
    __table_args__ = (
        UniqueConstraint("source", "ref_id", "member_id", name="uq_entries_source_ref_member"),
        Index("ix_entries_community_status", "community_id", "status"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    member_id: Mapped[int] = mapped_column(Integer, index=True)
    source: Mapped[str] = mapped_column(String(20))  # request | wish | activity | staff
    ref_id: Mapped[int | None] = mapped_column(Integer)
    community_id: Mapped[int] = mapped_column(Integer)  # the recording organisation
    title: Mapped[str] = mapped_column(String(200), default="")
    place: Mapped[str] = mapped_column(String(200), default="")
    served_at: Mapped[object] = mapped_column(DateTime(timezone=True))
    stated_hours: Mapped[float | None] = mapped_column(Float)
    hours_source: Mapped[str] = mapped_column(String(20))  # stated | default | attendance | none | staff
    confirmed_hours: Mapped[float | None] = mapped_column(Float)
    status: Mapped[str] = mapped_column(String(20), default="stated")  # stated | confirmed
    confirmed_by: Mapped[int | None] = mapped_column(Integer)
    confirmed_role: Mapped[str | None] = mapped_column(String(30))
    confirmed_at: Mapped[object | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[object] = mapped_column(DateTime(timezone=True), default=utcnow)


class HoursAudit(Base):
    """Every statement, confirmation and correction of an entry's hours: who, when, why."""

    __tablename__ = "hours_audit"
    id: Mapped[int] = mapped_column(primary_key=True)
    entry_id: Mapped[int] = mapped_column(ForeignKey("entries.id"), index=True)
    action: Mapped[str] = mapped_column(String(20))  # state | confirm | correct
    from_hours: Mapped[float | None] = mapped_column(Float)
    to_hours: Mapped[float | None] = mapped_column(Float)
    reason: Mapped[str] = mapped_column(Text, default="")
    actor_id: Mapped[int | None] = mapped_column(Integer)
    actor_role: Mapped[str] = mapped_column(String(30))
    at: Mapped[object] = mapped_column(DateTime(timezone=True), default=utcnow)


class Training(Base):
    __tablename__ = "trainings"
    id: Mapped[int] = mapped_column(primary_key=True)
    member_id: Mapped[int] = mapped_column(Integer, index=True)
    community_id: Mapped[int] = mapped_column(Integer)
    title: Mapped[str] = mapped_column(String(200))
    hours: Mapped[float] = mapped_column(Float)
    held_on: Mapped[object] = mapped_column(Date)
    recorded_by: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[object] = mapped_column(DateTime(timezone=True), default=utcnow)


class Award(Base):
    """Commendations and awards: from the quarterly recognition list, or entered by staff."""

    __tablename__ = "awards"
    __table_args__ = (UniqueConstraint("member_id", "source", "ref", name="uq_awards_member_source_ref"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    member_id: Mapped[int] = mapped_column(Integer, index=True)
    community_id: Mapped[int | None] = mapped_column(Integer)
    title: Mapped[str] = mapped_column(String(200))
    issuer: Mapped[str] = mapped_column(String(200), default="")
    awarded_on: Mapped[object] = mapped_column(Date)
    source: Mapped[str] = mapped_column(String(20))  # recognition | staff
    ref: Mapped[str] = mapped_column(String(60))  # the period, or a unique id for staff entries
    recorded_by: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[object] = mapped_column(DateTime(timezone=True), default=utcnow)


class Evaluation(Base):
    """立体评价 as scoring keeps it, one row per member, quarter and side."""

    __tablename__ = "evaluations"
    __table_args__ = (UniqueConstraint("member_id", "period", "side", name="uq_evaluations_member_period_side"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    member_id: Mapped[int] = mapped_column(Integer, index=True)
    community_id: Mapped[int | None] = mapped_column(Integer)
    period: Mapped[str] = mapped_column(String(7))
    side: Mapped[str] = mapped_column(String(20))  # community | work_unit
    score: Mapped[float] = mapped_column(Float)
    comment: Mapped[str] = mapped_column(Text, default="")
    updated_at: Mapped[object] = mapped_column(DateTime(timezone=True), default=utcnow)


class Complaint(Base):
    """被投诉信息: a complaint about a volunteer, how it was handled and its outcome."""

    __tablename__ = "complaints"
    id: Mapped[int] = mapped_column(primary_key=True)
    member_id: Mapped[int] = mapped_column(Integer, index=True)
    community_id: Mapped[int] = mapped_column(Integer, index=True)
    summary: Mapped[str] = mapped_column(Text)
    received_on: Mapped[object] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(20), default="open")  # open | closed
    handling: Mapped[str] = mapped_column(Text, default="")
    outcome: Mapped[str | None] = mapped_column(String(20))
    recorded_by: Mapped[int | None] = mapped_column(Integer)
    handled_by: Mapped[int | None] = mapped_column(Integer)
    handled_at: Mapped[object | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[object] = mapped_column(DateTime(timezone=True), default=utcnow)


class Certificate(Base):
    """志愿服务证明: the facts printed, frozen at issue; the PDF is rendered from them."""

    __tablename__ = "certificates"
    __table_args__ = (UniqueConstraint("issued_by", "idempotency_key", name="uq_certificates_issued_by_idem"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(40), unique=True)
    member_id: Mapped[int] = mapped_column(Integer, index=True)
    community_id: Mapped[int] = mapped_column(Integer, index=True)  # the issuer, who recorded the entries
    issuer_name: Mapped[str] = mapped_column(String(200))
    member_name: Mapped[str] = mapped_column(String(100))
    id_number_masked: Mapped[str] = mapped_column(String(24), default="")
    volunteer_number: Mapped[str] = mapped_column(String(20))
    since: Mapped[object] = mapped_column(Date)
    until: Mapped[object] = mapped_column(Date)
    hours: Mapped[float] = mapped_column(Float)
    services: Mapped[int] = mapped_column(Integer)
    summary: Mapped[str] = mapped_column(Text)
    issued_on: Mapped[object] = mapped_column(Date)
    issued_by: Mapped[int | None] = mapped_column(Integer)
    issued_at: Mapped[object] = mapped_column(DateTime(timezone=True), default=utcnow)
    revoked_at: Mapped[object | None] = mapped_column(DateTime(timezone=True))
    revoked_by: Mapped[int | None] = mapped_column(Integer)
    revoke_reason: Mapped[str] = mapped_column(Text, default="")
    idempotency_key: Mapped[str | None] = mapped_column(String(100))  # a retried issue is one certificate


class Transfer(Base):
    """A member moved: the record goes to the new community once the member consents."""

    __tablename__ = "transfers"
    id: Mapped[int] = mapped_column(primary_key=True)
    member_id: Mapped[int] = mapped_column(Integer, index=True)
    from_community_id: Mapped[int | None] = mapped_column(Integer)
    to_community_id: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(20), default="pending")  # pending | consented | declined
    requested_at: Mapped[object] = mapped_column(DateTime(timezone=True), default=utcnow)
    decided_at: Mapped[object | None] = mapped_column(DateTime(timezone=True))
