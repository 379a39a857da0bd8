"""What every service shares at its entrypoints: ``rpc``, a health ping and the outbox relay."""

from nameko.rpc import rpc as nameko_rpc
from nameko.timer import timer
from sqlalchemy import text

from common.errors import AppError


def rpc(fn):
    """nameko's ``@rpc``; our own errors are expected answers, logged as warnings, not crashes."""
    return nameko_rpc(expected_exceptions=(AppError,))(fn)


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
