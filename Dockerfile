# syntax=docker/dockerfile:1
# jiwoo's image: gunicorn serving the app as a non-root user, on a read-only root filesystem.

FROM python:3.11-slim-bookworm AS build
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
RUN python -m venv /opt/venv
COPY requirements.txt /tmp/requirements.txt
# Byte-compiled once here: the root filesystem is read-only at run time, so without the .pyc
# files every worker would compile its imports again at each boot (~1.1 s instead of ~0.5 s).
# unchecked-hash: the files never change in the image, so Python need not stat their sources.
RUN /opt/venv/bin/pip install --no-compile -r /tmp/requirements.txt \
    && /opt/venv/bin/python -m compileall -q -j 0 --invalidation-mode unchecked-hash /opt/venv/lib

FROM python:3.11-slim-bookworm
# DJANGO_STATIC_MANIFEST: collectstatic below and the server both use WhiteNoise's manifest
# storage (hashed, compressed names served with a far-future Cache-Control). SSL_CERT_FILE:
# psycopg's wheel carries an OpenSSL of its own, whose default CA directory the image does not
# have; pointed at Debian's bundle, `sslrootcert=system` verifies a database server's
# certificate against the same CAs as Python's ssl.
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    DJANGO_SETTINGS_MODULE=jiwoo.settings \
    DJANGO_STATIC_MANIFEST=true \
    SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt \
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
    && python -m compileall -q --invalidation-mode unchecked-hash /app
USER 10001:10001
EXPOSE 8000
# The probe asks the port gunicorn binds: PORT, as the server reads it (8000 unless set).
HEALTHCHECK --interval=30s --timeout=3s --start-period=10s --retries=3 \
    CMD ["python", "-c", "import os, sys, urllib.request; port = os.environ.get('PORT') or '8000'; sys.exit(urllib.request.urlopen(f'http://127.0.0.1:{port}/healthz', timeout=2).status != 200)"]
CMD ["gunicorn", "-c", "python:jiwoo.gunicorn_conf", "jiwoo.wsgi"]
