FROM python:3.11-slim-bookworm
# fonts-noto-cjk: Chinese labels in the digest chart (matplotlib) and the demo screenshots.
RUN apt-get update && apt-get install -y --no-install-recommends fonts-noto-cjk curl \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY pyproject.toml README.md ./
COPY bot bot
COPY handlers handlers
COPY services services
COPY models models
COPY schedulers schedulers
COPY cards cards
COPY chat chat
COPY demo demo
COPY migrations migrations
RUN pip install --no-cache-dir .
ENV SALESBOT_MEDIA_DIR=/data/media
EXPOSE 8000
HEALTHCHECK --interval=15s --timeout=3s CMD curl -fsS http://127.0.0.1:8000/healthz || exit 1
CMD ["salesbot", "serve", "--host", "0.0.0.0", "--port", "8000"]
