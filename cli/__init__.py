"""Operator commands: ``baodao run | serve | migrate | seed-demo | dlq`` (see ``cli/main.py``)."""

import warnings

# nameko imports eventlet, which warns on every command; operators need not see it
warnings.filterwarnings("ignore", message=r"\s*Eventlet is deprecated")
