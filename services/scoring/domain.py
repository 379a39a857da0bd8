"""Scoring rules, free of I/O: what an event is worth and to whom."""

from dataclasses import dataclass


@dataclass(frozen=True)
class Credit:
    member_id: int
    points: int
    entry_key: str
    reason: str


def credits_for_confirmed_request(event_id: str, data: dict) -> list[Credit]:
    """Each member who served a confirmed request earns its points, keyed by the source event."""
    return [
        Credit(member_id=m, points=data["points"], entry_key=f"{event_id}:{m}",
               reason=f"完成服务“{data['title']}”，居民评价{data['rating']}星")
        for m in data["member_ids"]
    ]
