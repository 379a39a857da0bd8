"""``baodao api-key …``: keys are made straight in the bridge's database, no running service needed."""

import click

from common import config
from common.db import Store
from common.errors import AppError
from services.bridge import usecases
from services.bridge.models import Base


def _store() -> Store:
    return Store(Base.metadata, "bridge", config.database_url("bridge"), config.amqp_uri())


def create(system: str, communities: list[int] | None):
    store = _store()
    try:
        created = usecases.create_api_key(store, {"system": system, "communities": communities})
    except AppError as err:
        raise click.ClickException(f"{err.message} {err.fields or ''}") from None
    finally:
        store.dispose()
    scope = "全部社区" if created["communities"] is None else "、".join(map(str, created["communities"]))
    click.echo(f"已为系统“{created['system']}”生成接入密钥（可访问：{scope}）。请妥善保存，它不会再显示：")
    click.echo(created["api_key"])


def revoke(system: str):
    store = _store()
    try:
        count = usecases.revoke_api_keys(store, system)
    finally:
        store.dispose()
    click.echo(f"已停用系统“{system}”的 {count} 个接入密钥")
