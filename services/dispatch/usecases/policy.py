"""A community's dispatch policy: auto-accept, how many top matches to offer, when to open to all.
"""



import authz
from common.actors import Actor
from common.db import Store, utcnow
from common.schemas import load
from services.dispatch import schemas
from services.dispatch.models import CommunityPolicy
from services.dispatch.usecases._common import _check_staff_place, _policy, place_of
from services.dispatch.usecases.idempotency import Idem, finish, idempotent

# ---- menus, needs and policy -------------------------------------------------------------

def get_policy(store: Store, registration, actor: dict, community_id: int) -> dict:
    actor = load(Actor, actor)
    place = place_of(registration, community_id) or {}
    # a community's dispatch settings are its own business and its street's and district's (finding 5)
    authz.check(actor, "dispatch.get_policy", authz.facts(
        community_id=community_id, street_id=place.get("street_id"), district_id=place.get("district_id")),
        hide=True)
    with store.sessionmaker() as session:
        return schemas.PolicyView().dump({"community_id": community_id, **_policy(session, community_id)})


def set_policy(store: Store, registration, actor: dict, community_id: int, payload: dict,
               idempotency_key=None) -> dict:
    actor = load(Actor, actor)
    data = load(schemas.Policy, payload)
    _check_staff_place(actor, place_of(registration, community_id))
    idem = Idem.of(actor, "set_policy", idempotency_key)

    def run():
        with store.uow() as uow:
            row = uow.session.get(CommunityPolicy, community_id)
            if row is None:
                row = CommunityPolicy(community_id=community_id)
                uow.session.add(row)
            for key, value in data.items():
                setattr(row, key, value)
            row.updated_at = utcnow()
            return finish(uow, idem, schemas.PolicyView().dump({"community_id": community_id, **data}))

    return idempotent(store, idem, run)
