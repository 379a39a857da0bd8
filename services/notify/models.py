"""Notify's tables: notices (one per source event and kind), the in-app inbox, the per-channel
delivery outbox, people's preferences and each community's channel settings."""

from sqlalchemy import JSON, Boolean, DateTime, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from common.db import new_metadata, utcnow


class Base(DeclarativeBase):
    metadata = new_metadata()


class Notice(Base):
    """What an event (or a staff member) asked to tell whom; its audience is resolved later, in
    bounded batches, by the fan-out worker, so a notice to a whole street holds nothing up."""

    __tablename__ = "notices"
    id: Mapped[int] = mapped_column(primary_key=True)
    dedup_key: Mapped[str] = mapped_column(String(160), unique=True)
    source_event_id: Mapped[str | None] = mapped_column(String(80), index=True)
    kind: Mapped[str] = mapped_column(String(40))
    title: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)
    urgent: Mapped[bool] = mapped_column(Boolean, default=False)
    community_id: Mapped[int | None] = mapped_column(Integer, index=True)
    street_id: Mapped[int | None] = mapped_column(Integer)
    e_branch_id: Mapped[int | None] = mapped_column(Integer)
    audience: Mapped[dict | None] = mapped_column(JSON)
    recipient_ids: Mapped[list | None] = mapped_column(JSON)
    group_post: Mapped[bool] = mapped_column(Boolean, default=False)
    webhook: Mapped[bool] = mapped_column(Boolean, default=False)
    data: Mapped[dict | None] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(20), default="pending", index=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[object] = mapped_column(DateTime(timezone=True), default=utcnow)
    lease_until: Mapped[object | None] = mapped_column(DateTime(timezone=True))
    recipients: Mapped[int] = mapped_column(Integer, default=0)
    error: Mapped[str | None] = mapped_column(Text)
    created_by: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[object] = mapped_column(DateTime(timezone=True), default=utcnow)
    done_at: Mapped[object | None] = mapped_column(DateTime(timezone=True))


class Message(Base):
    """The in-app inbox: its row is the inbox channel's delivery (dedup_key unique)."""

    __tablename__ = "messages"
    id: Mapped[int] = mapped_column(primary_key=True)
    dedup_key: Mapped[str] = mapped_column(String(160), unique=True)
    recipient_id: Mapped[int] = mapped_column(Integer, index=True)
    channel: Mapped[str] = mapped_column(String(20), default="inbox")
    kind: Mapped[str] = mapped_column(String(40))
    title: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[object] = mapped_column(DateTime(timezone=True), default=utcnow)
    read_at: Mapped[object | None] = mapped_column(DateTime(timezone=True))
    notice_id: Mapped[int | None] = mapped_column(Integer, index=True)


class Delivery(Base):
    """The outbox of every channel but the inbox: one row per message, channel and target."""

    __tablename__ = "deliveries"
    __table_args__ = (Index("ix_deliveries_due", "status", "next_attempt_at"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    dedup_key: Mapped[str] = mapped_column(String(200), unique=True)
    notice_id: Mapped[int | None] = mapped_column(Integer, index=True)
    kind: Mapped[str] = mapped_column(String(40))
    channel: Mapped[str] = mapped_column(String(20))
    recipient_id: Mapped[int | None] = mapped_column(Integer, index=True)
    setting_id: Mapped[int | None] = mapped_column(Integer)
    community_id: Mapped[int | None] = mapped_column(Integer, index=True)
    street_id: Mapped[int | None] = mapped_column(Integer)
    title: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)
    urgent: Mapped[bool] = mapped_column(Boolean, default=False)
    status: Mapped[str] = mapped_column(String(20), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[object] = mapped_column(DateTime(timezone=True), default=utcnow)
    lease_until: Mapped[object | None] = mapped_column(DateTime(timezone=True))
    lease_token: Mapped[str | None] = mapped_column(String(40))
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[object] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[object] = mapped_column(DateTime(timezone=True), default=utcnow)
    sent_at: Mapped[object | None] = mapped_column(DateTime(timezone=True))


class Preference(Base):
    """A person's channels, opt-outs and quiet hours; contact details only they see."""

    __tablename__ = "preferences"
    user_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    channels: Mapped[list] = mapped_column(JSON, default=list)
    opt_outs: Mapped[list] = mapped_column(JSON, default=list)
    quiet_hours: Mapped[dict | None] = mapped_column(JSON)
    digest: Mapped[bool] = mapped_column(Boolean, default=False)
    phone: Mapped[str | None] = mapped_column(String(20))
    email: Mapped[str | None] = mapped_column(String(120))
    updated_at: Mapped[object] = mapped_column(DateTime(timezone=True), default=utcnow)


class ChannelSetting(Base):
    """A channel's URL and secrets for one community (community_id NULL: platform-wide default)."""

    __tablename__ = "channel_settings"
    __table_args__ = (UniqueConstraint("community_id", "channel", "name", name="uq_channel_settings_target"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    community_id: Mapped[int | None] = mapped_column(Integer, index=True)
    channel: Mapped[str] = mapped_column(String(20))
    name: Mapped[str] = mapped_column(String(60), default="default")
    e_branch_id: Mapped[int | None] = mapped_column(Integer)
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    config: Mapped[dict] = mapped_column(JSON, default=dict)
    kinds: Mapped[list] = mapped_column(JSON, default=list)
    updated_by: Mapped[int | None] = mapped_column(Integer)
    updated_at: Mapped[object] = mapped_column(DateTime(timezone=True), default=utcnow)
