"""The bridge's part of the demo: a 12345 hotline with a known key, so Open311 and the message
interface can be tried at once (a real key comes from ``baodao api-key create``)."""

from services.bridge import domain
from services.bridge.models import ApiKey

DEMO_SYSTEM = "hotline-12345"
DEMO_API_KEY = "bd_demo_hotline_12345"


def seed(store, context: dict):
    with store.uow() as uow:
        uow.session.add(ApiKey(system=DEMO_SYSTEM, key_hash=domain.hash_api_key(DEMO_API_KEY),
                               key_prefix=DEMO_API_KEY[:10], communities=None))
        uow.commit()
    context.setdefault("logins", []).append(
        ("system", DEMO_SYSTEM, f"12345 热线（演示）：api_key={DEMO_API_KEY}，消息 source={DEMO_SYSTEM}"))
