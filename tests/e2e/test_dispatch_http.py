"""The dispatch workflow over HTTP on the full platform: menus and policy, staff dispatch with
ranked candidates, idempotent retries, escalation to the street's joint meeting, wishes, opinions."""


def test_dispatch_workflow_over_http(platform):
    """Shares the platform with other tests: changes its policy only for a moment, asserts on
    what it creates itself."""
    staff = platform.login("staff1")
    policy_url = platform.url(f"/api/communities/{staff.user['community_id']}/dispatch-policy")
    before = staff.get(f"/api/communities/{staff.user['community_id']}/dispatch-policy").json()
    before.pop("community_id")
    try:
        _workflow(platform, staff, policy_url)
    finally:
        staff.session.put(policy_url, json=before, timeout=15)


def _workflow(platform, staff, policy_url):
    resident = platform.login("resident1")
    member = platform.login("13800000001")  # 张伟, 法律
    street = platform.login("street")
    community = staff.user["community_id"]

    # staff keep the menu and have requests accepted by hand
    resp = staff.session.put(policy_url, timeout=15,
                             json={"auto_accept": False, "offer_top_k": 2, "open_after_minutes": 30})
    assert resp.status_code == 200, resp.text
    bad = staff.post(f"/api/communities/{community}/menu", {"title": "x", "category": "y",
                                                             "fields": [{"code": "a", "description": "b",
                                                                         "datatype": "photo"}]})
    assert bad.status_code == 400 and "fields" in bad.json()["error"]["fields"]
    resp = staff.post(f"/api/communities/{community}/menu", {
        "title": "遗嘱咨询", "category": "公共事务", "skills": ["法律"], "points": 12, "expected_minutes": 45,
        "fields": [{"code": "when", "description": "方便的时间", "datatype": "datetime", "required": True}]})
    assert resp.status_code == 201, resp.text
    item = resp.json()
    assert item in resident.get(f"/api/communities/{community}/menu").json()

    # a retried order (same Idempotency-Key) is one request
    body = {"menu_item_id": item["id"], "fields": {"when": "2026-11-28T10:00:00+08:00"}}
    first = resident.post("/api/requests", body, headers={"Idempotency-Key": "order-1"})
    retry = resident.post("/api/requests", body, headers={"Idempotency-Key": "order-1"})
    assert first.status_code == 201 and retry.status_code == 201 and retry.json()["id"] == first.json()["id"]
    assert first.json()["state"] == "submitted"
    wrong = resident.post("/api/requests", {"menu_item_id": item["id"], "fields": {"when": "周六"}})
    assert wrong.status_code == 400 and wrong.json()["error"]["code"] == "INVALID_FIELDS"
    rid = first.json()["id"]

    ranked = staff.get(f"/api/requests/{rid}/candidates").json()
    mine = next(c for c in ranked if c["member_id"] == member.user["user_id"])
    assert "技能匹配1项" in mine["reasons"] and [c["rank"] for c in ranked] == list(range(1, len(ranked) + 1))
    assert resident.get(f"/api/requests/{rid}/candidates").status_code == 403
    resp = staff.post(f"/api/requests/{rid}/accept", {"reason": "已核实"})
    assert resp.status_code == 200 and resp.json()["state"] == "dispatched"
    resp = staff.post(f"/api/requests/{rid}/offer", {"member_ids": [member.user["user_id"]], "reason": "点名派单"})
    assert member.user["user_id"] in resp.json()["offered_to"]
    staff.session.put(policy_url, json={"auto_accept": True}, timeout=15)
    assert member.post(f"/api/requests/{rid}/claim").status_code == 200
    assert member.post(f"/api/requests/{rid}/start").json()["state"] == "in_service"
    assert resident.post(f"/api/requests/{rid}/cancel", {}).status_code == 409
    assert member.post(f"/api/requests/{rid}/complete", {"reason": "已上门"}).json()["state"] == "done"
    assert resident.post(f"/api/requests/{rid}/confirm", {"rating": 0}).status_code == 400
    assert resident.post(f"/api/requests/{rid}/confirm", {"rating": 4}).json()["state"] == "closed"
    late = member.post(f"/api/requests/{rid}/claim")
    assert late.status_code == 409 and late.json()["error"]["current_state"] == "closed"
    timeline = resident.get(f"/api/requests/{rid}/timeline").json()
    assert [h["action"] for h in timeline] == ["submit", "accept", "dispatch", "dispatch", "claim", "start",
                                               "complete", "confirm"]
    assert timeline[1]["action_label"] == "受理" and timeline[1]["reason"] == "已核实"

    # what the community cannot meet goes to the street, whose joint meeting assigns a unit
    other = resident.post("/api/requests", {"menu_item_id": item["id"],
                                            "fields": {"when": "2026-11-29T10:00:00+08:00"}}).json()
    assert other["state"] == "dispatched"  # auto-accepted again
    up = staff.post(f"/api/requests/{other['id']}/escalate", {"reason": "需要专业律所"})
    assert up.status_code == 200 and up.json()["level"] == "street"
    queue = street.get("/api/escalations").json()
    assert other["id"] in [r["id"] for r in queue]
    unit_id = platform.login("unit1").user["work_unit_id"]  # a unit that exists (#11: no made-up units)
    met = street.post(f"/api/requests/{other['id']}/joint-meeting", {"work_unit_ids": [unit_id],
                                                                       "reason": "律所承办"})
    assert met.status_code == 200 and met.json()["state"] == "claimed"
    found = street.get("/api/dispatch/requests", params={"states": "claimed,closed"}).json()
    assert {r["id"] for r in found} >= {rid, other["id"]}

    # a micro-wish posted for a resident in difficulty, claimed, fulfilled, confirmed
    wish = staff.post("/api/wishes", {"title": "冬天的棉被", "beneficiary": "独居老人 王奶奶"}).json()
    assert member.post(f"/api/wishes/{wish['id']}/claim", {}).json()["state"] == "claimed"
    assert member.post(f"/api/wishes/{wish['id']}/fulfil", {"note": "已送到"}).json()["state"] == "fulfilled"
    assert staff.post(f"/api/wishes/{wish['id']}/confirm", {}).json()["state"] == "confirmed"

    # opinions: collected and resolved per community
    def counts():
        return next((s for s in street.get("/api/opinion-stats").json() if s["community_id"] == community),
                    {"collected": 0, "resolved": 0})

    earlier = counts()
    op = resident.post("/api/opinions", {"kind": "suggestion", "title": "增加健身器材", "content": "小广场"})
    assert op.status_code == 201
    assert staff.post(f"/api/opinions/{op.json()['id']}/resolve", {"resolution": "已列入计划"}).status_code == 200
    now = counts()
    assert (now["collected"], now["resolved"]) == (earlier["collected"] + 1, earlier["resolved"] + 1)
