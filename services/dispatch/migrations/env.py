from common.migrations import run_env
from services.dispatch.models import Base

run_env(Base.metadata)
