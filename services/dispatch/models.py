"""Dispatch's tables: service menus, requests, who they went to, their full history, deadlines,
micro-wishes, opinions and the idempotency keys of commands."""

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

from common.db import new_metadata, utcnow, version_id
from common.timers import add_timers_table


class Base(DeclarativeBase):
    metadata = new_metadata()


add_timers_table(Base.metadata)


class MenuItem(Base):
    """One kind of request a community takes (服务菜单), with its fields and points.

    ``kind`` "need" marks the community's own needs (服务清单) that members claim of their own
    accord; they are not shown on the residents' menu.
    """

    __tablename__ = "menu_items"
    id: Mapped[int] = mapped_column(primary_key=True)
    community_id: Mapped[int] = mapped_column(Integer, index=True)
    kind: Mapped[str] = mapped_column(String(10), default="menu", server_default="menu")
    title: Mapped[str] = mapped_column(String(100))
    category: Mapped[str] = mapped_column(String(50))
    description: Mapped[str] = mapped_column(Text, default="")
    skills: Mapped[list] = mapped_column(JSON, default=list)
    fields: Mapped[list] = mapped_column(JSON, default=list)
    points: Mapped[int] = mapped_column(Integer, default=10)
    members_needed: Mapped[int] = mapped_column(Integer, default=1)
    expected_minutes: Mapped[int] = mapped_column(Integer, default=60, server_default="60")
    # hours a member may state at completion (实际服务时长, no travel); None default: from expected_minutes
    default_hours: Mapped[float | None] = mapped_column(Float)
    min_hours: Mapped[float] = mapped_column(Float, default=0.5, server_default="0.5")
    max_hours: Mapped[float] = mapped_column(Float, default=8.0, server_default="8")
    deadline_policy: Mapped[dict] = mapped_column(JSON, default=dict)
    active: Mapped[bool] = mapped_column(default=True)


class CommunityPolicy(Base):
    """A community's auto-offer policy: accept at once, offer to the top k, open to all later."""

    __tablename__ = "community_policies"
    community_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    auto_accept: Mapped[bool] = mapped_column(Boolean, default=True)
    offer_top_k: Mapped[int] = mapped_column(Integer, default=3)
    open_after_minutes: Mapped[float] = mapped_column(Float, default=60.0)
    updated_at: Mapped[object] = mapped_column(DateTime(timezone=True), default=utcnow)


class Request(Base):
    """A resident's order (点单), a hotline caller's, or a community need, and where it stands."""

    __tablename__ = "requests"
    __table_args__ = (Index("ix_requests_level_state", "level", "state"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    community_id: Mapped[int] = mapped_column(Integer, index=True)
    street_id: Mapped[int | None] = mapped_column(Integer, index=True)
    district_id: Mapped[int | None] = mapped_column(Integer)
    grid_id: Mapped[int | None] = mapped_column(Integer)
    building_id: Mapped[int | None] = mapped_column(Integer)
    resident_id: Mapped[int | None] = mapped_column(Integer, index=True)
    source: Mapped[str] = mapped_column(String(10), default="resident", server_default="resident")
    caller_name: Mapped[str | None] = mapped_column(String(50))
    caller_phone: Mapped[str | None] = mapped_column(String(20))
    # whom the serving member calls and where they go: the resident's own words at ordering
    contact_name: Mapped[str | None] = mapped_column(String(50))
    contact_phone: Mapped[str | None] = mapped_column(String(20))
    address: Mapped[str | None] = mapped_column(String(200))
    preferred_time: Mapped[object | None] = mapped_column(DateTime(timezone=True))
    menu_item_id: Mapped[int] = mapped_column(ForeignKey("menu_items.id"))
    title: Mapped[str] = mapped_column(String(100))
    description: Mapped[str] = mapped_column(Text, default="")
    answers: Mapped[dict] = mapped_column(JSON, default=dict)
    state: Mapped[str] = mapped_column(String(20), index=True)
    level: Mapped[str] = mapped_column(String(10), default="community", server_default="community")
    members_needed: Mapped[int] = mapped_column(Integer, default=1)
    members_claimed: Mapped[int] = mapped_column(Integer, default=0)
    open_to_all: Mapped[bool] = mapped_column(default=False)
    duplicate_of: Mapped[int | None] = mapped_column(Integer)
    work_unit_ids: Mapped[list] = mapped_column(JSON, default=list)
    rating: Mapped[int | None] = mapped_column(Integer)
    started_at: Mapped[object | None] = mapped_column(DateTime(timezone=True))
    completed_at: Mapped[object | None] = mapped_column(DateTime(timezone=True))
    stated_hours: Mapped[float | None] = mapped_column(Float)  # stated at completion, confirmed in records
    hours_source: Mapped[str | None] = mapped_column(String(10))  # stated | default
    created_at: Mapped[object] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[object] = mapped_column(DateTime(timezone=True), default=utcnow, index=True)
    # optimistic concurrency: every ORM UPDATE checks and bumps it (common.db.version_id)
    version: Mapped[int] = mapped_column(Integer, nullable=False, default=1, server_default="1")
    __mapper_args__ = version_id(version)


class Assignment(Base):
    """A member's part in a request: offered → claimed → done, or declined / handed back / removed."""

    __tablename__ = "assignments"
    __table_args__ = (UniqueConstraint("request_id", "member_id"),
                      Index("ix_assignments_member_status", "member_id", "status"))
    id: Mapped[int] = mapped_column(primary_key=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("requests.id"), index=True)
    member_id: Mapped[int] = mapped_column(Integer, index=True)
    status: Mapped[str] = mapped_column(String(20))
    updated_at: Mapped[object] = mapped_column(DateTime(timezone=True), default=utcnow)


class HistoryEntry(Base):
    """Every transition of a request on the record: who, when, from, to, why."""

    __tablename__ = "request_history"
    id: Mapped[int] = mapped_column(primary_key=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("requests.id"), index=True)
    at: Mapped[object] = mapped_column(DateTime(timezone=True), default=utcnow)
    actor_id: Mapped[int | None] = mapped_column(Integer)
    actor_role: Mapped[str] = mapped_column(String(20))
    action: Mapped[str] = mapped_column(String(30))
    from_state: Mapped[str | None] = mapped_column(String(20))
    to_state: Mapped[str] = mapped_column(String(20))
    reason: Mapped[str] = mapped_column(Text, default="")


class Wish(Base):
    """A micro-wish (微心愿) of a resident in difficulty, claimed by a member or an e-branch."""

    __tablename__ = "wishes"
    id: Mapped[int] = mapped_column(primary_key=True)
    community_id: Mapped[int] = mapped_column(Integer, index=True)
    resident_id: Mapped[int | None] = mapped_column(Integer, index=True)
    beneficiary: Mapped[str] = mapped_column(String(50), default="")
    title: Mapped[str] = mapped_column(String(100))
    description: Mapped[str] = mapped_column(Text, default="")
    state: Mapped[str] = mapped_column(String(20), index=True)
    posted_by: Mapped[int | None] = mapped_column(Integer)
    member_id: Mapped[int | None] = mapped_column(Integer, index=True)
    e_branch_id: Mapped[int | None] = mapped_column(Integer)
    note: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[object] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[object] = mapped_column(DateTime(timezone=True), default=utcnow)
    # optimistic concurrency: every ORM UPDATE checks and bumps it (common.db.version_id)
    version: Mapped[int] = mapped_column(Integer, nullable=False, default=1, server_default="1")
    __mapper_args__ = version_id(version)


class Opinion(Base):
    """A suggestion or complaint (民意), tracked to resolution under supervision."""

    __tablename__ = "opinions"
    id: Mapped[int] = mapped_column(primary_key=True)
    community_id: Mapped[int] = mapped_column(Integer, index=True)
    street_id: Mapped[int | None] = mapped_column(Integer, index=True)
    district_id: Mapped[int | None] = mapped_column(Integer)
    resident_id: Mapped[int | None] = mapped_column(Integer, index=True)
    kind: Mapped[str] = mapped_column(String(12))
    title: Mapped[str] = mapped_column(String(100))
    content: Mapped[str] = mapped_column(Text)
    state: Mapped[str] = mapped_column(String(20), index=True)
    assignee: Mapped[str] = mapped_column(String(100), default="")
    due_at: Mapped[object | None] = mapped_column(DateTime(timezone=True))
    overdue: Mapped[bool] = mapped_column(Boolean, default=False)
    supervision_level: Mapped[str] = mapped_column(String(10), default="community")
    resolution: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[object] = mapped_column(DateTime(timezone=True), default=utcnow)
    resolved_at: Mapped[object | None] = mapped_column(DateTime(timezone=True))
    # optimistic concurrency: every ORM UPDATE checks and bumps it (common.db.version_id)
    version: Mapped[int] = mapped_column(Integer, nullable=False, default=1, server_default="1")
    __mapper_args__ = version_id(version)


class Transition(Base):
    """The history of wishes and opinions (requests keep theirs in ``request_history``)."""

    __tablename__ = "transitions"
    __table_args__ = (Index("ix_transitions_subject", "subject", "subject_id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    subject: Mapped[str] = mapped_column(String(10))  # wish | opinion
    subject_id: Mapped[int] = mapped_column(Integer)
    at: Mapped[object] = mapped_column(DateTime(timezone=True), default=utcnow)
    actor_id: Mapped[int | None] = mapped_column(Integer)
    actor_role: Mapped[str] = mapped_column(String(20))
    action: Mapped[str] = mapped_column(String(30))
    from_state: Mapped[str | None] = mapped_column(String(20))
    to_state: Mapped[str] = mapped_column(String(20))
    reason: Mapped[str] = mapped_column(Text, default="")


class IdempotencyKey(Base):
    """The first result of a command sent with an Idempotency-Key; a retry gets it back."""

    __tablename__ = "idempotency_keys"
    __table_args__ = (UniqueConstraint("scope", "key"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    scope: Mapped[str] = mapped_column(String(40))  # the caller: role:user_id
    key: Mapped[str] = mapped_column(String(100))
    command: Mapped[str] = mapped_column(String(40))
    result: Mapped[dict] = mapped_column(JSON)
    created_at: Mapped[object] = mapped_column(DateTime(timezone=True), default=utcnow, index=True)
