"""Open311 GeoReport v2 (http://wiki.open311.org/GeoReport_v2) over our menus and requests.

Pure mapping, no I/O: a community's service menu item is an Open311 *service* (its fields are
the service definition's attributes); ``jurisdiction_id`` is the community's id; our request
lifecycle folds into Open311's ``open``/``closed`` with the Chinese state in ``status_notes``.
"""

import re
from xml.etree import ElementTree

from common.errors import ValidationFailed

OPEN_STATES = ("submitted", "accepted", "dispatched", "claimed", "in_service", "done")
CLOSED_STATES = ("closed", "rejected", "duplicate", "cancelled")
STATE_LABELS = {
    "submitted": "已提交", "accepted": "已受理", "dispatched": "待党员接单", "claimed": "党员已接单",
    "in_service": "服务中", "done": "服务已完成，待确认", "closed": "已办结", "rejected": "未受理",
    "duplicate": "重复已合并", "cancelled": "已撤销",
}
SERVICE_NOTICE = "社区党组织受理后派给有相应特长的在职党员，办理进展可随时查询"
ATTRIBUTE_KEY = re.compile(r"^attribute\[([^\]]+)\](\[\])?$")
# XML: the element name of each list's items (Open311's own names)
XML_ITEMS = {"services": "service", "attributes": "attribute", "values": "value",
             "service_requests": "request", "errors": "error", "tokens": "token"}


def status_of(state: str) -> str:
    return "closed" if state in CLOSED_STATES else "open"


def states_for(statuses: list[str]) -> list[str]:
    out = []
    for status in statuses:
        out += OPEN_STATES if status == "open" else CLOSED_STATES
    return out


def service(item: dict) -> dict:
    return {
        "service_code": str(item["id"]),
        "service_name": item["title"],
        "description": item.get("description") or item["title"],
        "metadata": bool(item.get("fields")),
        "type": "realtime",
        "keywords": ",".join(item.get("skills") or []),
        "group": item.get("category") or "",
    }


def definition(item: dict) -> dict:
    attributes = []
    for n, f in enumerate(sorted(item.get("fields") or [], key=lambda f: f.get("order", 0)), start=1):
        attributes.append({
            "variable": True,
            "code": f["code"],
            "datatype": f.get("datatype", "string"),
            "required": bool(f.get("required")),
            "datatype_description": "",
            "order": f.get("order") or n,
            "description": f.get("description", f["code"]),
            "values": [{"key": v["key"], "name": v["name"]} for v in f.get("values") or []],
        })
    return {"service_code": str(item["id"]), "attributes": attributes}


def parse_attributes(pairs) -> dict:
    """``attribute[topic]=family``, ``attribute[tags][]=a&attribute[tags][]=b`` → field answers."""
    answers: dict = {}
    for key, value in pairs:
        match = ATTRIBUTE_KEY.match(key)
        if not match:
            continue
        code, many = match.group(1), bool(match.group(2))
        if many or code in answers:
            previous = answers.get(code, [])
            answers[code] = (previous if isinstance(previous, list) else [previous]) + [value]
        else:
            answers[code] = value
    return answers


def service_request(request: dict, agency: str = "", media_url: str | None = None) -> dict:
    """One of our requests as an Open311 service request."""
    state = request["state"]
    history = request.get("history") or []
    last_reason = next((h.get("reason") for h in reversed(history) if h.get("reason")), "")
    notes = STATE_LABELS.get(state, state) + (f"：{last_reason}" if last_reason else "")
    answers = request.get("answers") or {}
    return {
        "service_request_id": str(request["id"]),
        "status": status_of(state),
        "status_notes": notes,
        "service_name": request.get("title", ""),
        "service_code": str(request.get("menu_item_id", "")),
        "description": request.get("description", ""),
        "agency_responsible": agency,
        "service_notice": SERVICE_NOTICE,
        "requested_datetime": request.get("created_at"),
        "updated_datetime": request.get("updated_at"),
        "expected_datetime": request.get("due_at") or request.get("expected_at"),
        "address": answers.get("address", "") if isinstance(answers.get("address"), str) else "",
        "address_id": None,
        "zipcode": None,
        "lat": None,
        "long": None,
        "media_url": media_url,
    }


def public_service_request(request: dict, agency: str = "", community: str = "") -> dict:
    """What anyone may read without a key (GeoReport v2 makes these GETs public): the status of
    a request and nothing about the person — no name, phone, description or exact address; the
    community stands in for the address and the state label for the notes (staff's free-text
    reasons may name people)."""
    state = request["state"]
    return {
        "service_request_id": str(request["id"]),
        "status": status_of(state),
        "status_notes": STATE_LABELS.get(state, state),
        "service_code": str(request.get("menu_item_id", "")),
        "agency_responsible": agency,
        "requested_datetime": request.get("created_at"),
        "updated_datetime": request.get("updated_at"),
        "address": community,
    }


def split_list(value: str | None, *, as_int=False, name="") -> list:
    if not value:
        return []
    items = [v.strip() for v in value.split(",") if v.strip()]
    if as_int:
        try:
            return [int(v) for v in items]
        except ValueError:
            raise ValidationFailed(fields={name: ["应为以逗号分隔的编号"]}) from None
    return items


def errors(status: int, description: str) -> list[dict]:
    """Open311's error body: a list of {code, description}."""
    return [{"code": status, "description": description}]


def to_xml(root: str, payload) -> bytes:
    """Render a JSON-shaped answer the way Open311's XML format nests it."""
    element = ElementTree.Element(root)
    _fill(element, root, payload)
    return ElementTree.tostring(element, encoding="utf-8", xml_declaration=True)


def _fill(element, tag, value):
    if isinstance(value, list):
        child_tag = XML_ITEMS.get(tag, "item")
        for item in value:
            child = ElementTree.SubElement(element, child_tag)
            _fill(child, child_tag, item)
    elif isinstance(value, dict):
        for key, item in value.items():
            child = ElementTree.SubElement(element, key)
            _fill(child, key, item)
    elif value is None:
        return
    elif isinstance(value, bool):
        element.text = "true" if value else "false"
    else:
        element.text = str(value)
