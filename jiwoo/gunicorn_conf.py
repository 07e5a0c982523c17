"""gunicorn settings: ``gunicorn -c python:jiwoo.gunicorn_conf jiwoo.wsgi``.

OpenTelemetry starts in each worker after the fork (its exporter threads would not survive
a fork), and each worker flushes its spans before it exits. gunicorn's own logs use jiwoo's
JSON formatter; its access log is off, because jiwoo's http.request record carries the
trace context that an access line cannot.
"""

import gc
import os

import gunicorn

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "jiwoo.settings")

from core.environment import service_name
from observability import telemetry
from observability.json_logging import logging_config

# Every answer's Server header names no software: the name only helps someone who looks for
# servers to try a known exploit on. gunicorn has no setting for it; the header is its public
# module value gunicorn.SERVER, read when a worker builds a response.
gunicorn.SERVER = ""

bind = os.environ.get("GUNICORN_BIND", f"0.0.0.0:{os.environ.get('PORT', '8000')}")
workers = int(os.environ.get("WEB_CONCURRENCY", "2"))
# gthread workers (gunicorn picks them when threads > 1): a connection that sends half a
# request holds one thread, not the whole worker (docs/RELIABILITY.md). Many such connections
# still fill the threads: the Ingress in front must buffer whole requests (README,
# "Reliability and security").
threads = int(os.environ.get("GUNICORN_THREADS", "4"))
worker_class = "gthread" if threads > 1 else "sync"
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "30"))
graceful_timeout = int(os.environ.get("GUNICORN_GRACEFUL_TIMEOUT", "20"))
keepalive = 5
# gunicorn's most: the longest request the API's schema allows (a search of 200 characters, each
# up to 12 bytes percent-encoded, and its page parameters) reaches the app, which answers a longer
# one with its own JSON 400. Beyond it gunicorn answers 414 itself (the OpenAPI document says so).
limit_request_line = 8190
# Recycle workers now and then so that a slow leak cannot grow without bound.
max_requests = int(os.environ.get("GUNICORN_MAX_REQUESTS", "10000"))
max_requests_jitter = max_requests // 10
# The app is loaded in each worker, after post_fork, so nothing OpenTelemetry starts is forked.
preload_app = False
# Heartbeat files in memory: a disk-backed /tmp can stall workers (gunicorn's own advice).
worker_tmp_dir = "/dev/shm" if os.path.isdir("/dev/shm") else None  # noqa: S108

# No control socket: nothing drives gunicorn at run time, and the root filesystem is read-only.
control_socket_disable = True

accesslog = None
disable_redirect_access_to_syslog = True
errorlog = "-"
loglevel = os.environ.get("DJANGO_LOG_LEVEL", "info").lower()
logconfig_dict = logging_config(level=loglevel.upper(), service_name=service_name())


def post_fork(server, worker):
    telemetry.setup()


def worker_exit(server, worker):
    # Recent-activity entries still queued go to Redis first; their spans, if any, after.
    from logs_app.store import writer

    writer.flush()
    telemetry.shutdown()


def post_worker_init(worker):
    # The app is loaded: its long-lived objects (modules, URL patterns, the API's pydantic
    # models) move to the garbage collector's permanent generation, so a full collection walks
    # only what requests made (docs/BENCHMARKS.md has the measurements).
    gc.freeze()
