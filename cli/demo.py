"""The demo district a newcomer can try at once: a street, communities, people, menus.

Each service may have a ``demo.py`` with ``seed(store, context)``; they run in the order of
``common.config.SERVICES`` with registration first (it makes the tree the others refer to),
passing a shared ``context`` along. Loaded only when registration's database is empty.
"""

import importlib
import json

from sqlalchemy import select

from common import config
from common.db import Store
from services.registration import demo as registration_demo

DEMO_PASSWORD = registration_demo.DEMO_PASSWORD
demo_id_number = registration_demo.demo_id_number
LOGINS_FILE = "demo-logins.json"  # in the data directory: what the last seeding made


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
    logins = context.get("logins", [])
    if urls is None:  # the configured databases: remember the logins for every later start
        (config.data_dir() / LOGINS_FILE).write_text(json.dumps(logins, ensure_ascii=False, indent=1),
                                                     encoding="utf-8")
    return logins


def loaded_logins() -> list[tuple[str, str, str]]:
    """The demo logins that still exist in registration's database ([] if the demo is not loaded)."""
    path = config.data_dir() / LOGINS_FILE
    if not path.exists():
        return []
    logins = [tuple(row) for row in json.loads(path.read_text(encoding="utf-8"))]
    from services.registration.models import User

    store = store_for("registration")
    try:
        with store.uow() as uow:
            present = set(uow.session.scalars(select(User.username).where(
                User.username.in_([username for _, username, _ in logins]))))
    except Exception:  # not migrated yet, or unreachable: nothing to show
        return []
    finally:
        store.dispose()
    if not present:
        return []
    return [row for row in logins if row[1] in present or row[0] == "system"]
