"""Infrastructure shared by every Baodao service: config, errors, persistence, messaging contracts.

No business rules live here; each service keeps its own in its ``domain`` module.
"""

from common import validation as _validation  # noqa: E402

_validation.install()  # before any service builds a schema
