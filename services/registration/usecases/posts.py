"""Service posts: each community's list of posts members can volunteer for."""

from sqlalchemy import func, select

from common.actors import Actor
from common.db import Store
from common.errors import Conflict
from common.schemas import load
from services.registration import domain, schemas
from services.registration.models import MemberPost, ServicePost


def _seed_posts(session, community_id: int):
    sort = 0
    for category, names in domain.DEFAULT_POSTS.items():
        for name in names:
            sort += 1
            session.add(ServicePost(community_id=community_id, category=category, name=name, sort=sort,
                                    description="", active=True))


def list_posts(store: Store, community_id: int) -> list[dict]:
    with store.uow() as uow:
        counts = dict(uow.session.execute(
            select(MemberPost.post_id, func.count()).join(ServicePost, ServicePost.id == MemberPost.post_id)
            .where(ServicePost.community_id == community_id).group_by(MemberPost.post_id)).all())
        posts = uow.session.scalars(select(ServicePost).where(ServicePost.community_id == community_id)
                                    .order_by(ServicePost.sort, ServicePost.id)).all()
        return schemas.Post(many=True).dump([{
            "id": p.id, "community_id": p.community_id, "category": p.category, "name": p.name,
            "description": p.description, "active": p.active, "members": counts.get(p.id, 0)} for p in posts])


def add_post(store: Store, actor: dict, community_id: int, payload: dict) -> dict:
    actor = load(Actor, actor)
    data = load(schemas.NewPost, payload)
    domain.check_can_decide(actor, community_id)
    with store.uow() as uow:
        session = uow.session
        if session.scalar(select(ServicePost.id).where(ServicePost.community_id == community_id,
                                                       ServicePost.name == data["name"])):
            raise Conflict(code="DUPLICATE_POST", message="本社区已有同名服务岗位", fields={"name": ["已存在"]})
        sort = (session.scalar(select(func.max(ServicePost.sort)).where(ServicePost.community_id == community_id))
                or 0) + 1
        post = ServicePost(community_id=community_id, sort=sort, active=True, **data)
        session.add(post)
        session.flush()
        result = {"id": post.id, "community_id": community_id, "category": post.category, "name": post.name,
                  "description": post.description, "active": True, "members": 0}
        uow.commit()
    return schemas.Post().dump(result)
