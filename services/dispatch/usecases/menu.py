"""The community's service menu (服务菜单) and its own needs list (服务清单).
"""


from sqlalchemy import select

from common.actors import Actor
from common.db import Store
from common.errors import NotFound
from common.schemas import load
from services.dispatch import domain, schemas
from services.dispatch.models import MenuItem, Request
from services.dispatch.usecases._common import _check_staff_place, _event_data, _move, _record, _view, _views, place_of
from services.dispatch.usecases.idempotency import Idem, finish, idempotent
from services.dispatch.usecases.requests import _offer

# ---- menus, needs and policy -------------------------------------------------------------

def list_menu(store: Store, community_id: int) -> list[dict]:
    with store.sessionmaker() as session:
        items = session.scalars(
            select(MenuItem).where(MenuItem.community_id == community_id, MenuItem.active,
                                   MenuItem.kind == "menu").order_by(MenuItem.id)
        ).all()
        return schemas.MenuItem(many=True).dump(items)


def _item_values(data: dict) -> dict:
    values = dict(data)
    if "field_definitions" in values:
        values["fields"] = domain.validate_definitions(values.pop("field_definitions"))
    if "deadline_policy" in values:
        values["deadline_policy"] = {k: v for k, v in values["deadline_policy"].items() if v is not None}
    if {"default_hours", "min_hours", "max_hours"} <= set(values):
        domain.check_hour_bounds(values["default_hours"], values["min_hours"], values["max_hours"])
    return values


def create_menu_item(store: Store, registration, actor: dict, community_id: int, payload: dict,
                     idempotency_key=None) -> dict:
    actor = load(Actor, actor)
    data = _item_values(load(schemas.MenuItemInput, payload))
    _check_staff_place(actor, place_of(registration, community_id))
    idem = Idem.of(actor, "create_menu_item", idempotency_key)

    def run():
        with store.uow() as uow:
            item = MenuItem(community_id=community_id, kind="menu", **data)
            uow.session.add(item)
            uow.session.flush()
            return finish(uow, idem, schemas.MenuItem().dump(item))

    return idempotent(store, idem, run)


def update_menu_item(store: Store, registration, actor: dict, menu_item_id: int, payload: dict,
                     idempotency_key=None) -> dict:
    actor = load(Actor, actor)
    data = _item_values(load(schemas.MenuItemPatch, payload))
    with store.sessionmaker() as session:
        item = session.get(MenuItem, menu_item_id)
        if item is None:
            raise NotFound(code="MENU_ITEM_NOT_FOUND", message="服务菜单中没有这一项")
        community_id = item.community_id
    _check_staff_place(actor, place_of(registration, community_id))
    idem = Idem.of(actor, "update_menu_item", idempotency_key)

    def run():
        with store.uow() as uow:
            item = uow.session.get(MenuItem, menu_item_id)
            for key, value in data.items():
                setattr(item, key, value)
            domain.check_hour_bounds(item.default_hours, item.min_hours, item.max_hours)
            uow.session.flush()
            return finish(uow, idem, schemas.MenuItem().dump(item))

    return idempotent(store, idem, run)


def post_need(store: Store, registration, actor: dict, community_id: int, payload: dict,
              idempotency_key=None) -> dict:
    """The community's own need (服务清单): open to every member of the community to claim."""
    actor = load(Actor, actor)
    data = _item_values(load(schemas.PostNeed, payload))
    place = place_of(registration, community_id)
    _check_staff_place(actor, place)
    idem = Idem.of(actor, "post_need", idempotency_key)

    def run():
        with store.uow() as uow:
            session = uow.session
            item = MenuItem(community_id=community_id, kind="need", **data)
            session.add(item)
            session.flush()
            request = Request(community_id=community_id, street_id=place.get("street_id"),
                              district_id=place.get("district_id"), resident_id=None, source="need",
                              menu_item_id=item.id, title=item.title, description=item.description,
                              answers={}, state=domain.SUBMITTED, level="community",
                              members_needed=item.members_needed, open_to_all=True, work_unit_ids=[])
            session.add(request)
            session.flush()
            _record(session, request, actor, "submit", None, "社区发布需求清单")
            uow.emit("request.submitted", _event_data(request))
            _move(session, request, actor, "accept")
            uow.emit("request.accepted", _event_data(request))
            _offer(uow, request, actor, (), True, "社区需求，党员主动认领", None)
            return finish(uow, idem, _view(session, request, actor))

    return idempotent(store, idem, run)


def list_needs(store: Store, actor: dict, community_id: int) -> list[dict]:
    actor = load(Actor, actor)
    with store.sessionmaker() as session:
        rows = session.scalars(select(Request).where(
            Request.community_id == community_id, Request.source == "need",
            Request.state.in_((domain.DISPATCHED, domain.CLAIMED, domain.IN_SERVICE)))
            .order_by(Request.id.desc()).limit(200)).all()
        return _views(session, rows, actor, history=False)
