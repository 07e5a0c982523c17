"""Django settings for jiwoo, read from the environment only (12-factor).

Every variable read here is listed in the README. With ``DJANGO_DEBUG`` off (the default)
the app refuses to start without ``DJANGO_SECRET_KEY`` rather than run with a known key.
"""

from datetime import timedelta
from pathlib import Path

from csp.constants import NONE, SELF
from django.core.exceptions import ImproperlyConfigured

from core.environment import env, secret
from observability.context import trusted_networks
from observability.json_logging import logging_config
from observability.telemetry import resolve_service_name

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = BASE_DIR / "var"

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
CSRF_TRUSTED_ORIGINS = env.list("DJANGO_CSRF_TRUSTED_ORIGINS", default=[])

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
    "operations",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # Tells each request's story (log context, http.request line, activity entry); outside the
    # session middleware so its duration includes the session save. See docs/ARCHITECTURE.md.
    "observability.middleware.RequestMiddleware",
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

# Database: an SQLite file under var/ unless DATABASE_URL names another (PostgreSQL in Kubernetes).
# On PostgreSQL each view runs in one transaction, and a web request's statements there are
# cancelled after DATABASE_STATEMENT_TIMEOUT seconds (0: never); management commands have no
# timeout. Nothing is set for the session, so PgBouncer in transaction mode (Azure's built-in
# pooler) works in front of it: see core/postgresql/base.py.
DATABASE_STATEMENT_TIMEOUT = env.float("DATABASE_STATEMENT_TIMEOUT", default=5.0)
DATABASES = {
    "default": env.db_url_config(secret("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'jiwoo.sqlite3'}")),
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    VAR_DIR.mkdir(exist_ok=True)
    # Several gunicorn workers write at once: take the write lock when a transaction starts
    # (no "database is locked" on upgrade), wait for it, and let readers run beside a writer.
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {
            "transaction_mode": "IMMEDIATE",
            "timeout": 20,
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        }
    )
else:
    DATABASES["default"]["CONN_MAX_AGE"] = env.int("DATABASE_CONN_MAX_AGE", default=60)
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
    DATABASES["default"].setdefault("OPTIONS", {})["connect_timeout"] = env.int("DATABASE_CONNECT_TIMEOUT", default=3)
    if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
        DATABASES["default"].update(
            {
                "ENGINE": "core.postgresql",
                "ATOMIC_REQUESTS": True,
                # A server-side cursor (QuerySet.iterator()) is a session's: a pooler in
                # transaction mode may run its FETCH on another server connection.
                "DISABLE_SERVER_SIDE_CURSORS": True,
            }
        )
# A password given on its own is used as it is: it never has to be URL-encoded into DATABASE_URL.
if secret("DATABASE_PASSWORD"):
    DATABASES["default"]["PASSWORD"] = secret("DATABASE_PASSWORD")
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# Redis: sessions (cached_db, so the database still holds them when Redis is down) and the
# recent-activity list share one connection pool with short timeouts and a circuit breaker.
REDIS_URL = secret("REDIS_URL", default="redis://127.0.0.1:6379/0")
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
            "CONNECTION_POOL_CLASS": "logs_app.redis_pool.BreakerConnectionPool",
            "SOCKET_CONNECT_TIMEOUT": REDIS_TIMEOUT_SECONDS,
            "SOCKET_TIMEOUT": REDIS_TIMEOUT_SECONDS,
            # A Redis outage degrades the cache to misses instead of failing the request.
            "IGNORE_EXCEPTIONS": True,
            **({"PASSWORD": REDIS_PASSWORD} if REDIS_PASSWORD else {}),
        },
    }
}
DJANGO_REDIS_LOG_IGNORED_EXCEPTIONS = True
SESSION_ENGINE = "django.contrib.sessions.backends.cached_db"

RECENT_LOGS_MAX = env.int("RECENT_LOGS_MAX", default=1000)
# A user's own list is shorter: the page shows 50 entries, the API at most 200, and every
# account's list takes room in Redis for a week (docs/RELIABILITY.md).
RECENT_LOGS_USER_MAX = env.int("RECENT_LOGS_USER_MAX", default=200)
# Both on in every deployment; the benchmark switches them off to measure what they cost.
RECENT_ACTIVITY_ENABLED = env.bool("RECENT_ACTIVITY_ENABLED", default=True)
# Entries are written by a per-process background thread, off the request's path.
RECENT_ACTIVITY_BACKGROUND = env.bool("RECENT_ACTIVITY_BACKGROUND", default=True)
REQUEST_LOG_ENABLED = env.bool("DJANGO_REQUEST_LOG", default=True)
RECENT_ACTIVITY_KEY = f"{REDIS_KEY_PREFIX}:recent-activity"

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
AXES_CLIENT_IP_CALLABLE = "observability.context.client_address"
# What was typed into the username box is stored as it is only when it names an account: a
# password typed there by mistake is kept as a keyed hash (accounts.lockout.username_for_records).
AXES_USERNAME_CALLABLE = "accounts.lockout.axes_username"
# The attempts table keeps no form values: no password, username or CSRF token in post_data.
AXES_SENSITIVE_PARAMETERS = ["username", "password", "csrfmiddlewaretoken", "ip_address"]
# A failure during a lockout is not recorded: each one appended its form to the row's
# post_data, which grew without end while a client kept trying.
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False
AXES_DISABLE_ACCESS_LOG = True
# Sign-ups per client address per hour, and wrong old passwords per user per AXES_COOLOFF_TIME
# in the password-change form (counted in the cache, so a Redis outage lifts them).
SIGNUP_RATE_LIMIT = env.int("SIGNUP_RATE_LIMIT", default=10)
PASSWORD_CHANGE_FAILURE_LIMIT = env.int("PASSWORD_CHANGE_FAILURE_LIMIT", default=5)
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "messages:list"
LOGOUT_REDIRECT_URL = "accounts:login"

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
if not STATIC_MANIFEST:
    STATIC_ROOT.mkdir(parents=True, exist_ok=True)  # WhiteNoise warns when it is missing

CSRF_FAILURE_VIEW = "observability.errors.csrf_failure"

# Request bodies larger than this are refused with a 413 before they are read, files included
# (observability.middleware); a message is at most 2,000 characters. No form takes files: a
# file in a multipart body is refused with a 400 before any of it is kept.
DATA_UPLOAD_MAX_MEMORY_SIZE = 256 * 1024
FILE_UPLOAD_HANDLERS = ["observability.middleware.NoFileUploadHandler"]

# A user keeps at most this many messages (0: no limit); the form and the API say so.
MESSAGES_PER_USER_MAX = env.int("MESSAGES_PER_USER_MAX", default=100_000)
# The messages page remembers each shown message's dates and the phrases of its age per language
# and time zone (messages_app/templatetags/message_rows.py); false formats them afresh every time.
MESSAGE_ROWS_MEMO = env.bool("MESSAGE_ROWS_MEMO", default=True)

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

# The OpenTelemetry service.name; every log line carries it as service_name.
SERVICE_NAME = resolve_service_name()

# One JSON object per line on stdout for every logger; see observability/json_logging.py.
LOGGING = logging_config(level=env.str("DJANGO_LOG_LEVEL", default="INFO").upper(), service_name=SERVICE_NAME)

# Grafana Explore links from the activity page (optional): the base URL and datasource uids.
GRAFANA_URL = env.str("GRAFANA_URL", default="")
GRAFANA_TEMPO_UID = env.str("GRAFANA_TEMPO_UID", default="tempo")
GRAFANA_LOKI_UID = env.str("GRAFANA_LOKI_UID", default="loki")
