"""Roster import: all-or-nothing, idempotent bulk import of rosters (file parsing is in ``registration.roster``)."""

from datetime import date

from sqlalchemy import insert, select

import authz
from common.actors import Actor, reaches
from common.db import Store, exclusive, retried_on_conflict, utcnow
from common.errors import Conflict, Forbidden, NotFound, ValidationFailed
from common.masking import mask_id_number
from common.schemas import load
from services.registration import domain, schemas
from services.registration.models import (
    Commitment,
    FreeTime,
    Member,
    MemberPost,
    MemberSkill,
    Mutex,
    OrgUnit,
    RegistrationHistory,
    RosterImport,
    ServicePost,
    User,
    WorkUnit,
)
from services.registration.usecases._common import _chunks
from services.registration.usecases.members import (
    _facts,
    _record,
    _set_commitments,
    _set_free_time,
    _set_posts,
    _set_skills,
    _sync_user,
    id_hash_key,
)
from services.registration.usecases.tree import _ancestry
from services.registration.usecases.work_units import _work_unit, _work_unit_by_name

IMPORTERS = ("community_staff", "street_staff", "district_staff", "unit_org", "system")
ROSTER_ROW = schemas.RosterRow()  # one instance: building a schema costs more than loading a row
PRESET_BY_LABEL = {**{v: k for k, v in domain.PRESET_LABELS.items()}, **{k: k for k in domain.PRESETS}}


def _split(value, pattern=r"[;；\n]+") -> list[str]:
    import re

    if isinstance(value, list):
        return [str(v).strip() for v in value if str(v).strip()]
    return [v.strip() for v in re.split(pattern, str(value or "")) if v.strip()]


class _Tree:
    """The org tree in memory for one import: names → ids, within what the importer reaches."""

    def __init__(self, session, actor):
        self.actor = actor
        units = session.execute(select(OrgUnit.id, OrgUnit.kind, OrgUnit.name, OrgUnit.parent_id)).all()
        self.units = {u.id: u for u in units}
        self.communities = {u.id: u for u in units if u.kind == "community"}
        self.by_name: dict[str, list[int]] = {}
        for u in self.communities.values():
            self.by_name.setdefault(u.name, []).append(u.id)
        self.children: dict[tuple[int, str], int] = {(u.parent_id, u.name): u.id for u in units
                                                     if u.kind in ("grid", "building")}
        self.posts = {(p.community_id, p.name): p.id for p in session.execute(
            select(ServicePost.id, ServicePost.community_id, ServicePost.name).where(ServicePost.active))}

    def above(self, unit_id) -> dict:
        found = {}
        while unit_id is not None and unit_id in self.units:
            unit = self.units[unit_id]
            found.setdefault(f"{unit.kind}_id", unit.id)
            unit_id = unit.parent_id
        return found

    def may_change(self, member: Member) -> bool:
        """An existing member a row matches: only within the importer's own scope (the one policy)."""
        place = self.above(member.community_id)
        return authz.permits(self.actor, "registration.import_roster", authz.facts(
            community_id=member.community_id, street_id=place.get("street_id"),
            district_id=place.get("district_id"), work_unit_ids=[member.work_unit_id]))

    def reaches(self, community_id) -> bool:
        if self.actor["role"] in ("system", "unit_org"):
            return True
        place = self.above(community_id)
        return reaches(self.actor, community_id=community_id, street_id=place.get("street_id"),
                       district_id=place.get("district_id"))

    def community(self, row, default_id):
        """(id, reason)."""
        if row["community_id"] is not None:
            cid = row["community_id"]
            if cid not in self.communities:
                return None, f"找不到编号为{cid}的社区"
        elif row["community"]:
            ids = self.by_name.get(row["community"], [])
            if len(ids) > 1:
                ids = [i for i in ids if self.reaches(i)]
            if not ids:
                return None, f"找不到社区“{row['community']}”"
            if len(ids) > 1:
                return None, f"有多个名为“{row['community']}”的社区，请改填社区编号"
            cid = ids[0]
        elif default_id is not None:
            cid = default_id
            if cid not in self.communities:
                return None, f"找不到编号为{cid}的社区"
        else:
            return None, "缺少所在社区"
        if not self.reaches(cid):
            return None, f"社区“{self.communities[cid].name}”不在您的管辖范围内"
        return cid, None

    def child(self, parent_id, given_id, given_name, kind_zh, parent_zh):
        if given_id is not None:
            unit = self.units.get(given_id)
            if unit is None or unit.parent_id != parent_id:
                return None, f"{kind_zh}（编号{given_id}）不属于所填{parent_zh}"
            return given_id, None
        if given_name:
            found = self.children.get((parent_id, given_name))
            if found is None:
                return None, f"{kind_zh}“{given_name}”不属于所填{parent_zh}"
            return found, None
        return None, None


def _roster_row(tree: _Tree, raw: dict, default_community, forced_unit, key: bytes):
    """One line → (clean row, reasons)."""
    from marshmallow import ValidationError

    try:
        row = ROSTER_ROW.load(raw)
    except ValidationError as err:
        return None, [f"格式不正确：{'、'.join(sorted(err.messages))}"]
    reasons = []
    name = row["name"].strip()
    phone = row["phone"].strip().replace(" ", "").replace("-", "")
    id_number = row["id_number"].strip().upper()
    if not name:
        reasons.append("缺少姓名")
    if not domain.valid_phone(phone):
        reasons.append("手机号码格式不正确（应为11位手机号）" if phone else "缺少手机号码")
    if not domain.valid_id_number(id_number):
        reasons.append("身份证号码不正确（位数或校验位错误）" if id_number else "缺少身份证号码")
    community_id, why = tree.community(row, default_community)
    grid_id = building_id = None
    if why:
        reasons.append(why)
    else:
        grid_id, why = tree.child(community_id, row["grid_id"], row["grid"].strip(), "网格", "社区")
        if why:
            reasons.append(why)
        elif row["building_id"] is not None or row["building"].strip():
            if grid_id is None:
                reasons.append("填写了楼栋但没有填写网格")
            else:
                building_id, why = tree.child(grid_id, row["building_id"], row["building"].strip(), "楼栋", "网格")
                if why:
                    reasons.append(why)
    post_ids = []
    for post in _split(row["posts"], r"[,，、;；\n]+"):
        post_id = tree.posts.get((community_id, post))
        if post_id is None and community_id is not None:
            reasons.append(f"社区没有服务岗位“{post}”")
        post_ids.append(post_id)
    windows = []
    if isinstance(row["free_time"], list) and row["free_time"] and isinstance(row["free_time"][0], dict):
        presets = row["free_time"]
    else:
        presets = []
        for label in _split(row["free_time"], r"[,，、;；\n]+"):
            if label in PRESET_BY_LABEL:
                presets.append({"preset": PRESET_BY_LABEL[label]})
            else:
                reasons.append(f"不认识的空闲时间“{label}”（可填：{'、'.join(domain.PRESET_LABELS.values())}）")
    try:
        windows = domain.expand_windows(presets)
    except ValidationFailed:
        reasons.append("空闲时间格式不正确")
    if reasons:
        return None, reasons
    return {
        "name": name[:50], "phone": phone, "id_hash": domain.hash_id_number(id_number, key),
        "id_masked": mask_id_number(id_number),
        "community_id": community_id, "grid_id": grid_id, "building_id": building_id,
        "work_unit": (forced_unit or row["work_unit"].strip())[:100] or None,
        "party_org": row["party_org"].strip()[:100] or None, "profession": row["profession"].strip()[:50] or None,
        "skills": domain.normalise_skills(row["skills"]) if row["skills"] else None,
        "post_ids": sorted(post_ids) if row["posts"] else None,
        "windows": windows if row["free_time"] else None,
        "commitments": [c[:500] for c in _split(row["commitments"])] if row["commitments"] else None,
    }, []


def _changes(row: dict, member: Member, current: dict) -> dict:
    """What a re-imported row would change on an existing member; {} when nothing (idempotence)."""
    changes = {}
    for key in ("name", "phone", "community_id"):
        if row[key] != getattr(member, key):
            changes[key] = row[key]
    moved = "community_id" in changes
    for key in ("grid_id", "building_id"):
        if (row[key] is not None or moved) and row[key] != getattr(member, key):
            changes[key] = row[key]
    for key in ("work_unit", "party_org", "profession"):
        if row[key] is not None and row[key] != getattr(member, key):
            changes[key] = row[key]
    if row["skills"] is not None and row["skills"] != list(member.skills or []):
        changes["skills"] = row["skills"]
    for key in ("post_ids", "windows", "commitments"):
        if row[key] is not None and row[key] != current[key]:
            changes[key] = row[key]
    return changes


def _current_details(session, member_ids: list[int]) -> dict:
    found = {i: {"post_ids": [], "windows": [], "commitments": []} for i in member_ids}
    year = date.today().year
    for chunk in _chunks(member_ids):
        for member_id, post_id in session.execute(select(MemberPost.member_id, MemberPost.post_id)
                                                  .where(MemberPost.member_id.in_(chunk))):
            found[member_id]["post_ids"].append(post_id)
        for w in session.execute(select(FreeTime.member_id, FreeTime.weekday, FreeTime.start_minute,
                                        FreeTime.end_minute).where(FreeTime.member_id.in_(chunk))):
            found[w.member_id]["windows"].append((w.weekday, w.start_minute, w.end_minute))
        for c in session.execute(select(Commitment.member_id, Commitment.text)
                                 .where(Commitment.member_id.in_(chunk), Commitment.year == year)
                                 .order_by(Commitment.id)):
            found[c.member_id]["commitments"].append(c.text)
    for details in found.values():
        details["post_ids"].sort()
        details["windows"].sort()
    return found


@retried_on_conflict
def import_roster(store: Store, actor: dict, payload: dict, progress=None) -> dict:
    """All or nothing, and idempotent: a bad row stops the whole file; the same file twice changes nothing.

    Rows are matched to members on the ID-number hash. Imported members get no password (they set
    one later), so 10,000 rows cost no password hashing. ``progress(n)`` is told of rows processed.
    """
    actor = load(Actor, actor)
    data = load(schemas.RosterImport, payload)
    if actor["role"] not in IMPORTERS:
        raise Forbidden(message="只有社区、街道、区县工作人员或单位党组织可以导入名册")
    if actor["role"] == "community_staff" and data["community_id"] is None:
        data["community_id"] = actor.get("community_id")
    tick = progress or (lambda n: None)
    key = id_hash_key()
    now, year = utcnow(), date.today().year
    # one import at a time across every instance: the next one reads what this one wrote
    busy = Conflict(code="ROSTER_IMPORT_BUSY", message="另一份名册正在导入，请稍后再试")
    with exclusive(store, Mutex.__table__, "roster_import", busy), store.uow() as uow:
        session = uow.session
        tree = _Tree(session, actor)
        forced_unit = None
        if actor["role"] == "unit_org":  # a work unit imports its own members
            forced_unit = _work_unit(session, actor.get("work_unit_id")).name
        errors, clean, seen_hash, seen_phone = [], [], {}, {}
        for n, raw in enumerate(data["rows"], start=1):
            line = raw.get("row") if isinstance(raw.get("row"), int) else n
            row, reasons = _roster_row(tree, raw, data["community_id"], forced_unit, key)
            if row is not None:
                if row["id_hash"] in seen_hash:
                    reasons.append(f"与第{seen_hash[row['id_hash']]}行的身份证号码重复")
                if row["phone"] in seen_phone:
                    reasons.append(f"与第{seen_phone[row['phone']]}行的手机号码重复")
                seen_hash.setdefault(row["id_hash"], line)
                seen_phone.setdefault(row["phone"], line)
            if reasons:
                errors.append({"row": line, "reason": "；".join(reasons)})
            else:
                row["line"] = line
                clean.append(row)
            if n % 500 == 0:
                tick(500)
        tick(len(data["rows"]) % 500)
        existing: dict[str, Member] = {}
        owners: dict[str, int] = {}
        for chunk in _chunks([r["id_hash"] for r in clean]):
            existing.update((m.id_number_hash, m) for m in session.scalars(
                select(Member).where(Member.id_number_hash.in_(chunk))))
        for chunk in _chunks([r["phone"] for r in clean]):
            owners.update(session.execute(select(User.username, User.id).where(User.username.in_(chunk))).all())
        current = _current_details(session, [m.id for m in existing.values()])
        creates, updates, unchanged = [], [], 0
        for row in clean:
            member = existing.get(row["id_hash"])
            owner = owners.get(row["phone"])
            if owner is not None and (member is None or owner != member.id):
                errors.append({"row": row["line"], "reason": "手机号码已被其他账号使用"})
            elif member is not None and not tree.may_change(member):
                # finding 4: a row matching someone else's member (on the ID number) changes nothing
                errors.append({"row": row["line"], "reason": "该党员的报到登记不在您的管辖范围内，不能通过名册修改"})
            elif member is None:
                creates.append(row)
            else:
                changes = _changes(row, member, current[member.id])
                if changes:
                    updates.append((member, changes, row))
                else:
                    unchanged += 1
        errors.sort(key=lambda e: e["row"])
        record = RosterImport(actor_id=actor.get("user_id"), community_id=data["community_id"],
                              source=data["source"], rows=len(data["rows"]), errors=errors, at=now)
        session.add(record)
        if errors:
            record.created = record.updated = record.unchanged = 0
            session.flush()
            result = _roster_result(record)
            uow.commit()  # only the report of what was wrong; no member row is written
            return result
        _create_imported(session, uow, actor, creates, now, year, tick)
        for member, changes, row in updates:
            _update_imported(session, uow, actor, member, changes, row)
        record.created, record.updated, record.unchanged = len(creates), len(updates), unchanged
        session.flush()
        result = _roster_result(record)
        uow.commit()
    return result


def _roster_result(record: RosterImport) -> dict:
    return schemas.RosterResult().dump({"import_id": record.id, "rows": record.rows, "created": record.created,
                                        "updated": record.updated, "unchanged": record.unchanged,
                                        "errors": record.errors})


def _unit_ids(session, names: set[str], party_orgs: dict) -> dict:
    names = {n for n in names if n}
    found = {}
    for chunk in _chunks(sorted(names)):
        found.update(session.execute(select(WorkUnit.name, WorkUnit.id).where(WorkUnit.name.in_(chunk))).all())
    missing = sorted(names - set(found))
    if missing:
        ids = session.scalars(insert(WorkUnit).returning(WorkUnit.id, sort_by_parameter_order=True),
                              [{"name": n, "party_org": party_orgs.get(n), "created_at": utcnow()}
                               for n in missing]).all()
        found.update(zip(missing, ids, strict=True))
    return found


def _create_imported(session, uow, actor, rows, now, year, tick):
    """Bulk inserts: one statement per table per chunk, ids back via RETURNING."""
    if not rows:
        return
    units = _unit_ids(session, {r["work_unit"] for r in rows},
                      {r["work_unit"]: r["party_org"] for r in rows if r["work_unit"]})
    for chunk in _chunks(rows, 1000):
        places = [_above_cached(session, r["building_id"] or r["grid_id"] or r["community_id"]) for r in chunk]
        user_ids = session.scalars(insert(User).returning(User.id, sort_by_parameter_order=True), [{
            "username": r["phone"], "password_hash": None, "role": "member", "name": r["name"], "phone": r["phone"],
            "org_unit_id": r["building_id"] or r["grid_id"] or r["community_id"], "created_at": now, "active": True,
            "district_id": p.get("district_id"), "street_id": p.get("street_id"),
            "community_id": r["community_id"], "grid_id": r["grid_id"],
            "work_unit_id": units.get(r["work_unit"]), "e_branch_id": None}
            for r, p in zip(chunk, places, strict=True)]).all()
        members, skills, posts, windows, commitments, history = [], [], [], [], [], []
        for r, member_id in zip(chunk, user_ids, strict=True):
            r["id"] = member_id
            members.append({
                "id": member_id, "name": r["name"], "phone": r["phone"], "id_number_hash": r["id_hash"],
                "id_number_masked": r["id_masked"],
                "community_id": r["community_id"], "grid_id": r["grid_id"], "building_id": r["building_id"],
                "work_unit": r["work_unit"], "work_unit_id": units.get(r["work_unit"]), "party_org": r["party_org"],
                "profession": r["profession"], "skills": r["skills"] or [], "status": domain.ACCEPTED,
                "registered_at": now, "decided_at": now, "source": "import", "updated_at": now})
            skills += [{"member_id": member_id, "skill": s, "community_id": r["community_id"]}
                       for s in r["skills"] or []]
            posts += [{"member_id": member_id, "post_id": p} for p in r["post_ids"] or []]
            windows += [{"member_id": member_id, "weekday": d, "start_minute": s, "end_minute": e}
                        for d, s, e in r["windows"] or []]
            commitments += [{"member_id": member_id, "year": year, "text": t} for t in r["commitments"] or []]
            history.append({"member_id": member_id, "action": "import", "status": domain.ACCEPTED,
                            "community_id": r["community_id"], "grid_id": r["grid_id"],
                            "building_id": r["building_id"], "work_unit_id": units.get(r["work_unit"]),
                            "work_unit": r["work_unit"], "reason": "名册导入", "actor_id": actor.get("user_id"),
                            "actor_role": actor["role"], "at": now})
        session.execute(insert(Member), members)
        for table, values in ((MemberSkill, skills), (MemberPost, posts), (FreeTime, windows),
                              (Commitment, commitments), (RegistrationHistory, history)):
            if values:
                session.execute(insert(table), values)
        uow.emit_many("member.accepted", [{
            "member_id": m["id"], "name": m["name"], "community_id": m["community_id"],
            "street_id": p.get("street_id"), "district_id": p.get("district_id"), "grid_id": m["grid_id"],
            "building_id": m["building_id"], "work_unit_id": m["work_unit_id"], "e_branch_id": None,
            "skills": m["skills"], "id_number_masked": m["id_number_masked"]}
            for p, m in zip(places, members, strict=True)])
        tick(len(chunk))


def _above_cached(session, node_id) -> dict:
    cache = session.info.setdefault("_above", {})
    if node_id not in cache:
        cache[node_id] = _ancestry(session, node_id)
    return cache[node_id]


def _update_imported(session, uow, actor, member: Member, changes: dict, row: dict):
    before_community, before_unit = member.community_id, member.work_unit_id
    for key in ("name", "phone", "community_id", "grid_id", "building_id", "party_org", "profession"):
        if key in changes:
            setattr(member, key, changes[key])
    if "work_unit" in changes:
        unit = _work_unit_by_name(session, changes["work_unit"], row["party_org"])
        member.work_unit_id, member.work_unit = unit.id, unit.name
    member.updated_at = utcnow()
    session.flush()
    if "skills" in changes or "community_id" in changes:
        _set_skills(session, member, changes.get("skills", list(member.skills or [])))
    if "post_ids" in changes:
        _set_posts(session, member, changes["post_ids"])
    if "windows" in changes:
        _set_free_time(session, member, changes["windows"])
    if "commitments" in changes:
        _set_commitments(session, member, changes["commitments"])
    _sync_user(session, member)
    moved = member.community_id != before_community or member.work_unit_id != before_unit
    _record(session, member, actor, "transfer" if moved else "update", "名册导入")
    session.flush()
    if member.status != domain.ACCEPTED:
        return
    if moved:
        uow.emit("member.transferred", {**_facts(session, member), "from_community_id": before_community,
                                        "from_work_unit_id": before_unit, "reason": "名册导入"})
    else:
        uow.emit("member.updated", _facts(session, member))


def roster_errors(store: Store, actor: dict, import_id: int) -> list[dict]:
    actor = load(Actor, actor)
    with store.uow() as uow:
        record = uow.session.get(RosterImport, import_id)
        if record is None:
            raise NotFound(code="IMPORT_NOT_FOUND", message="找不到该次导入记录")
        if actor["role"] != "system" and record.actor_id != actor.get("user_id"):
            raise Forbidden(message="只能下载自己导入的错误报告")
        return list(record.errors or [])
