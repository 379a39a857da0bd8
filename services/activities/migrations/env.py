from common.migrations import run_env
from services.activities.models import Base

run_env(Base.metadata)
