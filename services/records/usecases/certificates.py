"""Certificates (志愿服务证明): issued by the community that recorded the service, verifiable by anyone."""

import base64
from datetime import UTC, datetime, time, timedelta, timezone

from sqlalchemy import select

from common.db import IntegrityError, Store, utcnow
from common.errors import Conflict, Forbidden, NotFound, Unprocessable
from common.schemas import load
from services.records import domain, pdf, schemas
from services.records.models import Certificate, Entry, Volunteer
from services.records.usecases._common import aware, place_of, volunteer_number
from services.records.usecases.entries import load_actor

CHINA = timezone(timedelta(hours=8))


def _beijing_today():
    return utcnow().astimezone(CHINA).date()


def certificate_row(c: Certificate) -> dict:
    row = {col.key: getattr(c, col.key) for col in Certificate.__table__.columns}
    row.update(revoked_at=aware(c.revoked_at), issued_at=aware(c.issued_at), valid=c.revoked_at is None,
               verify_path=f"/verify/{c.number}")
    return schemas.CertificateView().dump(row)


def _by_number(session, number: str, *, lock=False) -> Certificate:
    stmt = select(Certificate).where(Certificate.number == number)
    if lock:
        stmt = stmt.with_for_update()
    cert = session.scalar(stmt)
    if cert is None:
        raise NotFound(code="CERTIFICATE_NOT_FOUND", message="没有这个编号的志愿服务证明")
    return cert


def _already_issued(session, actor: dict, idempotency_key: str | None) -> Certificate | None:
    if not idempotency_key:
        return None
    return session.scalar(select(Certificate).where(Certificate.issued_by == actor["user_id"],
                                                    Certificate.idempotency_key == idempotency_key))


def issue(store: Store, registration, actor: dict, payload: dict, idempotency_key: str | None = None) -> dict:
    """谁记录谁证明: the community's staff certify the hours their community recorded and confirmed.

    The same ``Idempotency-Key`` from the same person answers with the certificate already issued.
    """
    actor = load_actor(actor)
    data = load(schemas.IssueCertificate, payload)
    with store.sessionmaker() as session:
        done = _already_issued(session, actor, idempotency_key)
        if done is not None:
            return certificate_row(done)
    community_id = data["community_id"] if data["community_id"] is not None else actor.get("community_id")
    if community_id is None:
        raise Forbidden(code="COMMUNITY_REQUIRED", message="请指明出具证明的社区（community_id）")
    place = place_of(registration, community_id)
    domain.check_can_record(actor, community_id, place, "records.records_issue_certificate")
    today = _beijing_today()
    domain.check_period(data["since"], data["until"], today)
    # Beijing days, compared in UTC: SQLite keeps the stored UTC times without their offset
    start = datetime.combine(data["since"], time.min, CHINA).astimezone(UTC)
    end = datetime.combine(data["until"] + timedelta(days=1), time.min, CHINA).astimezone(UTC)
    with store.uow() as uow:
        session = uow.session
        member = session.get(Volunteer, data["member_id"])
        if member is None or not member.name:
            raise NotFound(code="RECORD_NOT_FOUND", message="该党员还没有志愿服务记录")
        entries = session.scalars(select(Entry).where(
            Entry.member_id == member.member_id, Entry.community_id == community_id,
            Entry.status == domain.CONFIRMED, Entry.served_at >= start, Entry.served_at < end)).all()
        rows = [{"title": e.title, "source": e.source, "confirmed_hours": e.confirmed_hours,
                 "status": e.status} for e in entries]
        hours = domain.counted_hours(rows)
        if not hours:
            raise Unprocessable(code="NO_CONFIRMED_HOURS", fields={"since": ["该时间段内本社区没有已确认的服务时长"]},
                                message="该时间段内没有本社区记录并确认的服务时长，不能出具证明")
        cert = Certificate(number=f"pending-{member.member_id}-{utcnow().timestamp()}", member_id=member.member_id,
                           community_id=community_id, issuer_name=place["name"], member_name=member.name,
                           id_number_masked=member.id_number_masked or "",
                           volunteer_number=member.volunteer_number or volunteer_number(member.member_id),
                           since=data["since"], until=data["until"], hours=hours, services=len(rows),
                           summary=domain.content_summary(rows), issued_on=today, issued_by=actor["user_id"],
                           issued_at=utcnow(), idempotency_key=idempotency_key)
        session.add(cert)
        try:
            session.flush()
        except IntegrityError:  # the same key raced in: answer with the first
            session.rollback()
            return certificate_row(_already_issued(session, actor, idempotency_key))
        cert.number = domain.certificate_number(today, cert.id)
        session.flush()
        uow.emit("certificate.issued", {"number": cert.number, "member_id": cert.member_id,
                                        "community_id": community_id, "hours": hours})
        view = certificate_row(cert)
        uow.commit()
    return view


def _check_can_read(actor: dict, registration, cert: Certificate):
    domain.check_can_record(actor, cert.community_id, place_of(registration, cert.community_id),
                            "records.records_certificate_pdf", owner_id=cert.member_id)


def list_certificates(store: Store, registration, actor: dict, query: dict) -> list[dict]:
    actor = load_actor(actor)
    q = load(schemas.CertificateQuery, query)
    stmt = select(Certificate)
    if actor["role"] in ("member", "grid_leader"):
        stmt = stmt.where(Certificate.member_id == actor["user_id"])
    else:
        community_id = q["community_id"] if q["community_id"] is not None else actor.get("community_id")
        domain.check_can_record(actor, community_id, place_of(registration, community_id),
                                "records.records_certificates")
        stmt = stmt.where(Certificate.community_id == community_id)
    if q["member_id"] is not None:
        stmt = stmt.where(Certificate.member_id == q["member_id"])
    with store.uow() as uow:
        return [certificate_row(c) for c in uow.session.scalars(stmt.order_by(Certificate.id.desc()).limit(200))]


def download(store: Store, registration, actor: dict, number: str, base_url: str) -> dict:
    actor = load_actor(actor)
    with store.uow() as uow:
        cert = _by_number(uow.session, number)
        _check_can_read(actor, registration, cert)
        facts = {c.key: getattr(cert, c.key) for c in Certificate.__table__.columns}
    if facts["revoked_at"] is not None:
        raise Conflict(code="CERTIFICATE_REVOKED", message="该证明已撤销，不能再下载")
    content = pdf.render(facts, f"{base_url.rstrip('/')}/verify/{number}")
    return schemas.File().dump({"filename": f"volunteer-certificate-{number}.pdf", "content_type": "application/pdf",
                                "content_base64": base64.b64encode(content).decode()})


def revoke(store: Store, registration, actor: dict, number: str, payload: dict) -> dict:
    actor = load_actor(actor)
    data = load(schemas.Revoke, payload)
    with store.sessionmaker() as session:
        community_id = _by_number(session, number).community_id
    domain.check_can_record(actor, community_id, place_of(registration, community_id),
                            "records.records_revoke_certificate")
    with store.uow() as uow:
        cert = _by_number(uow.session, number, lock=True)
        if cert.revoked_at is not None:
            raise Conflict(code="ALREADY_REVOKED", message="该证明已撤销")
        cert.revoked_at, cert.revoked_by, cert.revoke_reason = utcnow(), actor["user_id"], data["reason"]
        uow.emit("certificate.revoked", {"number": cert.number, "member_id": cert.member_id,
                                         "community_id": cert.community_id, "reason": data["reason"]})
        view = certificate_row(cert)
        uow.commit()
    return view


def verify(store: Store, number: str) -> dict:
    """Public: anyone with the number (the QR code) sees whether it is genuine and still valid."""
    with store.uow() as uow:
        cert = _by_number(uow.session, (number or "").strip().upper())
        facts = {c.key: getattr(cert, c.key) for c in Certificate.__table__.columns}
    facts["revoked_at"] = aware(facts["revoked_at"])
    if facts["revoked_at"] is not None:
        facts["revoked_at"] = facts["revoked_at"].astimezone(CHINA)
    return schemas.Verification().dump(domain.verification(facts))
