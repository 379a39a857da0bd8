"""Entrypoints every service has: a health ping and the outbox relay."""

from nameko.rpc import rpc
from nameko.timer import timer
from sqlalchemy import text


class ServiceBase:
    """Mixed into each service class; expects a ``db`` (:class:`common.db.Database`)."""

    @rpc
    def ping(self) -> dict:
        with self.db.engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        return {"service": self.name, "database": self.db.engine.dialect.name}

    @timer(interval=5)
    def relay_outbox(self):
        self.db.relay_pending()
