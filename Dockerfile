# One image for every Baodao process; docker-compose.yml and deploy/kubernetes pick the process with `command`.

# The web app (web/dist): its API types are generated from the gateway's OpenAPI, so the build
# stage has the Python package too.
FROM node:22-bookworm-slim AS web
RUN apt-get update && apt-get install -y --no-install-recommends python3 python3-venv && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY pyproject.toml README.md ./
COPY common ./common
COPY services ./services
COPY gateway ./gateway
COPY cli ./cli
COPY authz ./authz
RUN python3 -m venv /venv && /venv/bin/pip install --no-cache-dir .
COPY web ./web
RUN cd web && npm ci && PYTHON=/venv/bin/python npm run build

FROM python:3.11-slim
WORKDIR /app
ENV PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1 PYTHONDONTWRITEBYTECODE=1
# pg_dump/pg_restore for `baodao backup` / `baodao restore` against PostgreSQL
RUN apt-get update && apt-get install -y --no-install-recommends postgresql-client && rm -rf /var/lib/apt/lists/*
COPY pyproject.toml README.md ./
COPY common ./common
COPY services ./services
COPY gateway ./gateway
COPY cli ./cli
COPY authz ./authz
COPY docs ./docs
RUN pip install -e .
COPY --from=web /app/web/dist ./web/dist
# a numeric uid, so Kubernetes' runAsNonRoot can verify it
RUN useradd --uid 10001 --create-home baodao
USER 10001
CMD ["python", "-m", "cli.main", "--help"]
