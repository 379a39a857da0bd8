"""Alembic, one history per service (``services/<name>/migrations``), driven from Python."""

from pathlib import Path

from alembic import command, context
from alembic.config import Config
from sqlalchemy import engine_from_config, pool

from common import config

SERVICES_DIR = Path(__file__).resolve().parent.parent / "services"


def alembic_config(service: str, url: str | None = None) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(SERVICES_DIR / service / "migrations"))
    cfg.set_main_option("sqlalchemy.url", (url or config.database_url(service)).replace("%", "%%"))
    return cfg


def upgrade(service: str, url: str | None = None, revision: str = "heads"):
    # "heads": parallel branches of work may each add a revision on the same parent; all apply
    command.upgrade(alembic_config(service, url), revision)


def run_env(metadata):
    """The body of every service's ``migrations/env.py``."""
    cfg = context.config
    if context.is_offline_mode():
        context.configure(url=cfg.get_main_option("sqlalchemy.url"), target_metadata=metadata,
                          literal_binds=True, render_as_batch=True)
        with context.begin_transaction():
            context.run_migrations()
        return
    engine = engine_from_config(cfg.get_section(cfg.config_ini_section, {}), prefix="sqlalchemy.",
                                poolclass=pool.NullPool)
    with engine.connect() as connection:
        # batch mode: SQLite cannot ALTER most things in place
        context.configure(connection=connection, target_metadata=metadata, render_as_batch=True)
        with context.begin_transaction():
            context.run_migrations()
