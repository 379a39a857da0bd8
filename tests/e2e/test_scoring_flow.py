"""Scoring over HTTP through the whole platform: adjust, close the quarter, notice, downloads."""

from tests import support


def test_points_to_closed_quarter_notice_and_downloads(platform):
    staff = platform.login("staff1")
    community_id = staff.user["community_id"]
    resp = staff.post("/api/members", {"name": "钱医生", "phone": "13912340001", "id_number": "110105194912310038",
                                       "community_id": community_id, "skills": ["医疗"], "password": "secret-pass-2"})
    assert resp.status_code == 201, resp.text
    member_id = resp.json()["id"]

    no_reason = staff.post(f"/api/members/{member_id}/points/adjustments", {"points": 5, "reason": ""})
    assert no_reason.status_code == 400 and "reason" in no_reason.json()["error"]["fields"]
    # scoring learns of the member from registration's event, then takes the adjustment
    added = support.wait_for(
        lambda: (r := staff.post(f"/api/members/{member_id}/points/adjustments",
                                 {"points": 12, "reason": "组织义诊表现突出"},
                                 headers={"Idempotency-Key": "e2e-1"})).status_code == 201 and r,
        message="the member known to scoring")
    assert added.json()["kind"] == "adjustment"
    staff.post(f"/api/members/{member_id}/points/adjustments", {"points": 12, "reason": "组织义诊表现突出"},
               headers={"Idempotency-Key": "e2e-1"})
    below = staff.post(f"/api/members/{member_id}/points/adjustments", {"points": -50, "reason": "误记"})
    assert below.status_code == 422 and below.json()["error"]["code"] == "BELOW_FLOOR"
    assert staff.post(f"/api/members/{member_id}/evaluations", {"score": 88}).status_code == 201

    member = platform.login("13912340001", "secret-pass-2")
    mine = member.get(f"/api/members/{member_id}/points").json()
    assert mine["balance"] == 12 and mine["period_points"] == 12
    period = mine["period"]

    district = platform.login("district")
    assert staff.post("/api/scoring/quarters/close", {"period": period}).status_code == 403
    closed = district.post("/api/scoring/quarters/close", {"period": period})
    assert closed.status_code == 201, closed.text
    again = district.post("/api/scoring/quarters/close", {"period": period})
    assert again.status_code == 409 and again.json()["error"]["code"] == "PERIOD_ALREADY_CLOSED"

    resident = platform.login("resident1")
    notice = resident.get(f"/api/communities/{community_id}/scoring/quarters/{period}/notice")
    assert notice.status_code == 200, notice.text
    rows = notice.json()["rows"]
    row = next(r for r in rows if r["member_id"] == member_id)
    # other e2e tests share the platform: rank among whoever else earned points this quarter
    assert row["points"] == 12 and row["stars"] >= 1
    assert row["rank"] == 1 + sum(1 for r in rows if r["points"] > 12)

    xlsx = staff.get(f"/api/scoring/quarters/{period}/export", params={"format": "xlsx"})
    assert xlsx.status_code == 200 and xlsx.content[:2] == b"PK"
    assert "attachment" in xlsx.headers["Content-Disposition"]
    png = district.get(f"/api/scoring/quarters/{period}/chart", params={"kind": "communities"})
    assert png.status_code == 200 and png.headers["Content-Type"] == "image/png"
    assert png.content.startswith(b"\x89PNG")
    bad = district.get(f"/api/scoring/quarters/{period}/chart", params={"kind": "pie"})
    assert bad.status_code == 400
    board = staff.get(f"/api/communities/{community_id}/scoring/dashboard").json()
    assert board["last_closed"] == period and board["period"] != period
    assert member.get(f"/api/members/{member_id}/points").json()["stars"] == row["stars"]
