"""Operator commands: ``baodao run | serve | migrate | seed-demo | dlq`` (see ``cli/main.py``)."""
