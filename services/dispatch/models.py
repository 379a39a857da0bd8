"""Dispatch's tables: service menus, requests, who they went to, and their full history."""

from sqlalchemy import JSON, DateTime, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from common.db import new_metadata, utcnow


class Base(DeclarativeBase):
    metadata = new_metadata()


class MenuItem(Base):
    """One kind of request a community takes (服务菜单), with its fields and points."""

    __tablename__ = "menu_items"
    id: Mapped[int] = mapped_column(primary_key=True)
    community_id: Mapped[int] = mapped_column(Integer, index=True)
    title: Mapped[str] = mapped_column(String(100))
    category: Mapped[str] = mapped_column(String(50))
    description: Mapped[str] = mapped_column(Text, default="")
    skills: Mapped[list] = mapped_column(JSON, default=list)
    fields: Mapped[list] = mapped_column(JSON, default=list)
    points: Mapped[int] = mapped_column(Integer, default=10)
    members_needed: Mapped[int] = mapped_column(Integer, default=1)
    active: Mapped[bool] = mapped_column(default=True)


class Request(Base):
    """A resident's order (点单) and where it stands."""

    __tablename__ = "requests"
    id: Mapped[int] = mapped_column(primary_key=True)
    community_id: Mapped[int] = mapped_column(Integer, index=True)
    street_id: Mapped[int | None] = mapped_column(Integer, index=True)
    district_id: Mapped[int | None] = mapped_column(Integer)
    resident_id: Mapped[int] = mapped_column(Integer, index=True)
    menu_item_id: Mapped[int] = mapped_column(ForeignKey("menu_items.id"))
    title: Mapped[str] = mapped_column(String(100))
    description: Mapped[str] = mapped_column(Text, default="")
    answers: Mapped[dict] = mapped_column(JSON, default=dict)
    state: Mapped[str] = mapped_column(String(20), index=True)
    members_needed: Mapped[int] = mapped_column(Integer, default=1)
    members_claimed: Mapped[int] = mapped_column(Integer, default=0)
    open_to_all: Mapped[bool] = mapped_column(default=False)
    rating: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[object] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[object] = mapped_column(DateTime(timezone=True), default=utcnow)


class Assignment(Base):
    """A member's part in a request: offered, then claimed."""

    __tablename__ = "assignments"
    __table_args__ = (UniqueConstraint("request_id", "member_id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("requests.id"), index=True)
    member_id: Mapped[int] = mapped_column(Integer, index=True)
    status: Mapped[str] = mapped_column(String(20))  # offered | claimed
    updated_at: Mapped[object] = mapped_column(DateTime(timezone=True), default=utcnow)


class HistoryEntry(Base):
    """Every transition on the record: who, when, from, to, why."""

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
