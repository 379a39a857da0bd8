"""Records' part of the demo district: a training held in 东风社区 for its first members."""

from datetime import date

from services.records.models import Training


def seed(store, context: dict):
    community_ids = context.get("community_ids") or []
    member_ids = context.get("member_ids") or []
    if not community_ids or not member_ids:
        return
    with store.uow() as uow:
        for member_id in member_ids[:4]:
            uow.session.add(Training(member_id=member_id, community_id=community_ids[0], title="社区志愿服务基础培训",
                                     hours=2.0, held_on=date(2026, 10, 15), recorded_by=None))
        uow.commit()
