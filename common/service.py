"""What every service shares at its entrypoints: ``rpc``, a health ping and the outbox relay."""

from nameko.rpc import rpc as nameko_rpc
from nameko.timer import timer
from sqlalchemy import text

from common.errors import AppError
from common.timers import fire_due


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

    def timer_handlers(self) -> dict:
        """Durable timer kind → ``handler(uow, timer)``; services with deadlines override this."""
        return {}

    @timer(interval=1)
    def fire_timers(self):
        handlers = self.timer_handlers()
        if handlers:
            fire_due(self.db, handlers)
