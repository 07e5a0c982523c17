"""Django settings for jiwoo, read from the environment only (12-factor).

Every variable read here is listed in the README; a credential may also come from the file its
``*_FILE`` variable names (core/environment.py). With ``DJANGO_DEBUG`` off (the default) the app
refuses to start without ``DJANGO_SECRET_KEY`` rather than run with a known key.

Sections: Django (apps, middleware, templates), security, data (database, Redis, sessions),
observability, and the apps' own settings.
"""

from datetime import timedelta
from pathlib import Path

from csp.constants import NONE, SELF
from django.core.exceptions import ImproperlyConfigured

from core.client import trusted_networks
from core.database import database_config
from core.environment import env, secret, service_name
from observability.json_logging import logging_config

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = BASE_DIR / "var"

# --- Django ---------------------------------------------------------------------------------

DEBUG = env.bool("DJANGO_DEBUG", default=False)

SECRET_KEY = secret("DJANGO_SECRET_KEY")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured(
            "DJANGO_SECRET_KEY is not set. Set it (or DJANGO_SECRET_KEY_FILE, naming a file that holds it) "
            "to a long random string, or set DJANGO_DEBUG=true for local development."
        )
    SECRET_KEY = "django-insecure-development-only-key"  # noqa: S105 - only ever with DEBUG on

ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]"])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "axes",
    "csp",
    "ninja",  # the API docs page's template and its Swagger UI static files
    "accounts",
    "messages_app",
    "logs_app",
    "browser_traces",
    "operations",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # Tells each request's story (log context, http.request line, the summary recorders
    # subscribe to); outside the session middleware so its duration includes the session save.
    "observability.middleware.RequestMiddleware",
    # Right after it, so that what it refuses still gets its line: bodies no view can read,
    # statements over the timeout, HEAD bodies, shared caches. See docs/ARCHITECTURE.md.
    "core.hardening.HardeningMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    # Last, as django-axes asks: it turns a locked-out log-in into the lockout page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "jiwoo.urls"
WSGI_APPLICATION = "jiwoo.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "observability.context_processors.trace",
            ],
        },
    },
]

LANGUAGE_CODE = "en"
# English by default, Korean for browsers that prefer it; switchable from every page.
LANGUAGES = [("en", "English"), ("ko", "한국어")]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = env.str("DJANGO_TIME_ZONE", default="UTC")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = VAR_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
# The container image sets DJANGO_STATIC_MANIFEST=true for its build-time collectstatic and at
# run time: hashed, compressed files served with a far-future Cache-Control. Without it
# (make run, the tests) WhiteNoise serves the source files through the finders.
STATIC_MANIFEST = env.bool("DJANGO_STATIC_MANIFEST", default=False)
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "whitenoise.storage.CompressedManifestStaticFilesStorage"
            if STATIC_MANIFEST
            else "django.contrib.staticfiles.storage.StaticFilesStorage"
        )
    },
}
WHITENOISE_USE_FINDERS = not STATIC_MANIFEST
# Files browsers ask for at the site's root (the icon), served by WhiteNoise like static files.
WHITENOISE_ROOT = BASE_DIR / "static" / "root"
if not STATIC_MANIFEST:
    STATIC_ROOT.mkdir(parents=True, exist_ok=True)  # WhiteNoise warns when it is missing

# --- Security ---------------------------------------------------------------------------------

CSRF_TRUSTED_ORIGINS = env.list("DJANGO_CSRF_TRUSTED_ORIGINS", default=[])
CSRF_FAILURE_VIEW = "observability.errors.csrf_failure"

# Request bodies larger than this are refused with a 413 before they are read, files included
# (core/hardening.py); a message is at most 2,000 characters. No form takes files: a file in a
# multipart body is refused with a 400 before any of it is kept.
DATA_UPLOAD_MAX_MEMORY_SIZE = 256 * 1024
FILE_UPLOAD_HANDLERS = ["core.hardening.NoFileUploadHandler"]

# Served over HTTPS (the default in production): secure cookies, HSTS, redirect to https.
# TLS usually ends at the ingress, which says so in X-Forwarded-Proto. Set DJANGO_HTTPS=false
# only where the site really is plain HTTP.
HTTPS = env.bool("DJANGO_HTTPS", default=not DEBUG)
if HTTPS:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = True
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = env.int("DJANGO_HSTS_SECONDS", default=31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("DJANGO_HSTS_INCLUDE_SUBDOMAINS", default=True)
    SECURE_HSTS_PRELOAD = env.bool("DJANGO_HSTS_PRELOAD", default=False)
    if not SECURE_HSTS_PRELOAD:
        # Preloading binds the whole registrable domain to HTTPS for good: the operator opts
        # in with DJANGO_HSTS_PRELOAD=true; it is not for every deployment to claim.
        SILENCED_SYSTEM_CHECKS = ["security.W021"]
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_HTTPONLY = True

# No inline script anywhere: every script is a file of ours served from this origin.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF, "data:"],
        "font-src": [SELF],
        "connect-src": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
        "base-uri": [SELF],
        "object-src": [NONE],
    }
}

# Addresses or CIDR networks of reverse proxies whose X-Forwarded-For is trusted for the client
# address (logs, activity, log-in throttling), e.g. 10.0.0.0/8 for the ingress pods.
TRUSTED_PROXIES = trusted_networks(env.list("DJANGO_TRUSTED_PROXIES", default=[]))

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
AUTHENTICATION_BACKENDS = [
    # First, so a locked-out username and address is refused before the password is checked.
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
# Log-in throttling: after AXES_FAILURE_LIMIT failures for one username from one address,
# that pair is locked out for the cool-off time; the same user from elsewhere still gets in.
AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = timedelta(minutes=env.int("AXES_COOLOFF_MINUTES", default=15))
# Password spraying (many usernames, few passwords each, from one address) meets a limit of
# its own: AXES_ADDRESS_FAILURE_LIMIT failures from one address, whatever the usernames.
# accounts.lockout.AxesHandler gives each of the two parameter groups its own limit.
AXES_ADDRESS_FAILURE_LIMIT = env.int("AXES_ADDRESS_FAILURE_LIMIT", default=30)
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"], "ip_address"]
AXES_HANDLER = "accounts.lockout.AxesHandler"
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "accounts/locked_out.html"
AXES_CLIENT_IP_CALLABLE = "core.client.client_address"
# What was typed into the username box is stored as it is only when it names an account: a
# password typed there by mistake is kept as a keyed hash (accounts.lockout.username_for_records).
AXES_USERNAME_CALLABLE = "accounts.lockout.axes_username"
# The attempts table keeps no form values: no password, username or CSRF token in post_data.
AXES_SENSITIVE_PARAMETERS = ["username", "password", "csrfmiddlewaretoken", "ip_address"]
# A failure during a lockout is not recorded: each one would append its form to the row's
# post_data, which would grow without end while a client kept trying.
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False
AXES_DISABLE_ACCESS_LOG = True
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "messages:list"
LOGOUT_REDIRECT_URL = "accounts:login"

# --- Data: the database, Redis, sessions ----------------------------------------------------

# An SQLite file under var/ unless DATABASE_URL names another (PostgreSQL in Kubernetes, also
# behind PgBouncer in transaction mode: core/database.py and core/postgresql/ say how).
DATABASES = {
    "default": database_config(
        secret("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'jiwoo.sqlite3'}"),
        password=secret("DATABASE_PASSWORD"),
        conn_max_age=env.int("DATABASE_CONN_MAX_AGE", default=60),
        connect_timeout=env.int("DATABASE_CONNECT_TIMEOUT", default=3),
    ),
}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
# On PostgreSQL a web request's statements are cancelled after this many seconds (0: never);
# management commands have no timeout (core/hardening.py binds it for each request).
DATABASE_STATEMENT_TIMEOUT = env.float("DATABASE_STATEMENT_TIMEOUT", default=5.0)

# Redis holds the cache, the sessions' cached copy, the throttles, the message quota and recent
# activity, through one connection pool with short timeouts and a circuit breaker (core/redis.py).
REDIS_URL = secret("REDIS_URL", default="redis://127.0.0.1:6379/0")
if not REDIS_URL:
    raise ImproperlyConfigured("REDIS_URL is set but empty: name a Redis, or unset it for 127.0.0.1:6379.")
REDIS_KEY_PREFIX = env.str("REDIS_KEY_PREFIX", default="jiwoo")
REDIS_TIMEOUT_SECONDS = env.float("REDIS_TIMEOUT_SECONDS", default=0.2)
# Like DATABASE_PASSWORD: a password with "@" or "/" needs no encoding when given on its own.
REDIS_PASSWORD = secret("REDIS_PASSWORD")
CACHES = {
    "default": {
        "BACKEND": "django_redis.cache.RedisCache",
        "LOCATION": REDIS_URL,
        "KEY_PREFIX": REDIS_KEY_PREFIX,
        "OPTIONS": {
            "CONNECTION_POOL_CLASS": "core.redis.BreakerConnectionPool",
            "SOCKET_CONNECT_TIMEOUT": REDIS_TIMEOUT_SECONDS,
            "SOCKET_TIMEOUT": REDIS_TIMEOUT_SECONDS,
            # A Redis outage degrades the cache to misses instead of failing the request.
            "IGNORE_EXCEPTIONS": True,
            **({"PASSWORD": REDIS_PASSWORD} if REDIS_PASSWORD else {}),
        },
    }
}
DJANGO_REDIS_LOG_IGNORED_EXCEPTIONS = True
# The database keeps every session, so a Redis outage logs nobody out; Redis serves the reads.
SESSION_ENGINE = "django.contrib.sessions.backends.cached_db"

# --- Observability -----------------------------------------------------------------------------

# The OpenTelemetry service.name; every log line carries it as service_name. The OTEL_*
# variables themselves are read by observability/telemetry.py, as the specification defines.
SERVICE_NAME = service_name()

# One JSON object per line on stdout for every logger; see observability/json_logging.py.
LOGGING = logging_config(level=env.str("DJANGO_LOG_LEVEL", default="INFO").upper(), service_name=SERVICE_NAME)
# The http.request line of each request (the benchmark switches it off to measure its cost).
REQUEST_LOG_ENABLED = env.bool("DJANGO_REQUEST_LOG", default=True)

# --- The apps' own settings -------------------------------------------------------------------

# accounts: sign-ups per client address per hour, and wrong old passwords per user per
# AXES_COOLOFF_TIME in the password-change form (counted in Redis, so an outage lifts them).
SIGNUP_RATE_LIMIT = env.int("SIGNUP_RATE_LIMIT", default=10)
PASSWORD_CHANGE_FAILURE_LIMIT = env.int("PASSWORD_CHANGE_FAILURE_LIMIT", default=5)

# messages_app: a user keeps at most this many messages (0: no limit); the form and the API say
# so. The page remembers each shown message's dates and the phrases of its age per language and
# time zone (templatetags/message_rows.py); false formats them afresh every time.
MESSAGES_PER_USER_MAX = env.int("MESSAGES_PER_USER_MAX", default=100_000)
MESSAGE_ROWS_MEMO = env.bool("MESSAGE_ROWS_MEMO", default=True)

# browser_traces: span exports a minute per session and per client address; a page exports
# every few seconds, so more is a flood (the API's fuzzing test raises them).
BROWSER_TRACES_RATE_LIMIT_PER_SESSION = env.int("BROWSER_TRACES_RATE_LIMIT_PER_SESSION", default=60)
BROWSER_TRACES_RATE_LIMIT_PER_ADDRESS = env.int("BROWSER_TRACES_RATE_LIMIT_PER_ADDRESS", default=300)

# logs_app: recent activity. Everyone's list and each user's own (shorter: the page shows 50
# entries, the API at most 200, and every account's list takes room in Redis for a week).
# Entries are written by a per-process background thread, off the request's path.
RECENT_ACTIVITY_ENABLED = env.bool("RECENT_ACTIVITY_ENABLED", default=True)
RECENT_ACTIVITY_BACKGROUND = env.bool("RECENT_ACTIVITY_BACKGROUND", default=True)
RECENT_LOGS_MAX = env.int("RECENT_LOGS_MAX", default=1000)
RECENT_LOGS_USER_MAX = env.int("RECENT_LOGS_USER_MAX", default=200)
RECENT_ACTIVITY_KEY = f"{REDIS_KEY_PREFIX}:recent-activity"
# The trace view (/logs/traces/<id>/): each request's spans kept in Redis for its owner
# (observability/trace_store.py). Unset: on where no traces endpoint is configured (make run, a
# deployment without a collector), off beside OTLP export, where Tempo holds the traces.
TRACE_VIEW_ENABLED = env.bool("TRACE_VIEW_ENABLED", default=None)
TRACE_VIEW_MAX_TRACES = env.int("TRACE_VIEW_MAX_TRACES", default=500)
TRACE_VIEW_MAX_SPANS = env.int("TRACE_VIEW_MAX_SPANS", default=100)
TRACE_VIEW_MAX_ATTRIBUTE_LENGTH = env.int("TRACE_VIEW_MAX_ATTRIBUTE_LENGTH", default=1024)
TRACE_VIEW_TTL_SECONDS = env.int("TRACE_VIEW_TTL_SECONDS", default=24 * 3600)
# Grafana Explore links from the activity page (optional): the base URL and datasource uids.
GRAFANA_URL = env.str("GRAFANA_URL", default="")
GRAFANA_TEMPO_UID = env.str("GRAFANA_TEMPO_UID", default="tempo")
GRAFANA_LOKI_UID = env.str("GRAFANA_LOKI_UID", default="loki")
