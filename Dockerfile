# syntax=docker/dockerfile:1
# Production image: the bot (`tys run`) and the scheduler (`tys scheduler`) share it.
# Stores are external here (PostgreSQL+pgvector, MongoDB, Redis from docker-compose.yml).

FROM python:3.11-slim-bookworm AS build
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
RUN apt-get update \
 && apt-get install -y --no-install-recommends build-essential pkg-config \
      libtesseract-dev libleptonica-dev \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY pyproject.toml README.md ./
COPY bot ./bot
COPY core ./core
COPY handlers ./handlers
COPY recommender ./recommender
COPY scheduler ./scheduler
RUN python -m venv /opt/venv \
 && /opt/venv/bin/pip install --upgrade pip \
 && /opt/venv/bin/pip install --extra-index-url https://download.pytorch.org/whl/cpu ".[train]"

FROM python:3.11-slim-bookworm AS runtime
RUN apt-get update \
 && apt-get install -y --no-install-recommends tesseract-ocr tesseract-ocr-kor tesseract-ocr-eng \
      curl tini \
 && rm -rf /var/lib/apt/lists/* \
 && groupadd --system tys && useradd --system --gid tys --home-dir /app --create-home tys
COPY --from=build /opt/venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    OMP_THREAD_LIMIT=1 \
    DATA_DIR=/app/data \
    WEB_HOST=0.0.0.0 \
    WEB_PORT=8080
WORKDIR /app
RUN mkdir -p /app/data && chown tys:tys /app/data
USER tys
EXPOSE 8080
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
  CMD curl -fsS http://127.0.0.1:8080/healthz || exit 1
ENTRYPOINT ["tini", "--", "tys"]
CMD ["run"]
