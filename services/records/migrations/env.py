from common.migrations import run_env
from services.records.models import Base

run_env(Base.metadata)
