"""``baodao backup DIR`` / ``baodao restore DIR``: every service's database, with the native tools.

- SQLite: the online backup API (a consistent copy while the services run) → ``<service>.sqlite``.
- PostgreSQL: ``pg_dump --format=custom`` → ``<service>.pgdump``; restored with ``pg_restore``
  (``postgresql-client`` must be installed where the command runs).
- ``manifest.json`` names each service, its database kind and its Alembic revisions, so a restore
  refuses a backup the code cannot read and never writes over a database that holds data.
"""

import json
import shutil
import sqlite3
import subprocess
from datetime import UTC, datetime
from pathlib import Path

import click
from sqlalchemy import create_engine, inspect, text
from sqlalchemy.engine import make_url

from common import config

MANIFEST = "manifest.json"


def _sqlite_path(url) -> Path:
    return Path(url.database)


def _pg_args(url) -> tuple[list[str], dict]:
    """libpq arguments and environment (the password never on a command line)."""
    args = ["--dbname", url.database, "--host", url.host or "127.0.0.1", "--port", str(url.port or 5432)]
    if url.username:
        args += ["--username", url.username]
    env = {"PGPASSWORD": url.password} if url.password else {}
    return args, env


def _run(cmd: list[str], env: dict):
    import os

    if not shutil.which(cmd[0]):
        raise click.ClickException(f"找不到 {cmd[0]}：请安装 PostgreSQL 客户端（apt-get install postgresql-client）")
    done = subprocess.run(cmd, env={**os.environ, **env}, capture_output=True, text=True)
    if done.returncode != 0:
        raise click.ClickException(f"{cmd[0]} 失败：{done.stderr.strip()[:500]}")


def _revisions(url: str) -> list[str]:
    engine = create_engine(url)
    try:
        if not inspect(engine).has_table("alembic_version"):
            return []
        with engine.connect() as conn:
            return sorted(conn.execute(text("SELECT version_num FROM alembic_version")).scalars())
    finally:
        engine.dispose()


def _has_data(url: str) -> bool:
    engine = create_engine(url)
    try:
        tables = [t for t in inspect(engine).get_table_names() if t != "alembic_version"]
        with engine.connect() as conn:
            return any(conn.execute(text(f'SELECT 1 FROM "{t}" LIMIT 1')).first() for t in tables)
    finally:
        engine.dispose()


def backup(target: Path, services=None, urls: dict | None = None) -> dict:
    target.mkdir(parents=True, exist_ok=True)
    manifest = {"created_at": datetime.now(UTC).isoformat(), "services": {}}
    # databases given by URL are the ones to back up; otherwise every service's configured one
    for name in services or list(urls or config.SERVICES):
        raw = (urls or {}).get(name) or config.database_url(name)
        url = make_url(raw)
        if url.get_backend_name() == "sqlite":
            out = target / f"{name}.sqlite"
            if not _sqlite_path(url).exists():  # connect() would make an empty file and "back it up"
                raise click.ClickException(f"{name}：数据库文件 {_sqlite_path(url)} 不存在，无法备份")
            source = sqlite3.connect(_sqlite_path(url))
            dest = sqlite3.connect(out)
            try:
                source.backup(dest)  # consistent even while the service writes
            finally:
                dest.close()
                source.close()
            kind = "sqlite"
        else:
            out = target / f"{name}.pgdump"
            args, env = _pg_args(url)
            _run(["pg_dump", "--format=custom", "--no-owner", "--no-privileges", "--file", str(out), *args], env)
            kind = "postgresql"
        manifest["services"][name] = {"file": out.name, "kind": kind, "revisions": _revisions(raw),
                                      "bytes": out.stat().st_size}
    (target / MANIFEST).write_text(json.dumps(manifest, ensure_ascii=False, indent=1), encoding="utf-8")
    return manifest


def restore(source: Path, services=None, urls: dict | None = None, force: bool = False) -> list[str]:
    manifest_path = source / MANIFEST
    if not manifest_path.exists():
        raise click.ClickException(f"{source} 不是宝岛备份目录（缺少 {MANIFEST}）")
    manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    chosen = list(services or manifest["services"])
    missing = [s for s in chosen if s not in manifest["services"]]
    if missing:
        raise click.ClickException(f"备份里没有这些服务：{'、'.join(missing)}")
    for name in chosen:  # check all before writing any: all or nothing
        raw = (urls or {}).get(name) or config.database_url(name)
        kind = "sqlite" if make_url(raw).get_backend_name() == "sqlite" else "postgresql"
        if kind != manifest["services"][name]["kind"]:
            raise click.ClickException(f"{name}：备份是 {manifest['services'][name]['kind']}，目标库是 {kind}；"
                                       "跨库迁移请用 baodao roster 导出导入或 ETL 工具")
        if not force and _exists_with_data(raw):
            raise click.ClickException(f"{name}：目标数据库已有数据，未覆盖（确认要覆盖请加 --force）")
    for name in chosen:
        raw = (urls or {}).get(name) or config.database_url(name)
        url = make_url(raw)
        entry = manifest["services"][name]
        if entry["kind"] == "sqlite":
            path = _sqlite_path(url)
            path.parent.mkdir(parents=True, exist_ok=True)
            for leftover in (path, Path(f"{path}-wal"), Path(f"{path}-shm")):
                leftover.unlink(missing_ok=True)
            src = sqlite3.connect(source / entry["file"])
            dest = sqlite3.connect(path)
            try:
                src.backup(dest)
            finally:
                dest.close()
                src.close()
        else:
            args, env = _pg_args(url)
            _run(["pg_restore", "--clean", "--if-exists", "--no-owner", "--no-privileges", "--exit-on-error",
                  *args, str(source / entry["file"])], env)
    return chosen


def _exists_with_data(url: str) -> bool:
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite" and not _sqlite_path(parsed).exists():
        return False
    return _has_data(url)


@click.command("backup", help="备份各服务的数据库到一个目录（SQLite 在线备份；PostgreSQL 用 pg_dump）。")
@click.argument("target", type=click.Path(file_okay=False, path_type=Path))
@click.option("--service", "services", multiple=True, type=click.Choice(config.SERVICES), help="只备份这些服务")
def backup_command(target, services):
    manifest = backup(target, services or None)
    for name, entry in manifest["services"].items():
        click.echo(f"{name}: {entry['file']}（{entry['bytes']} 字节，版本 {', '.join(entry['revisions']) or '无'}）")
    click.echo(f"已备份到 {target}")


@click.command("restore", help="从 baodao backup 的目录恢复各服务的数据库（先停止平台；默认只恢复到空库）。")
@click.argument("source", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--service", "services", multiple=True, type=click.Choice(config.SERVICES), help="只恢复这些服务")
@click.option("--force", is_flag=True, help="目标库已有数据时也覆盖")
def restore_command(source, services, force):
    for name in restore(source, services or None, force=force):
        click.echo(f"{name}: 已恢复")
    click.echo("恢复完成。请运行 baodao migrate（若代码比备份新）后再启动平台。")
