# The images of one release: targets `api`, `worker` and `migrator` (the database job), built
# once per commit by CI (`docker build --target X --build-arg BUILD_SHA=<sha>`), pushed to dev
# and promoted to prod by digest. Dependencies come from uv.lock, exactly. /readyz reports
# BUILD_SHA, so the pipeline can tell the new release from the old one.
FROM python:3.11-slim-bookworm AS base
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 \
    UV_PYTHON_DOWNLOADS=never UV_COMPILE_BYTECODE=1 UV_LINK_MODE=copy
RUN pip install --no-cache-dir uv==0.13.8 \
 && apt-get update && apt-get install -y --no-install-recommends git \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /srv
COPY pyproject.toml uv.lock README.md ./
RUN uv sync --frozen --no-default-groups --no-install-project
COPY alembic.ini ./
COPY migrations migrations
COPY app app
COPY worker worker
RUN uv sync --frozen --no-default-groups && useradd --uid 10001 --no-create-home logdawg
USER 10001
ARG BUILD_SHA=unknown
ENV PATH=/srv/.venv/bin:$PATH LOGDAWG_BUILD_SHA=$BUILD_SHA

FROM base AS api
EXPOSE 8000
# LOGDAWG_API_WORKERS processes (default 1) share the port; see app/serve.py.
CMD ["python", "-m", "app.serve", "--host", "0.0.0.0", "--port", "8000"]

FROM base AS worker
EXPOSE 8080
CMD ["python", "-m", "worker"]

FROM base AS migrator
COPY scripts/migrator.py ./migrator.py
CMD ["python", "migrator.py"]
