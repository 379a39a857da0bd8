"""Activities' part of the demo district: a clean-up and a themed Party day open for sign-up."""

import secrets
from datetime import timedelta

from common.db import utcnow
from common.timers import schedule
from services.activities import domain
from services.activities.models import Activity
from services.activities.usecases import CLOSE, REMINDER

DEMO = [  # title, kind, community index, days ahead, hours, places, place, skills, description
    ("登革热防控环境清洁日", "volunteer", 0, 3, 2.5, 20, "东风社区文化广场集合", [],
     "清理积水、翻盆倒罐，消灭蚊虫孳生地。请穿长袖，带手套。"),
    ("“学思践悟”主题党日：走访慰问困难老人", "party_day", 0, 7, 3, 10, "东风社区党群服务中心", ["助老"],
     "重温入党誓词后分组走访辖区困难老人，送上慰问品并了解需求。"),
    ("跃进社区义诊进小区", "volunteer", 1, 5, 3, 6, "跃进社区第一网格活动室", ["医疗"],
     "为社区老人量血压、测血糖，解答常见健康问题。"),
]


def seed(store, context: dict):
    now = utcnow().replace(minute=0, second=0, microsecond=0)
    with store.uow() as uow:
        for title, kind, ci, days, hours, places, place, skills, description in DEMO:
            starts = now + timedelta(days=days, hours=1)
            activity = Activity(
                kind=kind, community_id=context["community_ids"][ci], street_id=context["street_id"],
                district_id=context["district_id"], publisher_id=None, publisher_role="community_staff",
                publisher_name="社区党委", title=title, description=description, place=place,
                starts_at=starts, ends_at=starts + timedelta(hours=hours), signup_deadline=starts - timedelta(hours=12),
                places=places, waitlist_limit=None, skills=skills, audience="community", audience_id=None,
                state=domain.PUBLISHED, confirmed=0, waitlisted=0, next_seq=0, code_secret=secrets.token_hex(32),
                cancel_reason="", created_at=now, updated_at=now)
            uow.session.add(activity)
            uow.session.flush()
            schedule(uow, REMINDER, activity.id, domain.reminder_at(activity.starts_at, utcnow()))
            schedule(uow, CLOSE, activity.id, domain.close_at(activity.ends_at))
        uow.commit()
