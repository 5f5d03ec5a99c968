"""Rapport settings: one file, every deployment-specific value read from the environment.

The defaults give the embedded first run: a SQLite file in the project folder, Celery tasks run
in-process, the console e-mail backend. Production sets ``DJANGO_DEBUG=0`` and the variables
below; see README.md.
"""

from __future__ import annotations

import base64
import hashlib
import ipaddress
import os
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import dj_database_url
from cryptography.fernet import Fernet
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


def env_str(name: str, default: str = "") -> str:
    return os.environ.get(name, default)


def env_bool(name: str, default: bool) -> bool:
    raw = os.environ.get(name)
    if raw is None:
        return default
    value = raw.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ImproperlyConfigured(f"{name} must be one of 1/0, true/false, yes/no, on/off; got {raw!r}.")


def env_int(name: str, default: int, *, minimum: int | None = None) -> int:
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be a whole number; got {raw!r}.") from None
    if minimum is not None and value < minimum:
        raise ImproperlyConfigured(f"{name} must be at least {minimum}; got {value}.")
    return value


def env_list(name: str, default: list[str]) -> list[str]:
    raw = os.environ.get(name)
    if raw is None:
        return default
    return [item.strip() for item in raw.split(",") if item.strip()]


# --- Core -------------------------------------------------------------------------------------

DEBUG = env_bool("DJANGO_DEBUG", default=False)
# The embedded first run (no DATABASE_URL) is a local demo, so it may fall back to a fixed
# development key; any real deployment must bring its own secret.
_INSECURE_DEV_KEY = "django-insecure-rapport-local-development-only"
# "Embedded" means nobody configured a deployment: no database URL and DEBUG not switched off.
EMBEDDED = not os.environ.get("DATABASE_URL") and "DJANGO_DEBUG" not in os.environ
SECRET_KEY = env_str("DJANGO_SECRET_KEY")
if not SECRET_KEY:
    if DEBUG or EMBEDDED:
        SECRET_KEY = _INSECURE_DEV_KEY
    else:
        raise ImproperlyConfigured(
            "DJANGO_SECRET_KEY is not set. Generate one with "
            "`python -c 'import secrets; print(secrets.token_urlsafe(50))'`."
        )

# DJANGO_DEBUG=0 is how a deployment says "this is production": then the secret must be strong
# and the host names explicit, or Rapport does not start.
if "DJANGO_DEBUG" in os.environ and not DEBUG:
    if len(SECRET_KEY) < 50 or len(set(SECRET_KEY)) < 5 or SECRET_KEY.startswith("django-insecure"):
        raise ImproperlyConfigured(
            "DJANGO_SECRET_KEY is too weak for production: use at least 50 random characters, e.g. "
            "`python -c 'import secrets; print(secrets.token_urlsafe(50))'`."
        )
    if not env_list("DJANGO_ALLOWED_HOSTS", []):
        raise ImproperlyConfigured("DJANGO_ALLOWED_HOSTS must list the host names Rapport is served under.")

# Two-factor secrets (authenticator seeds) are encrypted at rest with Fernet (accounts/encryption.py).
# MFA_ENCRYPTION_KEYS lists keys: the first encrypts, all decrypt; to rotate, put a new key first and
# run `manage.py mfa_rotate_keys`, then drop the old one. Production must bring its own; elsewhere
# (the embedded demo, DEBUG, tests) a key is derived from the secret key.
MFA_ENCRYPTION_KEYS = env_list("MFA_ENCRYPTION_KEYS", [])
if not MFA_ENCRYPTION_KEYS:
    if "DJANGO_DEBUG" in os.environ and not DEBUG:
        raise ImproperlyConfigured(
            "MFA_ENCRYPTION_KEYS is not set. Generate a key with "
            "`python -c 'from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())'`."
        )
    MFA_ENCRYPTION_KEYS = [base64.urlsafe_b64encode(
        hashlib.sha256(f"rapport-mfa-encryption:{SECRET_KEY}".encode()).digest()).decode()]
for _key in MFA_ENCRYPTION_KEYS:
    try:
        Fernet(_key)
    except ValueError:
        raise ImproperlyConfigured(
            "MFA_ENCRYPTION_KEYS must list Fernet keys (32 url-safe base64-encoded bytes), separated by commas."
        ) from None

ALLOWED_HOSTS = env_list("DJANGO_ALLOWED_HOSTS", ["localhost", "127.0.0.1", "[::1]", "testserver"])
CSRF_TRUSTED_ORIGINS = env_list("DJANGO_CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django_htmx",
    "rest_framework",
    "rest_framework.authtoken",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "axes",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "simple_history",
    "accounts",
    "clients",
    "engagements",
    "feedback",
    "health",
    "workspace",
    "portal",
    "dashboard",
    "calendars",
    "api",
    "demo",
]

MIDDLEWARE = [
    # First: X-Forwarded-* headers count only from a trusted proxy (DJANGO_TRUSTED_PROXIES).
    "config.proxy.ForwardedHeadersMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "accounts.middleware.UserLanguageMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "accounts.middleware.SessionTimeoutMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "accounts.middleware.MfaMiddleware",
    # Lets the audit trail record who made a change (request.user, also for API tokens).
    "simple_history.middleware.HistoryRequestMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    # Last, so it sees the lockout that authentication marked on the request.
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
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "django.template.context_processors.i18n",
                "accounts.context_processors.role",
            ],
        },
    },
]

# --- Database ---------------------------------------------------------------------------------

_database_url = env_str("DATABASE_URL")
if _database_url:
    try:
        DATABASES = {"default": dj_database_url.parse(_database_url, conn_max_age=60)}
    except ValueError as exc:
        raise ImproperlyConfigured(f"DATABASE_URL is not a valid database URL: {exc}") from None
else:
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": BASE_DIR / "db.sqlite3",
            "OPTIONS": {"timeout": 20},
        }
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
# SQLite (the embedded demo) builds covering indexes without their INCLUDE columns and says so;
# PostgreSQL, where they matter, gets them whole and has nothing to silence.
SILENCED_SYSTEM_CHECKS = ["models.W040"] if DATABASES["default"]["ENGINE"].endswith("sqlite3") else []

# --- Accounts ---------------------------------------------------------------------------------

AUTH_USER_MODEL = "accounts.User"
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "accounts:login"
AUTHENTICATION_BACKENDS = [
    # First: refuses any sign-in (page, admin or API token) while the account is locked out.
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
# Ten failed sign-ins for one e-mail address (from anywhere), or from one client address (for any
# e-mail), lock that address or e-mail for 15 minutes. Behind a proxy the client address is the one
# a trusted proxy forwarded (DJANGO_BEHIND_PROXY, DJANGO_TRUSTED_PROXIES), never the proxy's own.
AXES_FAILURE_LIMIT = env_int("LOGIN_FAILURE_LIMIT", 10, minimum=1)
AXES_COOLOFF_TIME = timedelta(minutes=env_int("LOGIN_LOCKOUT_MINUTES", 15, minimum=1))
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
# Every sign-in path calls authenticate(username=<e-mail>, …): the login form and the token endpoint.
AXES_USERNAME_FORM_FIELD = "username"
AXES_USERNAME_CALLABLE = "accounts.lockout.username_of"
AXES_CLIENT_IP_CALLABLE = "accounts.security_log.client_ip"
# A success clears that account's failures only, never the client address's (accounts/lockout.py).
AXES_HANDLER = "accounts.lockout.AccountResetDatabaseHandler"
AXES_RESET_ON_SUCCESS = True
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False
AXES_LOCKOUT_CALLABLE = "accounts.views.locked_out"
AXES_VERBOSE = False
# Two-factor authentication (TOTP + recovery codes, accounts.mfa): managers must use it in
# production; the embedded demo and DEBUG runs leave it off so the demo logins work as printed.
MFA_REQUIRED_FOR_MANAGERS = env_bool("MFA_REQUIRED_FOR_MANAGERS", default=not DEBUG and not EMBEDDED)
OTP_TOTP_ISSUER = "Rapport"
# Argon2 for new and changed passwords; older hashes still verify and are upgraded at next login.
PASSWORD_HASHERS = [
    "accounts.hashers.RapportArgon2PasswordHasher",  # Argon2id, OWASP's parameters (accounts/hashers.py)
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 10}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
PASSWORD_RESET_TIMEOUT = 60 * 60 * 24 * 3
# Password-reset e-mails: at most this many per address and per client address in the window
# (seconds); more requests get the same answer and no e-mail (accounts.services.password_reset_allowed).
PASSWORD_RESET_LIMITS = {
    "email": (env_int("PASSWORD_RESET_PER_ADDRESS", 3, minimum=1), 60 * 60),
    "ip": (env_int("PASSWORD_RESET_PER_CLIENT", 10, minimum=1), 60 * 60),
}

# --- Internationalisation ---------------------------------------------------------------------

LANGUAGE_CODE = "en"
LANGUAGES = [("en", _("English")), ("fr", _("French"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
# One date format per language on every page (config/formats/<language>/formats.py).
FORMAT_MODULE_PATH = ["config.formats"]
TIME_ZONE = env_str("TIME_ZONE", "UTC")
USE_I18N = True
USE_TZ = True

# --- Static files -----------------------------------------------------------------------------

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
# The embedded run serves static files straight from the app folders, no collectstatic needed.
WHITENOISE_USE_FINDERS = DEBUG or EMBEDDED
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG or EMBEDDED
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}

# --- E-mail -----------------------------------------------------------------------------------

EMAIL_BACKEND = env_str("EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
EMAIL_HOST = env_str("EMAIL_HOST", "localhost")
EMAIL_PORT = env_int("EMAIL_PORT", 25, minimum=1)
EMAIL_HOST_USER = env_str("EMAIL_HOST_USER")
EMAIL_HOST_PASSWORD = env_str("EMAIL_HOST_PASSWORD")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", default=False)
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "Rapport <rapport@localhost>")
# Where e-mails point to: the address people use to reach this deployment, without a trailing slash.
SITE_URL = env_str("SITE_URL", "http://127.0.0.1:8000").rstrip("/")

# --- Celery -----------------------------------------------------------------------------------

REDIS_URL = env_str("REDIS_URL")
CELERY_BROKER_URL = REDIS_URL or "memory://"
CELERY_RESULT_BACKEND = None
# Without a broker the embedded run executes tasks in-process, at the moment they are queued.
CELERY_TASK_ALWAYS_EAGER = not REDIS_URL
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_TIMEZONE = TIME_ZONE
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_TIME_LIMIT = 15 * 60
CELERY_TASK_SOFT_TIME_LIMIT = 14 * 60
# Must exceed the longest task's time limit, or Redis hands an unacknowledged task to a second
# worker while the first is still on it. It is also how long a task held by a worker that died
# (kill -9, lost machine) waits before another worker gets it. The fault tests shorten both it and
# the scan for such tasks (kombu's default: every 100 s); see docs/reliability.md.
_VISIBILITY_TIMEOUT = env_int("CELERY_VISIBILITY_TIMEOUT", 2 * 60 * 60, minimum=1)
_UNACKED_RESTORE_SECONDS = env_int("CELERY_UNACKED_RESTORE_SECONDS", 100, minimum=1)
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "visibility_timeout": _VISIBILITY_TIMEOUT,
    "unacked_restore_interval": min(10, _UNACKED_RESTORE_SECONDS),
    "unacked_restore_throttle": max(1, _UNACKED_RESTORE_SECONDS // min(10, _UNACKED_RESTORE_SECONDS)),
    # A broker that is down or unreachable must not hold a web request: connecting gives up after
    # 2 s and a command after 5 s (without them a half-open connection waits forever).
    "socket_connect_timeout": 2,
    "socket_timeout": 5,
}
# Queuing from a request tries twice, then gives up: the caller keeps a mark and retries later
# (health.services._queue_rescores); the default policy would retry for up to a few seconds.
CELERY_TASK_PUBLISH_RETRY_POLICY = {"max_retries": 1, "interval_start": 0, "interval_step": 0.5,
                                    "interval_max": 0.5}
# Workers keep trying to reach the broker when it is down at start-up or goes away.
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_BROKER_CONNECTION_MAX_RETRIES = None
# When the connection to Redis drops, tasks already running cannot be acknowledged any more and
# will be delivered again: stop them rather than let two copies run (the Celery docs' advice).
CELERY_WORKER_CANCEL_LONG_RUNNING_TASKS_ON_CONNECTION_LOSS = True

# --- Cache ------------------------------------------------------------------------------------
# What several processes must agree on (the API throttles' counters, the dashboard's page cache, the
# trends) lives in the cache, so a deployment with a broker shares one in Redis: CACHE_URL, by
# default the broker's Redis with the next database number (redis://redis:6379/0 -> …/1), so that
# the cache's keys never mix with Celery's queues. Short timeouts, and config.cache turns a Redis that
# does not answer into cache misses (logged once), never an error page. The embedded run keeps the
# per-process memory cache. The sign-in lockout (django-axes) counts in the database, not here.


def _cache_url(broker_url: str) -> str:
    parts = urlsplit(broker_url)
    if parts.scheme not in ("redis", "rediss"):
        raise ImproperlyConfigured("REDIS_URL must be a redis:// or rediss:// URL to derive CACHE_URL from it; "
                                   "or set CACHE_URL.")
    path = parts.path.strip("/")
    try:
        database = int(path or 0)
    except ValueError:
        raise ImproperlyConfigured(f"REDIS_URL's database must be a number; got {path!r}.") from None
    return urlunsplit(parts._replace(path=f"/{database + 1}"))


CACHE_URL = env_str("CACHE_URL") or (_cache_url(env_str("REDIS_URL")) if env_str("REDIS_URL") else "")
if CACHE_URL:
    if not CACHE_URL.startswith(("redis://", "rediss://", "unix://")):
        raise ImproperlyConfigured(f"CACHE_URL must be a redis://, rediss:// or unix:// URL; got {CACHE_URL!r}.")
    CACHES = {
        "default": {
            "BACKEND": "config.cache.ResilientRedisCache",
            "LOCATION": CACHE_URL,
            "KEY_PREFIX": env_str("CACHE_KEY_PREFIX", "rapport"),
            "OPTIONS": {
                # Redis answers in a millisecond on the same network: half a second means it is not there.
                "socket_connect_timeout": 0.5,
                "socket_timeout": 0.5,
                # After a failure, do not ask again for this long (each request would wait the timeout).
                "DOWN_RETRY_SECONDS": 5,
            },
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
# Rendered cards keyed on a hash of everything they show (workspace.templatetags.workspace
# .content_cached): never stale, so each process keeps its own, in memory, without a network trip.
CACHES["fragments"] = {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "fragments",
                       "OPTIONS": {"MAX_ENTRIES": 5000}}

# --- REST framework ---------------------------------------------------------------------------

REST_FRAMEWORK = {
    # Token first: its scheme names the 401 challenge, so API clients get 401 rather than 403.
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "api.authentication.ApiTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_SCHEMA_CLASS": "api.schema.RapportAutoSchema",
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_PAGINATION_CLASS": "api.pagination.PageNumberPaginationWithSize",
    "PAGE_SIZE": 50,
    "DEFAULT_PARSER_CLASSES": ["api.parsers.JSONParser"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "EXCEPTION_HANDLER": "api.exceptions.exception_handler",
    "DEFAULT_THROTTLE_CLASSES": ["rest_framework.throttling.AnonRateThrottle"],
    # Throttles count in the default cache: shared in Redis when REDIS_URL is set (see Cache above).
    "DEFAULT_THROTTLE_RATES": {
        "anon": env_str("API_ANON_RATE", "120/minute"),
        "token": env_str("API_TOKEN_RATE", "10/minute"),
    },
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Rapport API",
    "DESCRIPTION": "Client engagements as co-production, and the health of each relationship.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    # Request and response bodies differ (read-only fields, staff-only fields), so describe them apart.
    "COMPONENT_SPLIT_REQUEST": True,
    # The docs page loads Swagger UI from our own static files, not from a CDN.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "ENUM_NAME_OVERRIDES": {"SideEnum": "engagements.models.Side", "FocusEnum": "engagements.models.Session.Focus",
                            "ChannelEnum": "engagements.models.Session.Channel",
                            # Relationship state, apart from the calendar meetings' own "state".
                            "HealthStateEnum": "health.models.State"},
}

# --- Logging ----------------------------------------------------------------------------------

# Everything to stdout (the container's log), as JSON lines unless LOG_FORMAT=text.
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "json": {"()": "config.logging.JsonFormatter"},
        "text": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"},
    },
    # Password-reset, invitation and pulse links never reach the log with their tokens.
    "filters": {"redact_tokens": {"()": "config.logging.RedactTokensFilter"}},
    "handlers": {"console": {"class": "config.logging.StdoutHandler", "filters": ["redact_tokens"],
                             "formatter": env_str("LOG_FORMAT", "text" if DEBUG or EMBEDDED else "json")}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
    # Django's own handlers (the console one in DEBUG, runserver's request lines) would bypass the
    # filter above: their records go to the root handler instead.
    "loggers": {"django": {"handlers": [], "level": "INFO", "propagate": True},
                "django.server": {"handlers": [], "level": "INFO", "propagate": True},
                "django.db.backends": {"level": "WARNING"}},
}

# --- Security ---------------------------------------------------------------------------------
# Production (DEBUG off, not the embedded demo) gets HTTPS-only cookies, HSTS and an SSL redirect;
# each can be turned off for an unusual setup. Checked by `manage.py check --deploy`.

_PRODUCTION = not DEBUG and not EMBEDDED
SECURE_SSL_REDIRECT = env_bool("DJANGO_SECURE_SSL_REDIRECT", default=_PRODUCTION)
# The load balancer's health check may come over plain HTTP.
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
BEHIND_PROXY = env_bool("DJANGO_BEHIND_PROXY", default=False)
# The proxies whose X-Forwarded-* headers count (config/proxy.py): addresses or CIDR networks.
# The default, loopback and private networks, fits a proxy on the same host or the compose network
# and ignores the headers of anyone reaching gunicorn from the internet; name your proxy to be exact.
TRUSTED_PROXIES = env_list("DJANGO_TRUSTED_PROXIES", ["127.0.0.0/8", "::1/128", "10.0.0.0/8", "172.16.0.0/12",
                                                      "192.168.0.0/16", "fc00::/7"])
try:
    TRUSTED_PROXY_NETWORKS = [ipaddress.ip_network(value, strict=False) for value in TRUSTED_PROXIES]
except ValueError as exc:
    raise ImproperlyConfigured(f"DJANGO_TRUSTED_PROXIES must list IP addresses or networks: {exc}") from None
if BEHIND_PROXY:
    # Only behind a proxy that sets this header itself (and strips it from clients' requests).
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_HSTS_SECONDS = env_int("DJANGO_HSTS_SECONDS", 365 * 24 * 60 * 60 if _PRODUCTION else 0, minimum=0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
SECURE_HSTS_PRELOAD = env_bool("DJANGO_HSTS_PRELOAD", default=True)
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_SECURE = env_bool("DJANGO_SECURE_COOKIES", default=_PRODUCTION)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"

# Sessions end after SESSION_IDLE_TIMEOUT without a request and SESSION_ABSOLUTE_TIMEOUT after
# sign-in, whatever happens (accounts.middleware.SessionTimeoutMiddleware).
SESSION_IDLE_TIMEOUT = env_int("SESSION_IDLE_MINUTES", 30, minimum=1) * 60
SESSION_ABSOLUTE_TIMEOUT = env_int("SESSION_ABSOLUTE_HOURS", 12, minimum=1) * 60 * 60
SESSION_COOKIE_AGE = SESSION_ABSOLUTE_TIMEOUT

# Content-Security-Policy (django-csp): scripts only from our own static files, never inline.
# Styles allow inline attributes (charts and progress bars set widths); no scripts can run from them.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'", "'unsafe-inline'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'", "data:"],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'none'"],
        "frame-ancestors": ["'none'"],
        "form-action": ["'self'"],
    },
}

# --- Health engine (explained in docs/health.md) -----------------------------------------------
# Thresholds and weights of the relationship health model. They live here, not in code, so a firm
# can tune them; health.scoring reads them through health.conf and rejects a dict missing a key.

HEALTH = {
    # The window W is the WINDOW_DAYS up to the scoring date; the baseline B the BASELINE_DAYS before W.
    "WINDOW_DAYS": 90,
    "BASELINE_DAYS": 180,
    # Score = weighted mean of the components that have data (weights renormalised over those).
    "WEIGHTS": {
        "depth": 0.30,
        "balance": 0.20,
        "cadence": 0.15,
        "sponsor_presence": 0.10,
        "feedback": 0.15,
        "delivery": 0.10,
    },
    # State: consultative when depth (the share of W's sessions that were consultative
    # conversations: a consultative focus, and not a KPI read-out) reaches this.
    "CONSULTATIVE_DEPTH": 0.5,
    # Mode: expert-led below, client-led above, co-production in between (balance = client share).
    "EXPERT_LED_BELOW": 0.25,
    "CLIENT_LED_ABOVE": 0.75,
    # Balance = (client events in W + this x client-initiated sessions in B) / (events in W + this
    # x sessions in B): the mode is a trait of the relationship, read over W with B's sessions.
    "BALANCE_BASELINE_WEIGHT": 0.5,
    # drift_to_transactional weighs evidence session by session (docs/health.md, How flags decide):
    # B needs MIN_SESSIONS sessions; its rates are pulled towards typical ones with the weight of
    # PRIOR_STRENGTH sessions; a slide multiplies the odds of a consultative sign by 1/ODDS_RATIO
    # (of a read-out by ODDS_RATIO) and shortens sessions to SHORTER_FACTOR of B's mean. The label
    # is weighed given what the session was ("focus": labelled consultative among sessions that are
    # not read-outs; "mislabelled": among read-outs), so a read-out is one fact, not three. Each
    # signal's log-likelihood ratio is weighted (signals still overlap: a read-out is short and
    # seldom brings a request for advice), a session's duration counts at most DURATION_CAP nats.
    "DRIFT_MIN_SESSIONS": 4,
    "DRIFT_PRIOR_STRENGTH": 4,
    # The charts the detector runs, each (odds ratio, shorter factor, penalty in nats); the one
    # with the most evidence after its penalty speaks, and the first also serves the test since a
    # sponsor change. One chart, tuned to a marked slide: a second, milder one (2, 0.8, 1.0)
    # decided no flag on sixteen evaluation seeds and cost a third of the detector's time.
    "DRIFT_CHARTS": [(4, 0.65, 0.0)],
    # The chance that a slide moves any one signal at all: "slid" is a mixture of "this sign
    # moved" and "it did not", so a sign that stays put (sessions as long as ever) costs little.
    "DRIFT_CHANGE_SHARE": 0.85,
    "DRIFT_WEIGHTS": {"readouts": 1.0, "focus": 0.6, "mislabelled": 1.0, "advice": 0.8, "initiative": 0.5,
                      "duration": 0.35},
    "DRIFT_DURATION_CAP": 2.0,
    # What the context adds (nats), once the sessions lean transactional: a new sponsor during W;
    # the KPI set changed after it; each KPI report date with no consultative conversation since
    # the report before (at most three); each KPI whose last two values missed target (at most two).
    "DRIFT_SPONSOR_WEIGHT": 2.5,
    "DRIFT_KPI_SET_WEIGHT": 1.5,
    "DRIFT_KPI_REPORT_WEIGHT": 0.7,
    "DRIFT_KPI_MISSED_WEIGHT": 0.15,
    # Raise at RAISE_AT nats (about 0.05 false drift flags per engagement-year on the evaluation's
    # healthy relationships, docs/health.md); keep a raised flag while
    # the evidence stays above CLEAR_AT or the consultative share of W stays under CLEAR_DEPTH;
    # put it on watch from WATCH_AT.
    "DRIFT_RAISE_AT": 6.5,
    "DRIFT_CLEAR_AT": 3.0,
    "DRIFT_WATCH_AT": 5.0,
    "DRIFT_CLEAR_DEPTH": 0.4,
    # After a sponsor change in W: the sessions since the change (all of them, the change point
    # being known) plus the KPI context raise at SPONSOR_RAISE_AT nats, go on watch at
    # SPONSOR_WATCH_AT (with at least one KPI read-out since the change). 2 nats: e^-2, about one
    # healthy sponsor change in seven, by Ville's inequality (one in six measured on 48 changes,
    # the KPI context being approximate); the new sponsor is the typical trigger, so the question
    # deserves a quicker answer than the CUSUM's search over every moment (docs/health.md).
    "DRIFT_SPONSOR_RAISE_AT": 2.0,
    "DRIFT_SPONSOR_WATCH_AT": 1.5,
    # cadence_drop: no session for GAP_FACTOR x the usual interval (B's, else the plan; planned
    # breaks not counted), kept while over HOLD_GAP_FACTOR, on watch from WATCH_GAP_FACTOR; or
    # at most half the sessions the usual rhythm expects over the last RATE_DAYS, with a Poisson
    # probability of so few under RATE_RAISE_P (kept while under RATE_HOLD_P).
    "CADENCE_GAP_FACTOR": 2,
    "CADENCE_HOLD_GAP_FACTOR": 1.5,
    "CADENCE_WATCH_GAP_FACTOR": 1.5,
    "CADENCE_MIN_BASELINE_SESSIONS": 3,
    "CADENCE_RATE_DAYS": 60,
    "CADENCE_RATE_RAISE_P": 0.01,
    "CADENCE_RATE_HOLD_P": 0.1,
    # feedback_decline: the probability that the client's mean rating in W is more than DROP
    # below B's, or under FLOOR, given the responses behind each (ratings spread RATING_SD).
    "FEEDBACK_DROP": 0.75,
    "FEEDBACK_FLOOR": 3.0,
    "FEEDBACK_RATING_SD": 0.6,
    "FEEDBACK_RAISE_P": 0.95,
    "FEEDBACK_HOLD_P": 0.7,
    # one_sided: the probability that the client's share of events is under EXPERT_LED_BELOW (or
    # over CLIENT_LED_ABOVE), with at least MIN_EVENTS events in W.
    "ONE_SIDED_MIN_EVENTS": 5,
    "ONE_SIDED_RAISE_P": 0.97,
    "ONE_SIDED_HOLD_P": 0.7,
    # A flag the engine raised is not auto-resolved before it has been up this many days.
    "MIN_EPISODE_DAYS": 21,
    # milestone_slippage: this share of the milestones due in W late, with at least MIN_DUE due.
    "SLIPPAGE_LATE_SHARE": 0.3,
    "SLIPPAGE_MIN_DUE": 2,
    # perception_gap: consultant self-assessment minus client rating (1-5 scale) in W.
    "PERCEPTION_GAP": 1.5,
    "SEVERITY": {
        "drift_to_transactional": "high",
        "sponsor_change": "high",
        "cadence_drop": "medium",
        "feedback_decline": "medium",
        "one_sided": "medium",
        "milestone_slippage": "low",
        "perception_gap": "low",
    },
    # Engagements the nightly run scores (proposed and closed ones are left alone).
    "SCORED_STATUSES": ["active", "paused", "closing"],
    # Engagements per chunk task / per set of aggregate queries.
    "BATCH_SIZE": env_int("HEALTH_BATCH_SIZE", 1000, minimum=1),
    # A save waits this long before its rescore runs, so a burst of saves costs one rescore.
    "RESCORE_DELAY_SECONDS": env_int("HEALTH_RESCORE_DELAY_SECONDS", 10, minimum=0),
    # A pending rescore mark older than this is presumed lost (broker restart) and queued again.
    "RESCORE_STALE_AFTER_SECONDS": 15 * 60,
}

# --- Calendar import (docs/calendar.md) ---------------------------------------------------------

# Subscribed calendars are read every CALENDAR_POLL_MINUTES (a failing one less and less often).
CALENDAR_POLL_MINUTES = env_int("CALENDAR_POLL_MINUTES", 30, minimum=5)
# Feed addresses on loopback, private or link-local networks are refused unless this is on: for
# tests, and for a firm whose calendar server is inside its own network.
CALENDAR_ALLOW_PRIVATE_ADDRESSES = env_bool("CALENDAR_ALLOW_PRIVATE_ADDRESSES", default=False)
CALENDAR_MAX_BYTES = env_int("CALENDAR_MAX_MB", 10, minimum=1) * 1024 * 1024
CALENDAR_FETCH_TIMEOUT = env_int("CALENDAR_FETCH_TIMEOUT_SECONDS", 15, minimum=1)
# The window a calendar is read over: meetings of the last PAST_DAYS and the next FUTURE_DAYS.
CALENDAR_PAST_DAYS = env_int("CALENDAR_PAST_DAYS", 180, minimum=1)
CALENDAR_FUTURE_DAYS = env_int("CALENDAR_FUTURE_DAYS", 30, minimum=0)

# Nightly scoring of the portfolio, fanned out by health.tasks.score_all into chunk tasks.
from celery.schedules import crontab  # noqa: E402  (kept next to its only use)

CELERY_BEAT_SCHEDULE = {
    "score-relationships-nightly": {
        "task": "health.tasks.score_all",
        "schedule": crontab(hour=env_int("HEALTH_NIGHTLY_HOUR", 2, minimum=0), minute=15),
        # A run that has not started by the next morning is pointless; the next night's replaces it.
        "options": {"expires": 12 * 60 * 60},
    },
    # Rescores that could not be queued while the broker was down, or were lost with it, go out
    # again within minutes of its return (health.services.pending_rescores_sweep).
    "health-sweep-pending-rescores": {
        "task": "health.tasks.sweep_pending_rescores",
        "schedule": 5 * 60,
        "options": {"expires": 4 * 60},
    },
    # High-flag notices whose task was lost with the broker, or whose e-mail failed, go out within minutes.
    "health-sweep-flag-notices": {
        "task": "health.tasks.sweep_flag_notifications",
        "schedule": 5 * 60,
        "options": {"expires": 4 * 60},
    },
    # Managers' weekly digest (new flags, biggest score drops, relationships gone quiet): Monday morning.
    "dashboard-weekly-digest": {
        "task": "dashboard.tasks.send_weekly_digests",
        "schedule": crontab(day_of_week="mon", hour=7, minute=0),
        "options": {"expires": 6 * 60 * 60},
    },
    # A pulse to each active engagement's sponsor who had none in 30 days; daily, so monthly per engagement.
    "portal-monthly-pulses": {
        "task": "portal.tasks.send_monthly_pulses",
        "schedule": crontab(hour=8, minute=30),
        "options": {"expires": 12 * 60 * 60},
    },
    # Subscribed calendars: every few minutes, the feeds whose next poll is due (each has its own
    # rhythm: CALENDAR_POLL_MINUTES, or longer after errors).
    "calendars-poll-due-feeds": {
        "task": "calendars.tasks.poll_due_feeds",
        "schedule": 5 * 60,
        "options": {"expires": 4 * 60},
    },
    # Tell client users when a milestone shared with them changed status, whichever door changed it.
    "portal-status-notifications": {
        "task": "portal.tasks.send_status_notifications",
        "schedule": crontab(minute="*/5"),
        "options": {"expires": 4 * 60},
    },
}
