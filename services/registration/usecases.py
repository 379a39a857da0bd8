"""Registration's use cases: load and check input, apply the domain rules, commit, emit events."""

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerifyMismatchError
from sqlalchemy import select

from common import config
from common.actors import Actor
from common.db import Store
from common.errors import Conflict, NotFound, Unauthorized
from common.schemas import load
from services.registration import domain, schemas
from services.registration.models import Member, OrgUnit, User

# OWASP's minimum argon2id profile: a real KDF that keeps a login near 20 ms on one core
PASSWORDS = PasswordHasher(time_cost=2, memory_cost=19456, parallelism=1)
_DUMMY_HASH = PASSWORDS.hash("not-a-password")


def id_hash_key() -> bytes:
    return config.secret("ID_HASH_KEY", "baodao-demo-id-key")


def hash_password(password: str) -> str:
    return PASSWORDS.hash(password)


# ---- the organisation tree -------------------------------------------------------------

def _place(session, place_id) -> dict | None:
    unit = session.get(OrgUnit, place_id) if place_id is not None else None
    if unit is None:
        return None
    return {"id": unit.id, "kind": unit.kind, "name": unit.name, "parent_id": unit.parent_id}


def _ancestry(session, place_id) -> dict:
    """{'district_id': .., 'street_id': .., 'community_id': .., 'grid_id': ..} above a node."""
    found = {}
    unit = session.get(OrgUnit, place_id) if place_id else None
    while unit is not None:
        found.setdefault(f"{unit.kind}_id", unit.id)
        unit = session.get(OrgUnit, unit.parent_id) if unit.parent_id else None
    return found


def get_place(store: Store, place_id: int) -> dict:
    with store.uow() as uow:
        place = _place(uow.session, place_id)
        if place is None:
            raise NotFound(message="找不到该组织或地点")
        ancestry = _ancestry(uow.session, place_id)
        place.update(street_id=ancestry.get("street_id"), district_id=ancestry.get("district_id"))
        return schemas.Place().dump(place)


# ---- accounts ----------------------------------------------------------------------------

def principal_of(session, user: User) -> dict:
    ancestry = _ancestry(session, user.org_unit_id)
    return schemas.Principal().dump({
        "user_id": user.id,
        "role": user.role,
        "name": user.name,
        "district_id": ancestry.get("district_id"),
        "street_id": ancestry.get("street_id"),
        "community_id": ancestry.get("community_id"),
        "grid_id": ancestry.get("grid_id"),
        "work_unit_id": None,
    })


def authenticate(store: Store, credentials: dict) -> dict:
    data = load(schemas.Login(), credentials)
    with store.uow() as uow:
        user = uow.session.scalar(select(User).where(User.username == data["username"]))
        try:
            if user is None or not user.password_hash:
                PASSWORDS.verify(_DUMMY_HASH, data["password"])  # same cost either way
                raise VerifyMismatchError
            PASSWORDS.verify(user.password_hash, data["password"])
        except (VerifyMismatchError, InvalidHashError):
            raise Unauthorized(code="INVALID_CREDENTIALS", message="用户名或密码错误") from None
        return principal_of(uow.session, user)


# ---- members -----------------------------------------------------------------------------

def _member_dict(member: Member) -> dict:
    return {
        "id": member.id,
        "name": member.name,
        "phone": member.phone,
        "community_id": member.community_id,
        "grid_id": member.grid_id,
        "building_id": member.building_id,
        "work_unit": member.work_unit,
        "skills": list(member.skills or []),
        "status": member.status,
        "registered_at": member.registered_at,
    }


def _shown(actor: dict, member: dict) -> dict:
    if not domain.can_see_phone(actor, member):
        member = dict(member, phone=domain.mask_phone(member["phone"]))
    return schemas.Member().dump(member)


def register_member(store: Store, actor: dict, payload: dict) -> dict:
    actor = load(Actor(), actor)
    data = load(schemas.RegisterMember(), payload)
    domain.check_can_register(actor, data["community_id"])
    domain.check_identity(data["phone"], data["id_number"])
    id_hash = domain.hash_id_number(data["id_number"], id_hash_key())
    password_hash = hash_password(data["password"]) if data["password"] else None
    with store.uow() as uow:
        session = uow.session
        community = _place(session, data["community_id"])
        grid = _place(session, data["grid_id"])
        building = _place(session, data["building_id"])
        domain.check_place(community, grid, building,
                           grid_id=data["grid_id"], building_id=data["building_id"])
        if session.scalar(select(Member.id).where(Member.id_number_hash == id_hash)):
            raise Conflict(code="DUPLICATE_REGISTRATION", message="该身份证号码已有报到登记，不能重复登记",
                           fields={"id_number": ["已登记"]})
        if session.scalar(select(User.id).where(User.username == data["phone"])):
            raise Conflict(code="DUPLICATE_PHONE", message="该手机号码已被其他账号使用",
                           fields={"phone": ["已被使用"]})
        user = User(username=data["phone"], password_hash=password_hash, role="member",
                    name=data["name"], phone=data["phone"],
                    org_unit_id=data["grid_id"] or data["community_id"])
        session.add(user)
        session.flush()
        member = Member(id=user.id, name=data["name"], phone=data["phone"], id_number_hash=id_hash,
                        community_id=data["community_id"], grid_id=data["grid_id"],
                        building_id=data["building_id"], work_unit=data["work_unit"],
                        skills=data["skills"], status="accepted")
        session.add(member)
        session.flush()
        result = _member_dict(member)
        uow.emit("member.accepted", {
            "member_id": member.id, "name": member.name, "community_id": member.community_id,
            "grid_id": member.grid_id, "building_id": member.building_id, "work_unit_id": None,
            "skills": result["skills"],
        })
        uow.commit()
    return _shown(actor, result)


def get_member(store: Store, actor: dict, member_id: int) -> dict:
    actor = load(Actor(), actor)
    with store.uow() as uow:
        member = uow.session.get(Member, member_id)
        if member is None:
            raise NotFound(code="MEMBER_NOT_FOUND", message="找不到该党员")
        return _shown(actor, _member_dict(member))


def find_candidates(store: Store, query: dict) -> list[dict]:
    """Members of a community ranked by how many of the wanted skills they have."""
    data = load(schemas.CandidateQuery(), query)
    wanted = set(data["skills"])
    with store.uow() as uow:
        rows = uow.session.scalars(
            select(Member).where(Member.community_id == data["community_id"],
                                 Member.status == "accepted")
        ).all()
        ranked = []
        for member in rows:
            match = len(wanted & set(member.skills or []))
            if wanted and not match:
                continue
            ranked.append({"member_id": member.id, "name": member.name, "grid_id": member.grid_id,
                           "skills": list(member.skills or []), "skill_match": match})
    ranked.sort(key=lambda c: (-c["skill_match"], c["grid_id"] != data["grid_id"], c["member_id"]))
    return schemas.Candidate(many=True).dump(ranked[: data["limit"]])
