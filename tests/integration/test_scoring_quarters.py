"""Closing a quarter on the real broker and database: the frozen snapshot, 立体评价 and stars,
late events, rankings, the notice, reports to work units, exports and charts."""

import base64
import csv
import io
from datetime import UTC, datetime, timedelta

import pytest
from kombu import Connection, Exchange, Queue
from openpyxl import load_workbook

from common.errors import Conflict, Forbidden, Unprocessable
from services.scoring import domain
from tests import support
from tests.integration import test_scoring_ledger as ledger
from tests.integration.test_scoring_ledger import CONFIRMED, scoring  # noqa: F401, F811

# work unit 1 is the demo's 佛山市某单位 (its organisation signs in as unit1), 2 the other district's
UNIT_ID, OTHER_UNIT_ID = 1, 2


def previous_quarter() -> tuple[str, str]:
    """The quarter before today's, and an instant inside it (as the events' occurred_at)."""
    now = datetime.now(UTC) + timedelta(hours=8)
    start = datetime(now.year, 3 * ((now.month - 1) // 3) + 1, 1, tzinfo=UTC)
    inside = start - timedelta(days=20)
    return domain.period_of(inside), inside.isoformat()


def test_closing_freezes_a_snapshot_and_reports_to_work_units(scoring, amqp_uri):  # noqa: F811
    STAFF, DISTRICT, UNIT = ledger.STAFF, scoring.accounts("district"), scoring.accounts("unit1")
    period, inside = previous_quarter()
    # a queue on scoring's events, as notify would have, to see what closing announces
    with Connection(amqp_uri) as conn:
        Queue("watch-scoring", Exchange("scoring.events", type="topic", durable=True), routing_key="#",
              durable=True)(conn.channel()).declare()
    scoring.publish("registration", "unit.reported", {"work_unit_id": UNIT_ID, "name": "区税务局", "community_id": 3})
    scoring.member(8, work_unit_id=UNIT_ID, grid_id=11, e_branch_id=90)
    scoring.member(9, work_unit_id=UNIT_ID, grid_id=12, e_branch_id=90)
    scoring.member(10, work_unit_id=OTHER_UNIT_ID, grid_id=11)
    scoring.member(11, community_id=4, work_unit_id=OTHER_UNIT_ID)
    scoring.member(12, work_unit_id=UNIT_ID)  # did nothing this quarter: still in the notice and the report
    scoring.idle()
    for request_id, members, rating, points in ((1, [8, 9], 5, 60), (2, [8], 4, 20), (3, [10], 3, 10),
                                                 (4, [11], 5, 30)):
        scoring.publish("dispatch", "request.confirmed",
                        {**CONFIRMED, "request_id": request_id, "member_ids": members, "rating": rating,
                         "points": points, "community_id": 4 if members == [11] else 3}, occurred_at=inside)
    scoring.idle()
    scoring.rpc.assess(STAFF, 8, {"score": 90, "period": period, "comment": "服务主动"})
    scoring.rpc.assess(UNIT, 8, {"score": 80, "period": period})
    with pytest.raises(Forbidden):
        scoring.rpc.assess(UNIT, 10, {"score": 80, "period": period})  # not the unit's member
    with pytest.raises(Forbidden):
        scoring.rpc.close_quarter(STAFF, {"period": period})
    with pytest.raises(Conflict) as err:
        scoring.rpc.rankings(DISTRICT, period, {})
    assert err.value.code == "PERIOD_NOT_CLOSED"

    closed = scoring.rpc.close_quarter(DISTRICT, {"period": period})
    assert closed["state"] == "closed" and closed["members"] == 5
    assert closed["total_points"] == 60 + 60 + 20 + 10 + 30 and closed["unit_reports"] == 2
    with pytest.raises(Conflict) as err:
        scoring.rpc.close_quarter(DISTRICT, {"period": period})
    assert err.value.code == "PERIOD_ALREADY_CLOSED"

    # the database's stars agree with the pure rule, per member
    rules = domain.merge_rules()
    notice = scoring.rpc.public_notice(scoring.accounts("resident1"), period, 3)
    rows = {r["member_id"]: r for r in notice["rows"]}
    assert [r["member_id"] for r in notice["rows"]][:2] == [8, 9] and set(rows) == {8, 9, 10, 12}
    expected = domain.evaluation_score(rules, 80, 4.5, 90, 80)
    assert rows[8]["score"] == pytest.approx(expected) and rows[8]["stars"] == domain.stars_for(rules, expected)
    assert rows[10]["score"] == pytest.approx(domain.evaluation_score(rules, 10, 3, None, None))
    assert rows[12]["points"] == 0 and rows[12]["stars"] == 0
    assert "phone" not in notice["rows"][0]
    with pytest.raises(Forbidden):
        scoring.rpc.public_notice(scoring.accounts("resident2"), period, 3)

    # a late event for the closed quarter lands in the open one; the snapshot does not move
    scoring.publish("dispatch", "request.confirmed", {**CONFIRMED, "request_id": 9, "member_ids": [9], "points": 7},
                    occurred_at=inside)
    scoring.idle()
    summary = scoring.rpc.member_summary(support.service_actor(), 9)
    assert summary["period"] != period and summary["period_points"] == 7 and summary["balance"] == 67
    assert summary["rank_in_community"] == 2
    again = scoring.rpc.public_notice(STAFF, period, 3)
    assert {r["member_id"]: r["points"] for r in again["rows"]}[9] == 60
    with pytest.raises(Conflict):
        scoring.rpc.assess(STAFF, 9, {"score": 50, "period": period})

    # rankings by community, grid, e-branch, work unit; and inside one unit
    by_community = scoring.rpc.rankings(DISTRICT, period, {"by": "community"})
    assert [(g["scope_id"], g["total_points"]) for g in by_community] == [(3, 150), (4, 30)]
    assert scoring.rpc.rankings(DISTRICT, period, {"by": "grid"})[0]["scope_id"] == 11
    assert scoring.rpc.rankings(DISTRICT, period, {"by": "e_branch"})[0]["members"] == 2
    units = scoring.rpc.rankings(DISTRICT, period, {"by": "work_unit"})
    assert units[0]["name"] == "区税务局" and units[0]["members"] == 3
    assert [g["scope_id"] for g in scoring.rpc.rankings(STAFF, period, {"by": "community"})] == [3]
    inside_unit = scoring.rpc.member_rankings(UNIT, period, {"within": "work_unit", "scope_id": UNIT_ID})
    assert [r["member_id"] for r in inside_unit] == [8, 9, 12]
    with pytest.raises(Forbidden):
        scoring.rpc.member_rankings(UNIT, period, {"within": "work_unit", "scope_id": OTHER_UNIT_ID})
    best = scoring.rpc.recognition(DISTRICT, period, {"top": 3})
    # 9 has no assessments, so points and residents' 5 stars decide: 100 beats 8's 94
    assert [m["member_id"] for m in best["members"]][:2] == [9, 8] and best["work_units"][0]["scope_id"] == UNIT_ID

    # the work units' reports went out through the outbox, and can be downloaded
    issued = [m.payload for m in support.get_messages(amqp_uri, "watch-scoring")]
    kinds = sorted(p["event_type"] for p in issued if p["event_type"] in ("quarter.closed", "unit_report.issued"))
    assert kinds == ["quarter.closed", "unit_report.issued", "unit_report.issued"]
    # the recognition list becomes awards on the volunteer record (#16)
    recognised = {p["data"]["member_id"] for p in issued if p["event_type"] == "member.recognised"}
    assert {9, 8} <= recognised
    report = next(p["data"] for p in issued if p["data"].get("work_unit_id") == UNIT_ID)
    assert report == {"work_unit_id": UNIT_ID, "work_unit_name": "区税务局", "period": period, "members": 3,
                      "total_points": 140, "report_url": report["report_url"]}
    as_json = scoring.rpc.unit_report(UNIT, period, UNIT_ID, {})
    assert [r["member_id"] for r in as_json["rows"]] == [8, 9, 12]
    xlsx = scoring.rpc.unit_report(UNIT, period, UNIT_ID, {"format": "xlsx"})
    sheet = load_workbook(io.BytesIO(base64.b64decode(xlsx["content_base64"]))).active
    values = list(sheet.values)
    assert values[1][2] == "姓名" and [v[1] for v in values[2:]] == [8, 9, 12]
    with pytest.raises(Forbidden):
        scoring.rpc.unit_report(scoring.accounts("unit2"), period, UNIT_ID, {})

    exported = scoring.rpc.export(STAFF, period, {"format": "csv"})
    text = base64.b64decode(exported["content_base64"]).decode("utf-8-sig")
    table = list(csv.reader(io.StringIO(text)))
    assert table[0][:3] == ["排名", "党员编号", "姓名"] and len(table) == 1 + 4  # community 3 only
    for kind in ("distribution", "communities"):
        png = scoring.rpc.chart(DISTRICT, period, {"kind": kind})
        assert base64.b64decode(png["content_base64"]).startswith(b"\x89PNG")

    board = scoring.rpc.dashboard(STAFF, 3)
    assert board["last_closed"] == period and board["members"] == 4 and board["period_points"] == 7
    assert sum(board["stars"].values()) == 4
    periods = scoring.rpc.list_periods(support.service_actor())
    assert periods[0]["state"] == "open" and periods[1]["period"] == period
    assert periods[0]["started"] is True and periods[1]["started"] is True


def test_after_closing_todays_quarter_the_next_is_open_but_not_started(scoring):  # noqa: F811
    today = domain.period_of(datetime.now(UTC) + timedelta(hours=8))
    scoring.rpc.close_quarter(scoring.accounts("district"), {"period": today})
    periods = scoring.rpc.list_periods(support.service_actor())
    assert periods[0] == {**periods[0], "period": domain.next_period(today), "state": "open", "started": False}
    with pytest.raises(Unprocessable) as err:  # the console offers no button; the API refuses as well
        scoring.rpc.close_quarter(scoring.accounts("district"), {"period": domain.next_period(today)})
    assert err.value.code == "PERIOD_NOT_STARTED"


def test_close_is_set_based_over_thousands_of_members(scoring):  # noqa: F811
    """Many members in chunks: every one snapshotted exactly once, totals equal the raw aggregate."""
    from sqlalchemy import create_engine, text

    from services.scoring.models import LedgerEntry, MemberView

    period, inside = previous_quarter()
    engine = create_engine(scoring.config["DATABASE_URL"])
    with engine.begin() as conn:
        conn.execute(MemberView.__table__.insert(), [
            {"member_id": m, "name": f"党员{m}", "community_id": 3 + m % 3, "status": "active",
             "updated_at": datetime.now(UTC)} for m in range(1000, 6000)])
        conn.execute(LedgerEntry.__table__.insert(), [
            {"entry_key": f"bulk:{i}", "member_id": 1000 + i % 5000, "community_id": 3, "points": 1 + i % 7,
             "kind": "service", "reason": "批量", "period": period, "content_hash": "", "hours": 0.0,
             "created_at": datetime.now(UTC)} for i in range(20000)])
        raw = conn.execute(text("SELECT COUNT(DISTINCT member_id), SUM(points) FROM ledger WHERE period = :p"),
                           {"p": period}).one()
    engine.dispose()
    closed = scoring.rpc.close_quarter(support.service_actor(), {"period": period})
    assert (closed["members"], closed["total_points"]) == (raw[0], raw[1])
    assert scoring.rpc.rankings(support.service_actor(), period, {"by": "community"})[0]["members"] > 1600
