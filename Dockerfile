# syntax=docker/dockerfile:1
# jiwoo's image: gunicorn serving the app as a non-root user, on a read-only root filesystem.

FROM python:3.11-slim-bookworm AS build
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
RUN python -m venv /opt/venv
COPY requirements.txt /tmp/requirements.txt
RUN /opt/venv/bin/pip install --no-compile -r /tmp/requirements.txt

FROM python:3.11-slim-bookworm
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    DJANGO_SETTINGS_MODULE=jiwoo.settings \
    PORT=8000
RUN groupadd --system --gid 10001 jiwoo \
    && useradd --system --uid 10001 --gid jiwoo --home-dir /app --shell /usr/sbin/nologin jiwoo
COPY --from=build /opt/venv /opt/venv
WORKDIR /app
COPY --chown=root:root . /app
# Static files are collected (hashed and compressed) at build time: the root filesystem is
# read-only at run time. The key exists only for this step.
RUN python scripts/compile_messages.py \
    && DJANGO_SECRET_KEY=collectstatic-only OTEL_SDK_DISABLED=true \
    python manage.py collectstatic --noinput --verbosity 0 \
    && python -m compileall -q /app
USER 10001:10001
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=3s --start-period=10s --retries=3 \
    CMD ["python", "-c", "import urllib.request, sys; sys.exit(urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=2).status != 200)"]
CMD ["gunicorn", "-c", "python:jiwoo.gunicorn_conf", "jiwoo.wsgi"]
