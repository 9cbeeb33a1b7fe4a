# syntax=docker/dockerfile:1
# Waymark's image: `docker compose build` (see docker-compose.yml and docs/OPERATIONS.md).

# The pages' front end: npm packages, built as `make assets` builds them.
FROM node:20-bookworm-slim AS assets
WORKDIR /src
RUN apt-get update && apt-get install -y --no-install-recommends make && rm -rf /var/lib/apt/lists/*
COPY package.json package-lock.json Makefile ./
COPY web/static/app web/static/app
RUN make assets

# Build stage: Waymark and its dependencies installed into a virtual environment.
FROM python:3.11-slim-bookworm AS build
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
RUN python -m venv /opt/waymark
WORKDIR /src
COPY pyproject.toml README.md ./
COPY domain domain
COPY services services
COPY projections projections
COPY storage storage
COPY web web
COPY --from=assets /src/web/static/vendor web/static/vendor
RUN /opt/waymark/bin/pip install .

# Run stage: only that environment, run by an unprivileged user with a fixed uid.
FROM python:3.11-slim-bookworm
RUN groupadd --gid 10001 waymark \
    && useradd --uid 10001 --gid 10001 --home-dir /var/lib/waymark --create-home \
       --shell /usr/sbin/nologin waymark \
    && install -d -o waymark -g waymark -m 0700 /var/lib/waymark/data \
       /var/lib/waymark/keys /var/lib/waymark/checkpoint-log
COPY --from=build /opt/waymark /opt/waymark
ENV PATH=/opt/waymark/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    WAYMARK_DATA_DIR=/var/lib/waymark/data
USER 10001:10001
WORKDIR /var/lib/waymark
EXPOSE 8000
# uvicorn finishes requests in flight on SIGTERM (waymark serve --shutdown-timeout).
STOPSIGNAL SIGTERM
CMD ["waymark", "serve", "--host", "0.0.0.0", "--port", "8000", "--workers", "2"]
