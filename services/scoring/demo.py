"""Scoring's part of the demo district: a closed previous quarter, so rankings, the public
notice, exports, charts and the work unit's report show figures the first time anyone looks.

The members are the ones registration's demo made (their events arrive later and only
confirm what is written here); the quarter is closed by the same code a district's close runs.
"""

from datetime import UTC, datetime, timedelta

from services.registration import demo as registration_demo
from services.scoring import domain, quarters
from services.scoring.models import LedgerEntry, MemberView, WorkUnitView
from services.scoring.usecases import CHINA

SYSTEM = {"user_id": None, "role": "system"}
# points, hours, resident rating, what they did — one line per demo member, in registration's order
LAST_QUARTER = [
    (46, 9.5, 5, "为居民提供婚姻家庭法律咨询 4 次"),
    (38, 8.0, 5, "上门义诊 3 次"),
    (30, 6.0, 4, "家电维修 3 次"),
    (24, 7.5, 5, "助老陪护 2 次"),
    (34, 6.5, 4, "调解邻里纠纷 3 次"),
    (18, 4.0, 4, "义诊 1 次"),
]


def previous_period(now: datetime | None = None) -> str:
    today = (now or datetime.now(CHINA)).astimezone(CHINA)
    year, quarter = domain.parse_period(domain.period_of(today))
    return f"{year - 1}Q4" if quarter == 1 else f"{year}Q{quarter - 1}"


def _middle_of(period: str) -> datetime:
    year, quarter = domain.parse_period(period)
    # stored in UTC, as every service stores time (SQLite keeps no zone)
    return datetime(year, 3 * quarter - 1, 15, 10, 0, tzinfo=CHINA).astimezone(UTC)


def seed(store, context: dict):
    period = previous_period()
    at = _middle_of(period)
    member_ids = context.get("member_ids") or []
    with store.uow() as uow:
        s = uow.session
        s.merge(WorkUnitView(work_unit_id=context["work_unit_id"], name=registration_demo.WORK_UNIT,
                             community_id=context["community_ids"][0]))
        for n, member_id in enumerate(member_ids):
            name, _, _, ci, gi, _, _ = registration_demo.MEMBERS[n]
            s.merge(MemberView(member_id=member_id, name=name, community_id=context["community_ids"][ci],
                               street_id=context["street_id"], district_id=context["district_id"],
                               grid_id=context["grid_ids"][ci][gi], work_unit_id=context["work_unit_id"],
                               e_branch_id=context.get("e_branch_id") if n < 4 else None, status="active"))
            points, hours, rating, what = LAST_QUARTER[n % len(LAST_QUARTER)]
            s.add(LedgerEntry(entry_key=f"demo:{period}:{member_id}", member_id=member_id,
                              community_id=context["community_ids"][ci], points=points, kind="service",
                              reason=f"{what}（演示数据）", period=period, rating=rating, hours=hours,
                              created_at=at + timedelta(days=n)))
        uow.commit()
    quarters.close_quarter(store, SYSTEM, {"period": period})
