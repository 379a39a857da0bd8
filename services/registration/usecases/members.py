"""Members: the registration lifecycle (sign up, submit, accept/reject/revoke, transfer, profile) and member views."""

from datetime import date

from sqlalchemy import delete, insert, select

import authz
from common import config
from common.actors import Actor
from common.db import Store, retried_on_conflict, utcnow
from common.errors import Conflict, NotFound, ValidationFailed
from common.masking import mask_id_number
from common.schemas import load
from services.registration import domain, schemas
from services.registration.models import (
    Commitment,
    FreeTime,
    Member,
    MemberPost,
    MemberSkill,
    OrgUnit,
    RegistrationHistory,
    ServicePost,
    SignupReview,
    TeamMember,
    User,
)
from services.registration.usecases._common import _chunks
from services.registration.usecases.accounts import bump_token_version, hash_password
from services.registration.usecases.tree import _locate, _place
from services.registration.usecases.work_units import _work_unit, _work_unit_by_name


def id_hash_key() -> bytes:
    return config.secret("ID_HASH_KEY")


# ---- members: views -------------------------------------------------------------------------

def _names(session, ids) -> dict:
    ids = {i for i in ids if i is not None}
    if not ids:
        return {}
    return dict(session.execute(select(OrgUnit.id, OrgUnit.name).where(OrgUnit.id.in_(ids))).all())


def _views(session, members: list[Member]) -> list[dict]:
    """Members with their posts, free time and commitments, loaded in a few batched queries."""
    ids = [m.id for m in members]
    posts, windows, commitments = {}, {}, {}
    for chunk in _chunks(ids):
        for member_id, post_id, name, category in session.execute(
                select(MemberPost.member_id, ServicePost.id, ServicePost.name, ServicePost.category)
                .join(ServicePost, ServicePost.id == MemberPost.post_id)
                .where(MemberPost.member_id.in_(chunk)).order_by(ServicePost.sort, ServicePost.id)):
            posts.setdefault(member_id, []).append({"id": post_id, "name": name, "category": category})
        for w in session.scalars(select(FreeTime).where(FreeTime.member_id.in_(chunk))
                                 .order_by(FreeTime.weekday, FreeTime.start_minute)):
            windows.setdefault(w.member_id, []).append({
                "weekday": w.weekday, "start": f"{w.start_minute // 60:02d}:{w.start_minute % 60:02d}",
                "end": f"{w.end_minute // 60:02d}:{w.end_minute % 60:02d}",
                "label": domain.describe_window(w.weekday, w.start_minute, w.end_minute)})
        year = date.today().year
        for c in session.scalars(select(Commitment).where(Commitment.member_id.in_(chunk), Commitment.year == year)
                                 .order_by(Commitment.id)):
            commitments.setdefault(c.member_id, []).append(c.text)
    names = _names(session, {m.community_id for m in members} | {m.grid_id for m in members}
                    | {m.building_id for m in members})
    return [{
        "id": m.id, "name": m.name, "phone": m.phone, "community_id": m.community_id,
        "community_name": names.get(m.community_id), "grid_id": m.grid_id, "grid_name": names.get(m.grid_id),
        "building_id": m.building_id, "building_name": names.get(m.building_id),
        "work_unit": m.work_unit, "work_unit_id": m.work_unit_id, "party_org": m.party_org,
        "profession": m.profession, "e_branch_id": m.e_branch_id, "skills": list(m.skills or []),
        "posts": posts.get(m.id, []), "free_time": windows.get(m.id, []),
        "commitments": commitments.get(m.id, []), "status": m.status,
        "status_label": domain.STATUS_LABELS.get(m.status, m.status), "decision_reason": m.decision_reason,
        "revoked_on": m.revoked_on, "source": m.source, "registered_at": m.registered_at,
    } for m in members]


def _shown(actor: dict, member: dict) -> dict:
    member = dict(member, phone=authz.shown_phone(actor, member["phone"], domain.phone_subject(member)))
    return schemas.Member().dump(member)


def _member(session, member_id: int, *, lock=False) -> Member:
    query = select(Member).where(Member.id == member_id)
    if lock:
        query = query.with_for_update()
    member = session.scalar(query)
    if member is None:
        raise NotFound(code="MEMBER_NOT_FOUND", message="找不到该党员")
    return member


def _facts(session, member: Member) -> dict:
    """The member's place in the tree, as the member.* events and member_facts carry it."""
    user = session.get(User, member.id)
    return {"member_id": member.id, "name": member.name, "community_id": member.community_id,
            "street_id": user.street_id if user else None, "district_id": user.district_id if user else None,
            "grid_id": member.grid_id, "building_id": member.building_id, "work_unit_id": member.work_unit_id,
            "e_branch_id": member.e_branch_id, "skills": list(member.skills or []),
            "id_number_masked": member.id_number_masked}


def member_facts_for_policy(session, member: Member) -> dict:
    """A member's record as the policy reads it: the person, their place in the tree, their employer."""
    user = session.get(User, member.id)
    return authz.facts(owner_ids=[member.id], grid_id=member.grid_id, community_id=member.community_id,
                       street_id=user.street_id if user else None, district_id=user.district_id if user else None,
                       work_unit_ids=[member.work_unit_id])


def _check_can_view_private(session, actor: dict, member: Member, action: str = "registration.card"):
    """History, the card: the member, staff above them, their work unit's organisation."""
    authz.check(actor, action, member_facts_for_policy(session, member), message="您不能查看该党员的报到记录")


def get_member(store: Store, actor: dict, member_id: int) -> dict:
    actor = load(Actor, actor)
    with store.uow() as uow:
        member = _member(uow.session, member_id)
        authz.check(actor, "registration.get_member", member_facts_for_policy(uow.session, member),
                    message="您不能查看该党员的报到信息")
        return _shown(actor, _views(uow.session, [member])[0])


def member_history(store: Store, actor: dict, member_id: int) -> list[dict]:
    actor = load(Actor, actor)
    with store.uow() as uow:
        member = _member(uow.session, member_id)
        _check_can_view_private(uow.session, actor, member, "registration.member_history")
        rows = uow.session.scalars(select(RegistrationHistory).where(RegistrationHistory.member_id == member_id)
                                   .order_by(RegistrationHistory.id)).all()
        return schemas.HistoryEntry(many=True).dump(rows)


# ---- members: registering -------------------------------------------------------------------

def _record(session, member: Member, actor: dict, action: str, reason: str = ""):
    session.add(RegistrationHistory(
        member_id=member.id, action=action, status=member.status, community_id=member.community_id,
        grid_id=member.grid_id, building_id=member.building_id, work_unit_id=member.work_unit_id,
        work_unit=member.work_unit, reason=reason or "", actor_id=actor.get("user_id"), actor_role=actor["role"],
        at=utcnow()))


def _set_skills(session, member: Member, skills: list[str]):
    member.skills = skills
    session.execute(delete(MemberSkill).where(MemberSkill.member_id == member.id))
    if skills:
        session.execute(insert(MemberSkill), [{"member_id": member.id, "skill": s, "community_id": member.community_id}
                                              for s in skills])


def _check_posts(session, community_id: int, post_ids: list[int]) -> list[int]:
    post_ids = list(dict.fromkeys(post_ids))
    if not post_ids:
        return []
    found = set(session.scalars(select(ServicePost.id).where(
        ServicePost.id.in_(post_ids), ServicePost.community_id == community_id, ServicePost.active)))
    missing = [p for p in post_ids if p not in found]
    if missing:
        raise ValidationFailed(fields={"post_ids": [f"本社区没有这些服务岗位：{missing}"]})
    return post_ids


def _set_posts(session, member: Member, post_ids: list[int]):
    session.execute(delete(MemberPost).where(MemberPost.member_id == member.id))
    if post_ids:
        session.execute(insert(MemberPost), [{"member_id": member.id, "post_id": p} for p in post_ids])


def _set_free_time(session, member: Member, windows: list[tuple[int, int, int]]):
    session.execute(delete(FreeTime).where(FreeTime.member_id == member.id))
    if windows:
        session.execute(insert(FreeTime), [{"member_id": member.id, "weekday": d, "start_minute": s,
                                            "end_minute": e} for d, s, e in windows])


def _set_commitments(session, member: Member, texts: list[str]):
    year = date.today().year
    session.execute(delete(Commitment).where(Commitment.member_id == member.id, Commitment.year == year))
    if texts:
        session.execute(insert(Commitment), [{"member_id": member.id, "year": year, "text": t} for t in texts])


def _checked_details(session, data: dict) -> dict:
    """Identity, place, work unit, posts and free time checked; every field error at once."""
    errors = {}
    try:
        domain.check_identity(data["phone"], data["id_number"])
    except ValidationFailed as err:
        errors.update(err.fields)
    try:
        domain.check_place(_place(session, data["community_id"]), _place(session, data["grid_id"]),
                           _place(session, data["building_id"]), grid_id=data["grid_id"],
                           building_id=data["building_id"])
    except ValidationFailed as err:
        errors.update(err.fields)
    windows = []
    try:
        windows = domain.expand_windows(data["free_time"])
    except ValidationFailed as err:
        errors.update(err.fields)
    if errors:
        raise ValidationFailed(fields=errors)
    post_ids = _check_posts(session, data["community_id"], data["post_ids"])
    if data.get("work_unit_id") is not None:
        unit = _work_unit(session, data["work_unit_id"])
    else:
        unit = _work_unit_by_name(session, data["work_unit"], data["party_org"])
    return {"windows": windows, "post_ids": post_ids, "unit": unit, "skills": domain.normalise_skills(data["skills"]),
            "id_hash": domain.hash_id_number(data["id_number"], id_hash_key()),
            "id_masked": mask_id_number(data["id_number"])}


def _fill(session, member: Member, data: dict, checked: dict):
    unit = checked["unit"]
    member.name, member.phone = data["name"], data["phone"]
    member.id_number_masked = checked.get("id_masked", member.id_number_masked)
    member.community_id, member.grid_id, member.building_id = data["community_id"], data["grid_id"], data["building_id"]
    member.work_unit_id = unit.id if unit else None
    member.work_unit = unit.name if unit else None
    member.party_org = data["party_org"] or (unit.party_org if unit else None)
    member.profession = data["profession"]
    member.updated_at = utcnow()
    session.flush()
    _set_skills(session, member, checked["skills"])
    _set_posts(session, member, checked["post_ids"])
    _set_free_time(session, member, checked["windows"])
    _set_commitments(session, member, data["commitments"])


def _check_unique(session, id_hash: str, phone: str, member_id=None):
    other = session.scalar(select(Member.id).where(Member.id_number_hash == id_hash))
    if other is not None and other != member_id:
        raise Conflict(code="DUPLICATE_REGISTRATION", message="该身份证号码已有报到登记，不能重复登记",
                       fields={"id_number": ["已登记"]})
    other = session.scalar(select(User.id).where(User.username == phone))
    if other is not None and other != member_id:
        raise Conflict(code="DUPLICATE_PHONE", message="该手机号码已被其他账号使用", fields={"phone": ["已被使用"]})


def _new_member(session, data, checked, *, user: User | None, status: str, source: str, password_hash) -> Member:
    if user is None:
        user = User(username=data["phone"], password_hash=password_hash, role="member", name=data["name"],
                    phone=data["phone"], active=True, created_at=utcnow())
        session.add(user)
        session.flush()
    member = Member(id=user.id, id_number_hash=checked["id_hash"], id_number_masked=checked["id_masked"],
                    status=status, source=source,
                    registered_at=utcnow(), community_id=data["community_id"])
    session.add(member)
    _fill(session, member, data, checked)
    _sync_user(session, member)
    return member


def _sync_user(session, member: Member):
    user = session.get(User, member.id)
    user.name, user.phone = member.name, member.phone
    if user.username != member.phone and user.role == "member":
        user.username = member.phone  # members sign in with their phone number
    _locate(session, user, member.building_id or member.grid_id or member.community_id)
    user.work_unit_id, user.e_branch_id = member.work_unit_id, member.e_branch_id


def register_member(store: Store, actor: dict, payload: dict) -> dict:
    """Community staff enter a member of their community: accepted at once."""
    actor = load(Actor, actor)
    data = load(schemas.RegisterMember, payload)
    domain.check_can_register(actor, data["community_id"])
    password_hash = hash_password(data["password"]) if data["password"] else None
    with store.uow() as uow:
        session = uow.session
        checked = _checked_details(session, data)
        _check_unique(session, checked["id_hash"], data["phone"])
        member = _new_member(session, data, checked, user=None, status=domain.ACCEPTED, source="staff",
                             password_hash=password_hash)
        member.decided_at = utcnow()
        _record(session, member, actor, "accept", "社区工作人员登记")
        session.flush()
        uow.emit("member.accepted", _facts(session, member))
        view = _views(session, [member])[0]
        uow.commit()
    return _shown(actor, view)


SIGNUP_RECEIPT = {"status": domain.SUBMITTED, "status_label": domain.STATUS_LABELS[domain.SUBMITTED],
                  "message": "报到信息已提交，请等待社区审核；审核进度请用手机号码和密码登录后查看，"
                             "如有疑问社区工作人员会与您联系"}
REVIEW_LABELS = {"id_number_registered": "身份证号码已有报到登记", "phone_in_use": "手机号码已有账号"}


def sign_up(store: Store, payload: dict) -> dict:
    """A member reports in without an account yet: one is made, the registration awaits the community.

    Finding 7: the answer is the same whether or not the ID number or phone is already known (no
    oracle); a collision goes to the community's review queue (``signup_reviews``) instead.
    """
    data = load(schemas.SignUp, payload)
    password_hash = hash_password(data["password"])  # the same cost on every path
    with store.uow() as uow:
        session = uow.session
        checked = _checked_details(session, data)
        reason = None
        if session.scalar(select(Member.id).where(Member.id_number_hash == checked["id_hash"])) is not None:
            reason = "id_number_registered"
        elif session.scalar(select(User.id).where(User.username == data["phone"])) is not None:
            reason = "phone_in_use"
        if reason:
            session.add(SignupReview(community_id=data["community_id"], name=data["name"], phone=data["phone"],
                                     reason=reason, created_at=utcnow()))
        else:
            member = _new_member(session, data, checked, user=None, status=domain.SUBMITTED, source="self",
                                 password_hash=password_hash)
            _record(session, member, {"user_id": member.id, "role": "applicant"}, "submit")
            session.flush()
            uow.emit("member.registered", _facts(session, member))
        uow.commit()
    return schemas.SignUpReceipt().dump(SIGNUP_RECEIPT)


def list_signup_reviews(store: Store, actor: dict, community_id: int) -> list[dict]:
    actor = load(Actor, actor)
    authz.check(actor, "registration.signup_reviews", authz.facts(community_id=community_id),
                message="只能查看本社区的待核实报到")
    with store.sessionmaker() as session:
        rows = session.scalars(select(SignupReview).where(SignupReview.community_id == community_id)
                               .order_by(SignupReview.id.desc()).limit(200)).all()
        return schemas.SignupReviewView(many=True).dump([
            {**{c.key: getattr(r, c.key) for c in SignupReview.__table__.columns},
             "reason_label": REVIEW_LABELS.get(r.reason, r.reason)} for r in rows])


@retried_on_conflict
def submit_registration(store: Store, actor: dict, payload: dict) -> dict:
    """A member account (re)submits its registration: after a rejection, a revocation, or for the first time."""
    actor = load(Actor, actor)
    data = load(schemas.RegistrationDetails, payload)
    authz.check(actor, "registration.submit_registration", message="只有党员账号可以提交报到")
    with store.uow() as uow:
        session = uow.session
        user = session.get(User, actor["user_id"])
        if user is None:
            raise NotFound(message="找不到您的账号")
        checked = _checked_details(session, data)
        _check_unique(session, checked["id_hash"], data["phone"], member_id=user.id)
        member = session.get(Member, user.id)
        if member is None:
            member = _new_member(session, data, checked, user=user, status=domain.SUBMITTED, source="self",
                                 password_hash=None)
            _record(session, member, actor, "submit")
        else:
            if member.id_number_hash != checked["id_hash"]:
                raise ValidationFailed(fields={"id_number": ["与您账号已登记的身份证号码不一致"]})
            if member.status in (domain.SUBMITTED, domain.ACCEPTED):
                raise Conflict(code="ALREADY_REGISTERED",
                               message="您已有有效的报到登记，不能重复提交；搬家或换工作请办理转移",
                               details={"current_status": member.status})
            member.status = domain.next_status(member.status, "resubmit")
            member.decision_reason, member.revoked_on, member.decided_at = None, None, None
            _fill(session, member, data, checked)
            _sync_user(session, member)
            _record(session, member, actor, "resubmit")
        session.flush()
        uow.emit("member.registered", _facts(session, member))
        view = _views(session, [member])[0]
        uow.commit()
    return _shown(actor, view)


@retried_on_conflict
def _decide(store: Store, actor: dict, member_id: int, action: str, reason: str, *, revoked_on=None) -> dict:
    with store.uow() as uow:
        session = uow.session
        member = _member(session, member_id, lock=True)
        domain.check_can_decide(actor, member.community_id)
        member.status = domain.next_status(member.status, action)
        bump_token_version(session, member.id)  # the old token's role and scope end with the decision
        member.decided_at = utcnow()
        member.decision_reason = reason or None
        if action == "revoke":
            member.revoked_on = revoked_on or date.today()
        _record(session, member, actor, action, reason)
        session.flush()
        if action == "accept" and member.moving_from is not None:
            # a move accepted by the new community: now it has happened (scoring, records follow it)
            uow.emit("member.transferred", {**_facts(session, member), "from_community_id": member.moving_from,
                                            "from_work_unit_id": member.work_unit_id, "reason": reason or "迁入"})
            member.moving_from = None
        elif action == "accept":
            uow.emit("member.accepted", _facts(session, member))
        elif action == "reject":
            uow.emit("member.rejected", {"member_id": member.id, "community_id": member.community_id,
                                         "reason": reason})
        else:
            uow.emit("member.revoked", {"member_id": member.id, "community_id": member.community_id,
                                        "reason": reason, "revoked_on": member.revoked_on.isoformat()})
        view = _views(session, [member])[0]
        uow.commit()
    return _shown(actor, view)


def accept_member(store: Store, actor: dict, member_id: int, payload: dict | None = None) -> dict:
    actor = load(Actor, actor)
    data = load(schemas.Decision, payload or {})
    return _decide(store, actor, member_id, "accept", data["reason"])


def reject_member(store: Store, actor: dict, member_id: int, payload: dict) -> dict:
    actor = load(Actor, actor)
    data = load(schemas.Decision, payload)
    domain.check_reason(data["reason"])
    return _decide(store, actor, member_id, "reject", data["reason"])


def revoke_member(store: Store, actor: dict, member_id: int, payload: dict) -> dict:
    actor = load(Actor, actor)
    data = load(schemas.Revoke, payload)
    domain.check_reason(data["reason"])
    return _decide(store, actor, member_id, "revoke", data["reason"], revoked_on=data["revoked_on"])


@retried_on_conflict
def transfer_member(store: Store, actor: dict, member_id: int, payload: dict) -> dict:
    """Moving home or job: the one registration moves; the old place stays in the history."""
    actor = load(Actor, actor)
    data = load(schemas.Transfer, payload)
    moves_home = data["community_id"] is not None
    moves_job = data["work_unit_id"] is not None or bool(data["work_unit"])
    if not moves_home and not moves_job and data["grid_id"] is None and data["building_id"] is None:
        raise ValidationFailed(fields={"community_id": ["请填写新的社区或新的工作单位"]})
    with store.uow() as uow:
        session = uow.session
        member = _member(session, member_id, lock=True)
        if actor.get("user_id") != member.id:
            domain.check_can_decide(actor, member.community_id)
        before_community, before_unit = member.community_id, member.work_unit_id
        community_id = data["community_id"] if moves_home else member.community_id
        moves_community = community_id != before_community
        # a move to another community is a registration there, until its staff accept it
        member.status = domain.next_status(member.status, "move" if moves_community else "transfer")
        grid_id = data["grid_id"] if (moves_home or data["grid_id"] is not None) else member.grid_id
        building_id = data["building_id"] if (moves_home or data["grid_id"] is not None
                                              or data["building_id"] is not None) else member.building_id
        domain.check_place(_place(session, community_id), _place(session, grid_id), _place(session, building_id),
                           grid_id=grid_id, building_id=building_id)
        if moves_job:
            unit = (_work_unit(session, data["work_unit_id"]) if data["work_unit_id"] is not None
                    else _work_unit_by_name(session, data["work_unit"], data["party_org"]))
            member.work_unit_id, member.work_unit = unit.id, unit.name
            member.party_org = data["party_org"] or unit.party_org
        member.community_id, member.grid_id, member.building_id = community_id, grid_id, building_id
        if moves_community:
            member.decided_at, member.decision_reason = None, None
            member.moving_from = before_community
            bump_token_version(session, member.id)
            # posts, the e-branch and teams belong to the old community
            session.execute(delete(MemberPost).where(MemberPost.member_id == member.id))
            session.execute(delete(TeamMember).where(TeamMember.member_id == member.id))
            member.e_branch_id = None
        member.updated_at = utcnow()
        session.flush()
        _set_skills(session, member, list(member.skills or []))  # their rows carry the community
        _sync_user(session, member)
        _record(session, member, actor, "transfer", data["reason"])
        session.flush()
        # a move to another community: the others hear of it when that community accepts it
        if not moves_community:
            uow.emit("member.transferred", {**_facts(session, member), "from_community_id": before_community,
                                            "from_work_unit_id": before_unit, "reason": data["reason"]})
        view = _views(session, [member])[0]
        uow.commit()
    return _shown(actor, view)


@retried_on_conflict
def update_profile(store: Store, actor: dict, member_id: int, payload: dict) -> dict:
    """Skills, posts, free time, commitments: the member or their community's staff."""
    actor = load(Actor, actor)
    data = load(schemas.UpdateProfile, payload)
    with store.uow() as uow:
        session = uow.session
        member = _member(session, member_id, lock=True)
        if actor.get("user_id") != member.id:
            domain.check_can_decide(actor, member.community_id)
        if "skills" in data:
            _set_skills(session, member, domain.normalise_skills(data["skills"]))
        if "post_ids" in data:
            _set_posts(session, member, _check_posts(session, member.community_id, data["post_ids"]))
        if "free_time" in data:
            _set_free_time(session, member, domain.expand_windows(data["free_time"]))
        if "commitments" in data:
            _set_commitments(session, member, data["commitments"])
        if "profession" in data:
            member.profession = data["profession"]
        member.updated_at = utcnow()
        _record(session, member, actor, "update")
        session.flush()
        if member.status == domain.ACCEPTED:
            uow.emit("member.updated", _facts(session, member))
        view = _views(session, [member])[0]
        uow.commit()
    return _shown(actor, view)
