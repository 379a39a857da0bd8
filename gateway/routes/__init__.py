"""The gateway's endpoints, one module per area (its OpenAPI tag)."""
