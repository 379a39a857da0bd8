# One image for every Baodao process; docker-compose.yml picks the process with `command`.
FROM python:3.11-slim
WORKDIR /app
ENV PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1
COPY pyproject.toml README.md ./
COPY common ./common
COPY services ./services
COPY gateway ./gateway
COPY cli ./cli
RUN pip install -e .
RUN useradd --create-home baodao
USER baodao
CMD ["python", "-m", "cli.main", "--help"]
