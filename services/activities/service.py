"""Activities service entrypoints: volunteer activities and themed Party days (志愿活动, 主题党日)."""

from common.db import Database
from common.service import ServiceBase
from services.activities.models import Base


class ActivitiesService(ServiceBase):
    name = "activities"
    db = Database(Base.metadata)
