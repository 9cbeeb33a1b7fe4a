# syntax=docker/dockerfile:1
# The pages' front end: npm packages, built as `make assets` builds them.
FROM node:20-bookworm-slim AS assets
WORKDIR /src
RUN apt-get update && apt-get install -y --no-install-recommends make && rm -rf /var/lib/apt/lists/*
COPY package.json package-lock.json Makefile ./
COPY web/static/app web/static/app
RUN make assets

FROM python:3.11-slim-bookworm AS build
WORKDIR /src
COPY pyproject.toml README.md ./
COPY domain domain
COPY services services
COPY projections projections
COPY web web
COPY --from=assets /src/web/static/vendor web/static/vendor
RUN pip wheel --no-cache-dir --wheel-dir /wheels .

FROM python:3.11-slim-bookworm
RUN useradd --create-home --uid 10001 waymark
COPY --from=build /wheels /wheels
RUN pip install --no-cache-dir /wheels/*.whl && rm -rf /wheels
USER waymark
WORKDIR /home/waymark
ENV WAYMARK_DATA_DIR=/home/waymark/data
EXPOSE 8000
CMD ["waymark", "serve", "--host", "0.0.0.0", "--port", "8000"]
