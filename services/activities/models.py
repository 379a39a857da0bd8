"""Activities' tables: activities with their places counters, sign-ups, and the attendance trail."""

from sqlalchemy import (
    JSON,
    Boolean,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from common.db import new_metadata, utcnow
from common.timers import add_timers_table


class Base(DeclarativeBase):
    metadata = new_metadata()


add_timers_table(Base.metadata)


class Activity(Base):
    """A volunteer activity or themed Party day (主题党日).

    ``confirmed`` / ``waitlisted`` / ``next_seq`` are counters changed only by conditional
    UPDATEs: the row lock they take orders concurrent sign-ups, so arrival order is commit order.
    """

    __tablename__ = "activities"
    __table_args__ = (
        Index("ix_activities_community_starts", "community_id", "starts_at"),
        UniqueConstraint("publisher_id", "idempotency_key", name="uq_activities_publisher_idem"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(20), default="volunteer")
    community_id: Mapped[int] = mapped_column(Integer)
    street_id: Mapped[int | None] = mapped_column(Integer, index=True)
    district_id: Mapped[int | None] = mapped_column(Integer)
    publisher_id: Mapped[int | None] = mapped_column(Integer)
    publisher_role: Mapped[str] = mapped_column(String(20))
    publisher_name: Mapped[str] = mapped_column(String(100), default="")
    work_unit_id: Mapped[int | None] = mapped_column(Integer)
    leader_id: Mapped[int | None] = mapped_column(Integer)
    title: Mapped[str] = mapped_column(String(100))
    description: Mapped[str] = mapped_column(Text, default="")
    place: Mapped[str] = mapped_column(String(200), default="")
    starts_at: Mapped[object] = mapped_column(DateTime(timezone=True))
    ends_at: Mapped[object] = mapped_column(DateTime(timezone=True))
    signup_deadline: Mapped[object] = mapped_column(DateTime(timezone=True))
    places: Mapped[int] = mapped_column(Integer)
    waitlist_limit: Mapped[int | None] = mapped_column(Integer)
    skills: Mapped[list] = mapped_column(JSON, default=list)
    audience: Mapped[str] = mapped_column(String(20), default="community")
    audience_id: Mapped[int | None] = mapped_column(Integer)
    state: Mapped[str] = mapped_column(String(20), default="published", index=True)
    confirmed: Mapped[int] = mapped_column(Integer, default=0)
    waitlisted: Mapped[int] = mapped_column(Integer, default=0)
    next_seq: Mapped[int] = mapped_column(Integer, default=0)
    code_secret: Mapped[str] = mapped_column(String(64))
    cancel_reason: Mapped[str] = mapped_column(Text, default="")
    idempotency_key: Mapped[str | None] = mapped_column(String(100))
    created_at: Mapped[object] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[object] = mapped_column(DateTime(timezone=True), default=utcnow)
    closed_at: Mapped[object | None] = mapped_column(DateTime(timezone=True))


class Signup(Base):
    """One member's place (or wait-list spot) in one activity, and how they attended."""

    __tablename__ = "signups"
    __table_args__ = (
        UniqueConstraint("activity_id", "member_id", name="uq_signups_activity_member"),
        Index("ix_signups_activity_status_seq", "activity_id", "status", "seq"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    activity_id: Mapped[int] = mapped_column(ForeignKey("activities.id"))
    member_id: Mapped[int] = mapped_column(Integer, index=True)
    member_name: Mapped[str] = mapped_column(String(100), default="")
    # residents may join community activities too; only members' attendance counts as service
    participant_role: Mapped[str] = mapped_column(String(20), default="member", server_default="member")
    seq: Mapped[int] = mapped_column(Integer)  # arrival order within the activity
    status: Mapped[str] = mapped_column(String(20))  # confirmed | waitlisted | cancelled
    checked_in_at: Mapped[object | None] = mapped_column(DateTime(timezone=True))
    checked_out_at: Mapped[object | None] = mapped_column(DateTime(timezone=True))
    attendance: Mapped[str | None] = mapped_column(String(20))  # present | late | leave | absent
    hours: Mapped[float] = mapped_column(Float, default=0.0)
    hours_by_leader: Mapped[bool] = mapped_column(Boolean, default=False)
    outcome: Mapped[str | None] = mapped_column(String(20))  # attended | no_show | excused, at close
    signed_up_at: Mapped[object] = mapped_column(DateTime(timezone=True), default=utcnow)
    promoted_at: Mapped[object | None] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[object] = mapped_column(DateTime(timezone=True), default=utcnow)


class AttendanceEntry(Base):
    """The trail: every sign-up change, check-in/out and mark, who did it and why."""

    __tablename__ = "attendance_log"
    id: Mapped[int] = mapped_column(primary_key=True)
    activity_id: Mapped[int] = mapped_column(ForeignKey("activities.id"), index=True)
    member_id: Mapped[int] = mapped_column(Integer)
    action: Mapped[str] = mapped_column(String(30))
    from_value: Mapped[str | None] = mapped_column(String(40))
    to_value: Mapped[str | None] = mapped_column(String(40))
    hours: Mapped[float | None] = mapped_column(Float)
    reason: Mapped[str] = mapped_column(Text, default="")
    actor_id: Mapped[int | None] = mapped_column(Integer)
    actor_role: Mapped[str] = mapped_column(String(20))
    at: Mapped[object] = mapped_column(DateTime(timezone=True), default=utcnow)
