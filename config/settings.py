"""Settings read from the environment.

With nothing configured the portal runs on embedded defaults (SQLite, an SQLite-backed Celery
broker, local-memory cache) so that the demo needs no server. Production sets DATABASE_URL,
REDIS_URL, SECRET_KEY, ALLOWED_HOSTS and DEBUG=0.
"""

import ipaddress
import os
import sys
from datetime import timedelta
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(os.environ.get("CLIENTDESK_VAR_DIR", BASE_DIR / "var"))


def env_bool(name: str, default: bool = False) -> bool:
    return os.environ.get(name, str(default)).strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


def env_int(name: str, default: int) -> int:
    return int(os.environ.get(name, default))


def env_networks(name: str, default: str = "") -> list[str]:
    """Comma-separated CIDRs. A typo stops the start, rather than silently allowing or refusing
    the wrong networks."""
    networks = env_list(name, default)
    for network in networks:
        try:
            ipaddress.ip_network(network, strict=False)
        except ValueError as error:
            raise ImproperlyConfigured(f"{name}: {error}") from None
    return networks


TESTING = "pytest" in sys.modules or env_bool("CLIENTDESK_TESTING")
# pytest-xdist runs the tests in several processes at once, each on a database of its own
# (pytest-django names it after the worker): each takes a queue and a cache prefix of its own too.
TEST_WORKER = os.environ.get("PYTEST_XDIST_WORKER", "") if TESTING else ""


def for_test_worker(name: str) -> str:
    """The name with the test worker's suffix; a process that a test starts inherits the worker
    and the suffixed name, and keeps it as it is."""
    suffix = f"-{TEST_WORKER}"
    return name if not TEST_WORKER or name.endswith(suffix) else name + suffix


DEBUG = env_bool("DEBUG", False)
SECRET_KEY = os.environ.get("SECRET_KEY", "")
if not SECRET_KEY:
    if not (DEBUG or TESTING):
        raise ImproperlyConfigured("Set SECRET_KEY (or DEBUG=1 for local development).")
    SECRET_KEY = "insecure-development-key-do-not-use-in-production-0123456789abcdef"

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "localhost,127.0.0.1,[::1]" if DEBUG or TESTING else "")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django_tables2",
    "django_filters",
    "django_htmx",
    "axes",
    "ninja",  # the JSON API; its Swagger UI assets are served from static/
    "core",
    "tenancy",
    "events",
    "clients",
    "subscriptions",
    "billing",
    "messaging",
    "routers",
    "exports",
    "holds",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # Before anything reads parameters, cookies or headers (the session lookup among them).
    "core.text.CleanRequestTextMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    # config.middleware: those of a browser's session, which a bearer request to the API skips.
    # The browser's language (or the language cookie) until the operator's own is known.
    "config.middleware.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "config.middleware.LoginRequiredMiddleware",
    "config.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    "config.middleware.HtmxMiddleware",
    "tenancy.middleware.TenantMiddleware",
    # The operator's language, else the tenant's, else the browser's (needs request.tenant).
    "tenancy.middleware.LanguageMiddleware",
    "core.formatting.TenantFormatsMiddleware",  # needs request.tenant
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"
ASGI_APPLICATION = "config.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",  # LANGUAGE_CODE, LANGUAGES
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "tenancy.context_processors.tenancy",
            ],
            # Dates in the tenant's formats (`day`, `moment`, `clock`) on every template.
            # i18n's tags ({% translate %}, {% blocktranslate %}) in every template, unloaded.
            "builtins": ["core.templatetags.core", "django.templatetags.i18n"],
        },
    },
]

DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL") or f"sqlite:///{VAR_DIR / 'clientdesk.sqlite3'}",
        conn_max_age=env_int("DB_CONN_MAX_AGE", 60),
        conn_health_checks=True,
    )
}
DATABASES["default"]["ATOMIC_REQUESTS"] = False
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"]["OPTIONS"] = {"timeout": 20, "transaction_mode": "IMMEDIATE"}
    DATABASES["default"]["CONN_MAX_AGE"] = 0
IS_POSTGRES = DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql"

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REDIS_URL = os.environ.get("REDIS_URL", "")
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": for_test_worker(os.environ.get("CACHE_KEY_PREFIX", "clientdesk")),
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
if TESTING:
    PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]

AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

# django-axes: lock a username+address pair after repeated failures, for a limited time only
# (axes locks forever by default).
AXES_FAILURE_LIMIT = env_int("AXES_FAILURE_LIMIT", 5)
AXES_COOLOFF_TIME = timedelta(minutes=env_int("AXES_COOLOFF_MINUTES", 15))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
AXES_VERBOSE = False

# The portal's languages: an operator's own choice, else the tenant's, else the browser's.
LANGUAGE_CODE = "en"
LANGUAGES = [("en", "English"), ("ru", "Русский")]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = VAR_DIR / "staticfiles"
MEDIA_URL = "media/"
MEDIA_ROOT = Path(os.environ.get("MEDIA_ROOT", VAR_DIR / "media"))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG or TESTING
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}

# Security: secure by default outside DEBUG; HSTS is opt-in by seconds.
SESSION_COOKIE_SECURE = env_bool("SESSION_COOKIE_SECURE", not DEBUG and not TESTING)
CSRF_COOKIE_SECURE = env_bool("CSRF_COOKIE_SECURE", not DEBUG and not TESTING)
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", not DEBUG and not TESTING)
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 0 if DEBUG or TESTING else 31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", True)
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", True)
# Opting out of the preload list is a deliberate choice, not a deployment mistake.
SILENCED_SYSTEM_CHECKS = [] if SECURE_HSTS_PRELOAD else ["security.W021"]
if env_bool("USE_X_FORWARDED_PROTO"):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SESSION_COOKIE_HTTPONLY = True
X_FRAME_OPTIONS = "DENY"
# Content-Security-Policy (django-csp): scripts and styles come only from our own static files,
# never inline (no script or style= attribute in any template; data go in data- attributes or
# json_script). Bootstrap's CSS draws some icons from data: images; scripts style elements
# through the CSSOM, which the policy allows.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    }
}

EMAIL_BACKEND = os.environ.get(
    "EMAIL_BACKEND",
    "django.core.mail.backends.console.EmailBackend"
    if DEBUG or not os.environ.get("EMAIL_HOST")
    else "django.core.mail.backends.smtp.EmailBackend",
)
EMAIL_HOST = os.environ.get("EMAIL_HOST", "localhost")
EMAIL_PORT = env_int("EMAIL_PORT", 25)
EMAIL_HOST_USER = os.environ.get("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = os.environ.get("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "Clientdesk <noreply@localhost>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL
# The e-mail outbox (events/mail.py): each SMTP step gives up after EMAIL_TIMEOUT seconds; a
# sender holds an e-mail for EMAIL_LEASE_SECONDS, long enough for several such steps, so that a
# living sender is never taken for a dead one; beat sends what is owed every
# EMAIL_SWEEP_INTERVAL seconds.
EMAIL_TIMEOUT = env_int("EMAIL_TIMEOUT", 30)
EMAIL_LEASE_SECONDS = env_int("EMAIL_LEASE_SECONDS", 300)
if EMAIL_LEASE_SECONDS < 4 * EMAIL_TIMEOUT:
    raise ImproperlyConfigured("EMAIL_LEASE_SECONDS must be at least 4 x EMAIL_TIMEOUT.")
EMAIL_SWEEP_INTERVAL = env_int("EMAIL_SWEEP_INTERVAL", 60)

# Celery: Redis in production; with no REDIS_URL an SQLite-backed broker and result store that
# need no server, so that the demo's worker and beat really run.
CELERY_BROKER_URL = (
    os.environ.get("CELERY_BROKER_URL")
    or REDIS_URL
    or (f"sqla+sqlite:///{VAR_DIR / 'celery-broker.sqlite3'}")
)
CELERY_RESULT_BACKEND = (
    os.environ.get("CELERY_RESULT_BACKEND")
    or REDIS_URL
    or (f"db+sqlite:///{VAR_DIR / 'celery-results.sqlite3'}")
)
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SOFT_TIME_LIMIT = env_int("CELERY_TASK_SOFT_TIME_LIMIT", 600)
CELERY_TASK_TIME_LIMIT = env_int("CELERY_TASK_TIME_LIMIT", CELERY_TASK_SOFT_TIME_LIMIT + 60)
# How long Redis keeps a delivered, unacknowledged message before giving it to another worker:
# the wait before a task whose whole worker died is redelivered (README, "Jobs that stop").
# Above twice the longest task (the hard time limit), so that a slow task is never redelivered
# while it runs; the broker looks for such messages every CELERY_UNACKED_RESTORE_INTERVAL seconds.
CELERY_VISIBILITY_TIMEOUT = env_int("CELERY_VISIBILITY_TIMEOUT", 2 * CELERY_TASK_TIME_LIMIT + 60)
if CELERY_VISIBILITY_TIMEOUT <= CELERY_TASK_TIME_LIMIT:
    raise ImproperlyConfigured("CELERY_VISIBILITY_TIMEOUT must exceed CELERY_TASK_TIME_LIMIT.")
CELERY_BROKER_TRANSPORT_OPTIONS = (
    {
        "visibility_timeout": CELERY_VISIBILITY_TIMEOUT,
        "unacked_restore_interval": env_int("CELERY_UNACKED_RESTORE_INTERVAL", 10),
        "unacked_restore_throttle": 1,
    }
    if CELERY_BROKER_URL.startswith(("redis://", "rediss://"))
    else {}
)
CELERY_TASK_DEFAULT_QUEUE = for_test_worker(os.environ.get("CELERY_TASK_DEFAULT_QUEUE", "celery"))
if CELERY_BROKER_TRANSPORT_OPTIONS and CELERY_TASK_DEFAULT_QUEUE != "celery":
    # Deployments (or test runs) sharing one Redis database on queues of their own each
    # redeliver only their own unacknowledged messages.
    CELERY_BROKER_TRANSPORT_OPTIONS |= {
        f"{name}_key": f"{CELERY_TASK_DEFAULT_QUEUE}:{name}"
        for name in ("unacked", "unacked_index", "unacked_mutex")
    }
# Job leases (core/leases.py): a running export renews its lease at every progress report; one
# that stops renewing for JOB_LEASE_SECONDS is taken over by the next task or by beat's sweep,
# every LEASE_SWEEP_INTERVAL seconds.
JOB_LEASE_SECONDS = env_int("JOB_LEASE_SECONDS", 120)
LEASE_SWEEP_INTERVAL = env_int("LEASE_SWEEP_INTERVAL", 60)

# Webhooks (events/webhooks.py): a delivery's lease (above the task's own time limit, so a live
# delivery is never taken for a dead one), the receiver's timeout, the retries' back-off (doubling
# from the base up to the cap, given up after WEBHOOK_GIVE_UP_SECONDS), how long an endpoint may
# fail before it is disabled, and how often beat sends what is due.
WEBHOOK_LEASE_SECONDS = env_int("WEBHOOK_LEASE_SECONDS", 120)
WEBHOOK_TIMEOUT_SECONDS = env_int("WEBHOOK_TIMEOUT_SECONDS", 10)
WEBHOOK_RETRY_BASE_SECONDS = env_int("WEBHOOK_RETRY_BASE_SECONDS", 30)
WEBHOOK_RETRY_MAX_SECONDS = env_int("WEBHOOK_RETRY_MAX_SECONDS", 3600)
WEBHOOK_GIVE_UP_SECONDS = env_int("WEBHOOK_GIVE_UP_SECONDS", 24 * 3600)
WEBHOOK_DISABLE_AFTER_SECONDS = env_int("WEBHOOK_DISABLE_AFTER_SECONDS", 24 * 3600)
WEBHOOK_DISPATCH_INTERVAL = env_int("WEBHOOK_DISPATCH_INTERVAL", 10)
CELERY_RESULT_EXPIRES = timedelta(days=1)
CELERY_TIMEZONE = "UTC"
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# Job state lives in the database (export jobs, job runs); nothing reads Celery's results.
CELERY_TASK_IGNORE_RESULT = True
# Beat's schedule is declared in one place: config/celery.py (CELERY_BEAT_SCHEDULE there).
# Holds and expiry: how often beat runs each job, in seconds.
HOLDS_FINANCIAL_INTERVAL = env_int("HOLDS_FINANCIAL_INTERVAL", 300)
HOLDS_EXPIRY_INTERVAL = env_int("HOLDS_EXPIRY_INTERVAL", 3600)

# The networks Clientdesk may connect to on a tenant's behalf (routers, webhooks), enforced by
# core/outbound.py. Unset: every public and private network, but never loopback, link-local (the
# cloud metadata address included), unspecified, multicast, broadcast or reserved addresses.
# Set (comma-separated CIDRs): exactly those networks. The tests allow loopback only.
OUTBOUND_ALLOWED_NETWORKS = env_networks(
    "OUTBOUND_ALLOWED_NETWORKS", "127.0.0.0/8" if TESTING else ""
)

# The JSON API (config/api.py): the largest body it reads (a batch of 1,000 message records
# is about 0.3 MB), and how many requests one caller (token or operator) may send in a period.
API_MAX_BODY_BYTES = env_int("API_MAX_BODY_BYTES", 2_000_000)
API_RATE_LIMIT = os.environ.get("API_RATE_LIMIT", "1200/min")
# Hours the first answer to an Idempotency-Key is kept for retries (tenancy.services).
API_IDEMPOTENCY_KEEP_HOURS = env_int("API_IDEMPOTENCY_KEEP_HOURS", 24)

DJANGO_TABLES2_TEMPLATE = "tables/bootstrap_table.html"

# -- Operator access (access/): the second factor through django-otp, tracked sessions -------
# The second factor is asked for after the password (access.middleware.SecondFactorMiddleware,
# after the tenant's middleware, which it reads); each session's last activity is noted by
# SessionActivityMiddleware. Sessions stay in the database (Django's default SESSION_ENGINE),
# which the sessions page and ending sessions rely on.
INSTALLED_APPS += ["django_otp", "django_otp.plugins.otp_totp", "django_otp.plugins.otp_static"]
INSTALLED_APPS.insert(INSTALLED_APPS.index("tenancy"), "access")
MIDDLEWARE.insert(
    MIDDLEWARE.index("django.contrib.auth.middleware.AuthenticationMiddleware") + 1,
    "django_otp.middleware.OTPMiddleware",
)
MIDDLEWARE.insert(
    MIDDLEWARE.index("django_otp.middleware.OTPMiddleware") + 1,
    "config.middleware.SessionActivityMiddleware",
)
MIDDLEWARE.insert(
    MIDDLEWARE.index("core.formatting.TenantFormatsMiddleware") + 1,
    "access.middleware.SecondFactorMiddleware",
)
SESSION_ENGINE = "django.contrib.sessions.backends.db"
OTP_TOTP_ISSUER = "Clientdesk"
OTP_ADMIN_HIDE_SENSITIVE_DATA = True  # the admin never shows an app's secret
# Wrong codes in a row: the next try waits factor x 2^(n-1) seconds.
OTP_TOTP_THROTTLE_FACTOR = env_int("OTP_THROTTLE_FACTOR", 1)
OTP_STATIC_THROTTLE_FACTOR = OTP_TOTP_THROTTLE_FACTOR

# whitenoise: in development and tests, serve straight from the finders (no collectstatic).
WHITENOISE_USE_FINDERS = DEBUG or TESTING
WHITENOISE_AUTOREFRESH = DEBUG or TESTING


# -- Operations: logs, metrics, health, the single beat (README, "Production") ----------------
# Logs: one line per request and per task (core/logs.py), JSON for an aggregator or plain text.
LOG_FORMAT = os.environ.get("LOG_FORMAT", "text" if DEBUG or TESTING else "json").lower()
if LOG_FORMAT not in {"json", "text"}:
    raise ImproperlyConfigured("LOG_FORMAT must be json or text.")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"request_id": {"()": "core.log_context.RequestContextFilter"}},
    "formatters": {
        "json": {
            "()": "pythonjsonlogger.json.JsonFormatter",
            "fmt": "%(asctime)s %(levelname)s %(name)s %(message)s %(request_id)s",
            "rename_fields": {"asctime": "time", "levelname": "level", "name": "logger"},
        },
        "text": {"format": "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"},
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": LOG_FORMAT,
            "filters": ["request_id"],
        }
    },
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
        # core.logs writes one line per request; Django's own would be a second.
        "django.server": {"level": "WARNING"},
    },
}
# Celery keeps Django's logging (the same formats) instead of installing its own.
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
CELERY_WORKER_REDIRECT_STDOUTS = False

# Metrics (django-prometheus, prometheus-client; core/metrics.py): requests by view and database
# queries from django-prometheus' middleware and database backend. /metrics answers a bearer
# METRICS_TOKEN, or clients in METRICS_ALLOWED_NETWORKS; nobody when neither is set.
INSTALLED_APPS += ["django_prometheus"]
MIDDLEWARE = [
    "django_prometheus.middleware.PrometheusBeforeMiddleware",
    "core.logs.RequestLogMiddleware",
    *MIDDLEWARE,
    "django_prometheus.middleware.PrometheusAfterMiddleware",
]
DATABASES["default"]["ENGINE"] = {
    # django-prometheus's, grouping tenant-keyed models by every selected column (core.postgresql)
    "django.db.backends.postgresql": "core.postgresql",
    "django.db.backends.sqlite3": "django_prometheus.db.backends.sqlite3",
}.get(DATABASES["default"]["ENGINE"], DATABASES["default"]["ENGINE"])
PROMETHEUS_EXPORT_MIGRATIONS = False  # /health/ready reports migrations
METRICS_TOKEN = os.environ.get("METRICS_TOKEN", "")
METRICS_ALLOWED_NETWORKS = env_networks("METRICS_ALLOWED_NETWORKS")
if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
    # Each process's files carry its host and pid: containers sharing the directory each
    # count pids from 1. Set before any metric exists (django-prometheus makes them on import).
    from prometheus_client import values as prometheus_values  # reason: multiprocess file names

    from core.metrics_process import process_identifier  # reason: before any metric is made

    prometheus_values.ValueClass = prometheus_values.MultiProcessValue(process_identifier)

# Health: /health/live and /health/ready (core/health.py) answer over plain HTTP too, from any
# host the load balancer names, so that a container's own check needs neither TLS nor the
# public name.
SECURE_REDIRECT_EXEMPT = [r"^health/", r"^metrics$"]
BEAT_HEARTBEAT_MAX_AGE = env_int("BEAT_HEARTBEAT_MAX_AGE", 120)
HEALTH_JOB_MAX_AGE = env_int("HEALTH_JOB_MAX_AGE", 2 * 3600)

# Only one beat (core/beat.py): beat sends the schedule only while it holds a Redis lock, which
# it renews every BEAT_LOCK_RENEW seconds; a killed holder's lock lapses after BEAT_LOCK_TTL.
_REDIS_KEYS = os.environ.get("CACHE_KEY_PREFIX", "clientdesk")
CELERY_BEAT_SCHEDULER = "core.beat:SingleBeatScheduler"
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")
BEAT_LOCK_KEY = f"{_REDIS_KEYS}:beat:lock"
BEAT_HEARTBEAT_KEY = f"{_REDIS_KEYS}:beat:heartbeat"
BEAT_LOCK_TTL = env_int("BEAT_LOCK_TTL", 30)
BEAT_LOCK_RENEW = env_int("BEAT_LOCK_RENEW", 5)
BEAT_LOCK_RETRY = env_int("BEAT_LOCK_RETRY", 5)
if BEAT_LOCK_RENEW * 2 > BEAT_LOCK_TTL:
    raise ImproperlyConfigured("BEAT_LOCK_TTL must be at least twice BEAT_LOCK_RENEW.")
CELERY_BEAT_MAX_LOOP_INTERVAL = BEAT_LOCK_RENEW
BEAT_ALIVE_FILE = os.environ.get("BEAT_ALIVE_FILE", str(VAR_DIR / "beat.alive"))
