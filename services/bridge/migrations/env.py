from common.migrations import run_env
from services.bridge.models import Base

run_env(Base.metadata)
