"""The demo district a newcomer can try at once: a street, communities, people, menus.

Each service may have a ``demo.py`` with ``seed(store, context)``; they run in the order of
``common.config.SERVICES`` with registration first (it makes the tree the others refer to),
passing a shared ``context`` along. Loaded only when registration's database is empty.
"""

import importlib

from common import config
from common.db import Store
from services.registration import demo as registration_demo

DEMO_PASSWORD = registration_demo.DEMO_PASSWORD
demo_id_number = registration_demo.demo_id_number


def store_for(name: str, url: str | None = None, amqp_uri: str | None = None) -> Store:
    models = importlib.import_module(f"services.{name}.models")
    return Store(models.Base.metadata, name, url or config.database_url(name), amqp_uri or config.amqp_uri())


def seed(urls: dict | None = None, amqp_uri: str | None = None) -> list[tuple[str, str, str]]:
    """Load the demo; returns (role, username, what) for the logins printed at start.

    ``urls`` maps service → database URL and limits the seeding to those services (tests);
    by default every service's configured database.
    """
    order = ["registration"] + [s for s in config.SERVICES if s != "registration"]
    context: dict = {}
    for name in order:
        try:
            module = importlib.import_module(f"services.{name}.demo")
        except ModuleNotFoundError:
            continue
        if urls is not None and name not in urls:
            continue
        store = store_for(name, (urls or {}).get(name), amqp_uri)
        try:
            if name == "registration" and not module.is_empty(store):
                return []
            module.seed(store, context)
        finally:
            store.dispose()
    return context.get("logins", [])
