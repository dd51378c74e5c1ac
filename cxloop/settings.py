"""cxloop settings: every value comes from a ``CXLOOP_*`` environment variable.

A malformed value raises :class:`cxloop.lib.env.SettingError`; the ``cxloop`` command turns it
into one line naming the variable and exits non-zero before anything else runs.
"""

import os
import secrets
from pathlib import Path

from django.utils.translation import gettext_lazy as _

from cxloop.lib import env, networks

PACKAGE_DIR = Path(__file__).resolve().parent

DATA_DIR = env.parse_path(
    "CXLOOP_DATA_DIR", os.environ.get("CXLOOP_DATA_DIR"), default=Path("cxloop-data")
)
DEBUG = env.parse_bool("CXLOOP_DEBUG", os.environ.get("CXLOOP_DEBUG"), default=False)
ALLOWED_HOSTS = env.parse_hosts(
    "CXLOOP_ALLOWED_HOSTS",
    os.environ.get("CXLOOP_ALLOWED_HOSTS"),
    default=["127.0.0.1", "localhost", "[::1]"],
)
BASE_URL = env.parse_base_url(
    "CXLOOP_BASE_URL", os.environ.get("CXLOOP_BASE_URL"), default="http://127.0.0.1:8000"
)
# The task queue: "db", the database (nothing more to run), or "rq", Redis at CXLOOP_REDIS_URL,
# for several worker processes (docs/deploy.md). With a Redis URL the cache and the sessions live
# there too, whatever the queue.
TASKS_BACKEND = env.parse_choice(
    "CXLOOP_TASKS", os.environ.get("CXLOOP_TASKS"), choices=("db", "rq"), default="db"
)
REDIS_URL = env.parse_redis_url("CXLOOP_REDIS_URL", os.environ.get("CXLOOP_REDIS_URL"))
if TASKS_BACKEND == "rq" and REDIS_URL is None:
    raise env.SettingError("CXLOOP_REDIS_URL", "a Redis URL, since CXLOOP_TASKS is rq", "")
_database = env.parse_database_url(
    "CXLOOP_DATABASE_URL", os.environ.get("CXLOOP_DATABASE_URL"), data_dir=DATA_DIR
)
_email = env.parse_email_url("CXLOOP_EMAIL_URL", os.environ.get("CXLOOP_EMAIL_URL"))
_secret_key = env.parse_secret_key("CXLOOP_SECRET_KEY", os.environ.get("CXLOOP_SECRET_KEY"))
# The columnar copy of what analytics reads (docs/facts.md); rebuildable from the database.
# CXLOOP_FACTS_DIR=s3://bucket/prefix publishes it to object storage, where every web process
# and Spark executor reads it; the writer then keeps its working copy in DATA_DIR/facts
# (docs/scale.md, decision 024). CXLOOP_S3_ENDPOINT names an S3-compatible server (MinIO…);
# the credentials and region are AWS's usual variables (AWS_ACCESS_KEY_ID…).
FACTS_URI = env.parse_object_store("CXLOOP_FACTS_DIR", os.environ.get("CXLOOP_FACTS_DIR"))
FACTS_DIR = env.parse_path(
    "CXLOOP_FACTS_DIR",
    None if FACTS_URI else os.environ.get("CXLOOP_FACTS_DIR"),
    default=DATA_DIR / "facts",
)
S3_ENDPOINT = env.parse_http_url("CXLOOP_S3_ENDPOINT", os.environ.get("CXLOOP_S3_ENDPOINT"))

# Where the insights' queries run: "duckdb" in each web and worker process over FACTS_DIR, or
# "spark", a Spark Connect server at CXLOOP_SPARK_REMOTE whose executors read FACTS_DIR at the
# same path (docs/scale.md).
ANALYTICS_ENGINE = env.parse_choice(
    "CXLOOP_ANALYTICS_ENGINE",
    os.environ.get("CXLOOP_ANALYTICS_ENGINE"),
    choices=("duckdb", "spark"),
    default="duckdb",
)
SPARK_REMOTE = env.parse_spark_remote("CXLOOP_SPARK_REMOTE", os.environ.get("CXLOOP_SPARK_REMOTE"))
if ANALYTICS_ENGINE == "spark" and SPARK_REMOTE is None:
    raise env.SettingError(
        "CXLOOP_SPARK_REMOTE", "a Spark Connect URL, since CXLOOP_ANALYTICS_ENGINE is spark", ""
    )
if ANALYTICS_ENGINE == "spark" and env.missing_module("pyspark.sql.connect.session"):
    raise env.SettingError(
        "CXLOOP_ANALYTICS_ENGINE",
        "duckdb, or spark with PySpark's Connect client installed (pip install -e '.[spark]')",
        "spark",
    )


def _parse_seconds(name: str, value: str | None, *, default: float) -> float:
    if value is None or value.strip() == "":
        return default
    try:
        seconds = float(value)
    except ValueError:
        seconds = -1.0
    if not 0 <= seconds <= 3600:  # also rejects nan and inf
        raise env.SettingError(name, "a number of seconds from 0 to 3600", value)
    return seconds


# How long after a write its month of the fact store is rewritten; the writes of that time share
# one task. 0 enqueues a task for every write at once.
FACTS_DELAY = _parse_seconds(
    "CXLOOP_FACTS_DELAY", os.environ.get("CXLOOP_FACTS_DELAY"), default=5.0
)

# The longest a request may run statements (cxloop/timeouts.py); 0 sets no limit. The worker,
# commands and the demo build have none.
REQUEST_TIMEOUT = _parse_seconds(
    "CXLOOP_REQUEST_TIMEOUT", os.environ.get("CXLOOP_REQUEST_TIMEOUT"), default=10.0
)


def _parse_days(name: str, value: str | None, *, default: int | None) -> int | None:
    """Whole days from 1 to 36500; empty or unset gives ``default`` (None: the rule is off)."""
    if value is None or value.strip() == "":
        return default
    text = value.strip()
    if not text.isascii() or not text.isdigit() or not 1 <= int(text) <= 36500:
        raise env.SettingError(name, "a whole number of days from 1 to 36500", value)
    return int(text)


# Personal data (docs/decisions/006-audit-and-personal-data.md): how long the audit log keeps
# events, and the retention rules the worker applies daily; None turns a rule off.
AUDIT_RETENTION_DAYS = _parse_days(
    "CXLOOP_AUDIT_RETENTION_DAYS", os.environ.get("CXLOOP_AUDIT_RETENTION_DAYS"), default=365
)
RETENTION_RESPONSES_DAYS = _parse_days(
    "CXLOOP_RETENTION_RESPONSES_DAYS",
    os.environ.get("CXLOOP_RETENTION_RESPONSES_DAYS"),
    default=None,
)
RETENTION_COMMENTS_DAYS = _parse_days(
    "CXLOOP_RETENTION_COMMENTS_DAYS", os.environ.get("CXLOOP_RETENTION_COMMENTS_DAYS"), default=None
)
RETENTION_CONTACTS_DAYS = _parse_days(
    "CXLOOP_RETENTION_CONTACTS_DAYS", os.environ.get("CXLOOP_RETENTION_CONTACTS_DAYS"), default=None
)

DATA_DIR.mkdir(parents=True, exist_ok=True)
(DATA_DIR / "static").mkdir(exist_ok=True)  # whitenoise warns about a missing STATIC_ROOT
# Prometheus metrics (cxloop/ops/metrics.py): each process of the machine writes its counts to
# files here and /metrics adds them up. prometheus_client reads this variable once, when first
# imported, which django_rq's admin does while the apps load: hence here, before them.
os.environ.setdefault("PROMETHEUS_MULTIPROC_DIR", str(DATA_DIR / "metrics"))
# Who may read /metrics besides this machine: addresses and CIDR networks (a Prometheus server),
# or whoever sends "Authorization: Bearer <CXLOOP_METRICS_TOKEN>"; anyone else gets 404.
METRICS_ALLOW = networks.parse_networks(
    "CXLOOP_METRICS_ALLOW", os.environ.get("CXLOOP_METRICS_ALLOW")
)
METRICS_TOKEN = env.parse_secret_key("CXLOOP_METRICS_TOKEN", os.environ.get("CXLOOP_METRICS_TOKEN"))
# "text": the lines as before; "json": one JSON object a line, with the request's and task's ids.
LOG_FORMAT = env.parse_choice(
    "CXLOOP_LOG_FORMAT",
    os.environ.get("CXLOOP_LOG_FORMAT"),
    choices=("text", "json"),
    default="text",
)


def _stored_secret_key() -> str:
    """A key made once per data directory, so sessions survive restarts without configuration."""
    path = DATA_DIR / "secret_key"
    if not path.exists():
        path.write_text(secrets.token_urlsafe(50))
        path.chmod(0o600)
    return path.read_text().strip()


SECRET_KEY = _secret_key or _stored_secret_key()

INSTALLED_APPS = [
    "cxloop",
    "cxloop.audit",
    "cxloop.outbox",
    "cxloop.people",
    "cxloop.webhooks",
    "cxloop.customers",
    "cxloop.journeys",
    "cxloop.surveys",
    "cxloop.comments",
    "cxloop.feedback",
    "cxloop.facts",
    "cxloop.cases",
    "cxloop.improvements",
    "cxloop.insights",
    "cxloop.api",
    "cxloop.reports",
    "cxloop.exports",
    "cxloop.front",
    "cxloop.privacy",
    "cxloop.security",
    "cxloop.ops",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django_tasks",
    "django_tasks_db",
    "axes",
]

MIDDLEWARE = [
    # Behind CXLOOP_HTTPS_PROXY, the client's address from X-Forwarded-For, for all that follows.
    "cxloop.security.proxy.ProxyAddressMiddleware",
    # Each request's id for the logs (X-Request-ID), its count and time for /metrics.
    "cxloop.ops.middleware.RequestIdAndMetricsMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # Every request's database work ends by REQUEST_TIMEOUT, answered 503 (cxloop/timeouts.py).
    "cxloop.timeouts.RequestDeadlineMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # Knows who acts for the audit log's change events, and logs reads of personal data.
    "cxloop.audit.middleware.AuditMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # CSP, Permissions-Policy, no caching of personal pages (docs/decisions/008-headers.md).
    "cxloop.security.headers.SecurityHeadersMiddleware",
    # Last, as django-axes asks: it must see the outcome of authentication.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "cxloop.urls"
WSGI_APPLICATION = "cxloop.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

if _database.engine == "sqlite":
    DATABASES = {
        "default": {
            # Django's, waiting for the write lock in finer steps (cxloop/sqlite/base.py).
            "ENGINE": "cxloop.sqlite",
            "NAME": _database.name,
            "OPTIONS": {
                # WAL lets readers run beside the one writer; IMMEDIATE takes the write lock at
                # BEGIN so two writers queue on busy_timeout instead of failing mid-transaction.
                "init_command": (
                    "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON;"
                ),
                "transaction_mode": "IMMEDIATE",
                "timeout": 20,
            },
            # A file, not memory, so that tests of concurrent requests see real locking.
            "TEST": {"NAME": str(DATA_DIR / "test.sqlite3")},
            # Kept open for the life of the worker: closing the last connection to a WAL
            # database checkpoints it, and a request that opened and closed its own spent
            # 8 ms on that alone (profiled), ten times the rest of an API submission.
            "CONN_MAX_AGE": None,
        }
    }
else:
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.postgresql",
            "NAME": _database.name,
            "USER": _database.user,
            "PASSWORD": _database.password,
            "HOST": _database.host,
            "PORT": _database.port or "",
            "CONN_MAX_AGE": 60,
            "CONN_HEALTH_CHECKS": True,
            # A server that does not answer (a partition, a failover) costs a request seconds,
            # not minutes: it gets its 503 and /healthz says so.
            "OPTIONS": {"connect_timeout": 5},
        }
    }

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
if TASKS_BACKEND == "rq":
    TASKS = {"default": {"BACKEND": "django_tasks_rq.RQBackend", "QUEUES": ["default"]}}
    # A task that runs longer than this is stopped; one whose worker died is found abandoned
    # this long after it started. Either is retried (cxloop/ops/rq_queue.py).
    RQ_QUEUES = {
        "default": {
            "URL": env.with_redis_timeouts(REDIS_URL),
            "DEFAULT_TIMEOUT": 600,
            "QUEUE_CLASS": "cxloop.ops.rq_queue.RetryingQueue",
        }
    }
    INSTALLED_APPS.append("django_rq")

AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

AXES_COOLOFF_TIME = 0.25  # hours
# Locks a user name only from the address its wrong passwords came from, and an address that tries
# many names; the limits are in cxloop.security.lockout (docs/decisions/008-headers.md).
AXES_FAILURE_LIMIT = "cxloop.security.lockout.failure_limit"
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"], "ip_address"]
# A sign-in clears only its own (user name, address) count (cxloop.security.lockout): axes' own
# reset would clear the address's count too, letting one valid account reopen a brute force.
AXES_RESET_ON_SUCCESS = False
AXES_LOCKOUT_CALLABLE = "cxloop.security.lockout.locked_out"  # says what happened, when to retry

LANGUAGE_CODE = "ru"
LANGUAGES = [("ru", _("Russian")), ("en", _("English"))]
LOCALE_PATHS = [PACKAGE_DIR / "locale"]
TIME_ZONE = "Europe/Moscow"
USE_I18N = True
USE_TZ = True
# Numbers shown to people are grouped where they are formatted (floatformat "0g"/"2g", money):
# «1 250 000,5» in Russian, "1,250,000.5" in English. Grouping every integer instead would turn an
# id printed into a link or an option's value into "1 234" (docs/decisions/011-design-system.md).
USE_THOUSAND_SEPARATOR = False

STATIC_URL = "static/"
STATIC_ROOT = DATA_DIR / "static"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
MEDIA_ROOT = DATA_DIR / "media"

# Files, not process memory, so that every web process of one machine sees the same counters
# (the open-link rate limit); with CXLOOP_REDIS_URL, Redis, which every machine sees.
CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
        "LOCATION": DATA_DIR / "cache",
    }
}
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": "cxloop",
            # As for the database: an unreachable Redis fails fast.
            "OPTIONS": dict(env.REDIS_TIMEOUTS),
        }
    }
    # Read from Redis, written through to the database: a restart of Redis signs no one out.
    SESSION_ENGINE = "django.contrib.sessions.backends.cached_db"
OPEN_LINK_RATE = (20, 600)  # new responses per address per that many seconds, on an open link

if _email.backend == "smtp":
    EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    EMAIL_HOST = _email.host
    EMAIL_PORT = _email.port
    EMAIL_HOST_USER = _email.user
    EMAIL_HOST_PASSWORD = _email.password
    EMAIL_USE_TLS = _email.use_tls
    EMAIL_USE_SSL = _email.use_ssl
    EMAIL_TIMEOUT = 10
else:
    EMAIL_BACKEND = f"django.core.mail.backends.{_email.backend}.EmailBackend"
# The sender of every e-mail, and how many tries the outbox makes before a message is dead
# (docs/decisions/005-outbox.md): 10 tries 1 min × 2^n apart, capped at 4 h, span about 8 hours.
DEFAULT_FROM_EMAIL = env.parse_email_from(
    "CXLOOP_EMAIL_FROM", os.environ.get("CXLOOP_EMAIL_FROM"), default="cxloop <cxloop@localhost>"
)
SERVER_EMAIL = DEFAULT_FROM_EMAIL
EMAIL_MAX_ATTEMPTS = env.parse_int(
    "CXLOOP_EMAIL_MAX_ATTEMPTS",
    os.environ.get("CXLOOP_EMAIL_MAX_ATTEMPTS"),
    default=10,
    low=1,
    high=100,
)
# Webhooks are not sent to loopback, private or link-local addresses unless this is set (a
# receiver on the same machine or network; the tests' receiver on 127.0.0.1): a subscription's
# URL must not let the CX lead's form reach the server's own network (docs/webhooks.md).
WEBHOOKS_ALLOW_PRIVATE = env.parse_bool(
    "CXLOOP_WEBHOOKS_ALLOW_PRIVATE",
    os.environ.get("CXLOOP_WEBHOOKS_ALLOW_PRIVATE"),
    default=False,
)

# Behind a TLS-terminating proxy that sets X-Forwarded-Proto (and strips it from clients): trust
# it, send every plain-http request to https, and ask browsers to remember that for a year (HSTS).
HTTPS_PROXY = env.parse_bool(
    "CXLOOP_HTTPS_PROXY", os.environ.get("CXLOOP_HTTPS_PROXY"), default=False
)
if HTTPS_PROXY:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = True
    SECURE_HSTS_SECONDS = 31536000
    # Other hosts of the company's domain may still serve plain http, and preloading is a
    # promise to browser makers: both stay the operator's decision, hence the two checks silenced.
    SECURE_HSTS_INCLUDE_SUBDOMAINS = False
    SILENCED_SYSTEM_CHECKS = ["security.W005", "security.W021"]
    # Prometheus and the load balancer ask over plain http on the machine itself.
    SECURE_REDIRECT_EXEMPT = [r"^metrics$", r"^healthz$"]

SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SECURE = BASE_URL.startswith("https://") or HTTPS_PROXY
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
CSRF_TRUSTED_ORIGINS = [BASE_URL]
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "text": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"},
        # One JSON object a line, with the request's and the task's ids (cxloop/ops/logs.py).
        "json": {"()": "cxloop.ops.logs.JsonFormatter"},
    },
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": LOG_FORMAT}},
    "root": {"handlers": ["console"], "level": "INFO"},
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
        "axes": {"level": "WARNING"},
    },
}
