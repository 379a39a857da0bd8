"""Bridge service entrypoints: other government systems talk to the platform over messages."""

from common.db import Database
from common.service import ServiceBase
from services.bridge.models import Base


class BridgeService(ServiceBase):
    name = "bridge"
    db = Database(Base.metadata)
