"""The organisation tree: districts, streets, communities, grids and buildings."""

from sqlalchemy import select

from common.actors import Actor
from common.db import Store
from common.errors import Conflict, NotFound
from common.schemas import load
from services.registration import domain, schemas
from services.registration.models import OrgUnit, User
from services.registration.usecases.posts import _seed_posts


def _place(session, place_id) -> dict | None:
    unit = session.get(OrgUnit, place_id) if place_id is not None else None
    if unit is None:
        return None
    return {"id": unit.id, "kind": unit.kind, "name": unit.name, "parent_id": unit.parent_id}


def _ancestry(session, place_id) -> dict:
    """{'district_id': .., 'street_id': .., 'community_id': .., 'grid_id': ..} at and above a node."""
    found = {}
    unit = session.get(OrgUnit, place_id) if place_id else None
    while unit is not None:
        found.setdefault(f"{unit.kind}_id", unit.id)
        unit = session.get(OrgUnit, unit.parent_id) if unit.parent_id else None
    return found


def _locate(session, user: User, org_unit_id):
    """Point an account at its node and repeat the tree above it on the row (see ``User``)."""
    place = _ancestry(session, org_unit_id)
    user.org_unit_id = org_unit_id
    user.district_id, user.street_id = place.get("district_id"), place.get("street_id")
    user.community_id, user.grid_id = place.get("community_id"), place.get("grid_id")


def get_place(store: Store, place_id: int) -> dict:
    with store.uow() as uow:
        place = _place(uow.session, place_id)
        if place is None:
            raise NotFound(message="找不到该组织或地点")
        ancestry = _ancestry(uow.session, place_id)
        place.update(street_id=ancestry.get("street_id"), district_id=ancestry.get("district_id"))
        return schemas.Place().dump(place)


def communities_within(store: Store, place_id: int) -> list[int]:
    """The communities at or under a place (a street's, a district's): for scoping lists by area."""
    with store.sessionmaker() as session:
        found, frontier = [], [place_id]
        while frontier:
            units = session.execute(select(OrgUnit.id, OrgUnit.kind).where(OrgUnit.id.in_(frontier))).all()
            found += [i for i, kind in units if kind == "community"]
            frontier = [i for i, kind in units if kind in ("district", "street")]
            frontier = list(session.scalars(select(OrgUnit.id).where(OrgUnit.parent_id.in_(frontier)))) \
                if frontier else []
        return sorted(found)


def list_children(store: Store, place_id: int) -> list[dict]:
    with store.uow() as uow:
        if uow.session.get(OrgUnit, place_id) is None:
            raise NotFound(message="找不到该组织或地点")
        ancestry = _ancestry(uow.session, place_id)
        units = uow.session.scalars(select(OrgUnit).where(OrgUnit.parent_id == place_id).order_by(OrgUnit.id))
        return schemas.Place(many=True).dump([
            {"id": u.id, "kind": u.kind, "name": u.name, "parent_id": u.parent_id,
             "street_id": ancestry.get("street_id") or (u.id if u.kind == "street" else None),
             "district_id": ancestry.get("district_id")} for u in units])


def create_place(store: Store, actor: dict, parent_id: int, payload: dict) -> dict:
    actor = load(Actor, actor)
    data = load(schemas.NewPlace, payload)
    with store.uow() as uow:
        session = uow.session
        parent = session.get(OrgUnit, parent_id)
        if parent is None:
            raise NotFound(message="找不到上级组织")
        domain.check_child_kind(parent.kind, data["kind"])
        domain.check_can_manage_node(actor, data["kind"], _ancestry(session, parent_id))
        if session.scalar(select(OrgUnit.id).where(OrgUnit.parent_id == parent_id, OrgUnit.name == data["name"])):
            raise Conflict(code="DUPLICATE_PLACE", message="同一上级下已有同名节点", fields={"name": ["已存在"]})
        unit = OrgUnit(kind=data["kind"], name=data["name"], parent_id=parent_id)
        session.add(unit)
        session.flush()
        if unit.kind == "community":
            _seed_posts(session, unit.id)  # every new community starts from the standard posts
        result = _place(session, unit.id)
        ancestry = _ancestry(session, unit.id)
        result.update(street_id=ancestry.get("street_id"), district_id=ancestry.get("district_id"))
        uow.commit()
    return schemas.Place().dump(result)


def rename_place(store: Store, actor: dict, place_id: int, payload: dict) -> dict:
    actor = load(Actor, actor)
    data = load(schemas.Rename, payload)
    with store.uow() as uow:
        unit = uow.session.get(OrgUnit, place_id)
        if unit is None:
            raise NotFound(message="找不到该组织或地点")
        domain.check_can_manage_node(actor, unit.kind, _ancestry(uow.session, unit.parent_id))
        unit.name = data["name"]
        uow.commit()
    return get_place(store, place_id)


def _street_district(session, community: dict) -> dict:
    ancestry = _ancestry(session, community["id"])
    return {"street_id": ancestry.get("street_id"), "district_id": ancestry.get("district_id")}
