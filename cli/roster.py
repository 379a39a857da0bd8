"""``baodao roster``: import a member roster (CSV/XLSX, Chinese headers) and export the talent pool.

Runs against registration's database directly (an operator command, like ``migrate``); the
events it raises go out through the outbox like any other change.
"""

import sys
from pathlib import Path

import click

from common import config


def _store():
    from common.db import Store
    from services.registration.models import Base

    return Store(Base.metadata, "registration", config.database_url("registration"), config.amqp_uri())


def _actor(store, username: str | None) -> dict:
    """System by default; ``--as`` applies a staff account's reach (its communities only)."""
    if not username:
        return {"user_id": None, "role": "system"}
    from sqlalchemy import select

    from services.registration.models import User
    from services.registration.usecases.accounts import principal_of

    with store.uow() as uow:
        user = uow.session.scalar(select(User).where(User.username == username))
        if user is None:
            raise click.ClickException(f"找不到账号 {username}")
        return principal_of(uow.session, user)


@click.group(help="党员名册导入与人才库导出。")
def roster():
    pass


@roster.command("import", help="导入名册文件（CSV 或 XLSX）。有任何错行则整表不写入，错误报告写到 <文件>.errors.csv。")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--community-id", type=int, default=None, help="表中未写社区时的默认社区编号")
@click.option("--as", "as_user", default=None, help="以该账号的权限导入（默认：系统）")
def import_(path: Path, community_id, as_user):
    from tqdm import tqdm

    from common.errors import AppError
    from services.registration import roster as sheets
    from services.registration.usecases import roster_import

    try:
        rows = sheets.parse(path.read_bytes(), path.name)
    except sheets.RosterFileError as err:
        raise click.ClickException(str(err)) from None
    store = _store()
    try:
        actor = _actor(store, as_user)
        # two passes over the rows: checking, then writing what is new
        with tqdm(total=len(rows) * 2, unit="行", desc=f"导入 {path.name}") as bar:
            try:
                result = roster_import.import_roster(store, actor, {"rows": rows, "source": path.name,
                                                               "community_id": community_id}, progress=bar.update)
            except AppError as err:
                raise click.ClickException(f"{err.message} {err.fields or ''}") from None
            bar.update(bar.total - bar.n)
    finally:
        store.dispose()
    if result["errors"]:
        report = path.with_name(path.name + ".errors.csv")
        report.write_bytes(sheets.write(sheets.ERROR_COLUMNS, result["errors"], "csv"))
        click.echo(f"名册有 {len(result['errors'])} 行错误，整表未导入。错误报告：{report}", err=True)
        for error in result["errors"][:10]:
            click.echo(f"  第{error['row']}行：{error['reason']}", err=True)
        sys.exit(1)
    click.echo(f"导入完成：新增 {result['created']}，更新 {result['updated']}，未变 {result['unchanged']}"
               f"（共 {result['rows']} 行）")


@roster.command("export", help="导出人才库到 XLSX 或 CSV 文件（按扩展名）。")
@click.argument("path", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--community-id", type=int, default=None)
@click.option("--status", default="accepted",
              type=click.Choice(["accepted", "submitted", "rejected", "revoked", "all"]))
@click.option("--as", "as_user", default=None, help="以该账号的权限导出（默认：系统）")
def export(path: Path, community_id, status, as_user):
    from services.registration import roster as sheets
    from services.registration.usecases import talent

    fmt = "csv" if path.suffix.lower() == ".csv" else "xlsx"
    store = _store()
    try:
        rows = talent.export_talent(store, _actor(store, as_user), {"community_id": community_id, "status": status})
    finally:
        store.dispose()
    path.write_bytes(sheets.write(sheets.EXPORT_COLUMNS, rows, fmt))
    click.echo(f"已导出 {len(rows)} 名党员到 {path}")
