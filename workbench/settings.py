"""Settings for every environment, switched by environment variables only.

With nothing set this is the embedded default: SQLite in the project folder, Celery tasks run
in-process, DEBUG off. ``DATABASE_URL`` and ``REDIS_URL`` switch to PostgreSQL and a Redis broker
(the production shape, and what CI runs against).
"""

from __future__ import annotations

from pathlib import Path

from celery.schedules import crontab
from kombu import Queue

from workbench.env import database_config, env_bool, env_int, env_list, env_str, secret_key

BASE_DIR = Path(__file__).resolve().parent.parent

SECRET_KEY = secret_key(BASE_DIR)
DEBUG = env_bool("DEBUG", False)
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["127.0.0.1", "localhost", "testserver"])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_htmx",
    "axes",
    "workbench.apps.WorkbenchConfig",
    "threats.apps.ThreatsConfig",
    "mitigations.apps.MitigationsConfig",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "workbench.middleware.csp.ContentSecurityPolicyMiddleware",
    "workbench.middleware.query.RefuseNulQueryMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "workbench.api.throttles.ExpensiveReadMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "workbench.urls"

# The apps' one declared binding (ADR 0004): threats reads plans and acceptances through the port
# it declares (threats.ports.MitigationsPort); this names the class that implements it.
THREATS_MITIGATIONS_PORT = "mitigations.port.MitigationsPort"
# What runs after a system's change commits, besides its recompute (workbench.background.changes):
# dotted paths of functions called with the system id, in order; each logs and never raises.
SYSTEM_CHANGE_FOLLOWUPS = ["mitigations.services.obsolete.on_system_changed"]
WSGI_APPLICATION = "workbench.wsgi.application"

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
            ],
        },
    },
]

# --- Database: SQLite by default, PostgreSQL (or anything dj-database-url knows) by URL -------
# Every SQLite database, default file or sqlite:/// URL, gets the same lock mode and busy
# timeout (workbench.env.SQLITE_OPTIONS).
DATABASE_URL = env_str("DATABASE_URL")
DATABASES = {
    "default": database_config(
        DATABASE_URL, BASE_DIR / env_str("SQLITE_NAME", "db.sqlite3"), env_int("DB_CONN_MAX_AGE", 60)
    )
}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 12}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "workbench:dashboard"
LOGOUT_REDIRECT_URL = "login"

# --- Login lockout (workbench.lockout) --------------------------------------------------------
# 10 failures of one username from one address, or 20 of any usernames from one address
# (password spraying), lock that address out for an hour. The address is workbench.client_ip's.
AXES_FAILURE_LIMIT = env_int("AXES_FAILURE_LIMIT", 10)
AXES_ADDRESS_FAILURE_LIMIT = env_int("AXES_ADDRESS_FAILURE_LIMIT", 20)
AXES_COOLOFF_TIME = 1  # hours
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"], "ip_address"]
AXES_HANDLER = "workbench.lockout.AddressAwareLockoutHandler"
AXES_CLIENT_IP_CALLABLE = "workbench.client_ip.client_ip"
AXES_ENABLED = env_bool("AXES_ENABLED", True)

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

# Development and tests serve static files straight from the finders; the production image
# runs collectstatic (PLAIN_STATIC=false) into hashed, compressed files served by WhiteNoise.
PLAIN_STATIC = DEBUG or env_bool("PLAIN_STATIC", True)
STATIC_URL = "static/"
STATIC_ROOT = None if PLAIN_STATIC else BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if PLAIN_STATIC
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}
WHITENOISE_USE_FINDERS = PLAIN_STATIC

# --- Security headers -----------------------------------------------------------------------
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"
# HTTPS is the production default (DEBUG off with a database URL); docker-compose.yml serves
# plain http on localhost and turns it off with SECURE_COOKIES=false. Behind a TLS-terminating
# proxy set TRUSTED_PROXY_HTTPS=true so the forwarded scheme is believed (and redirects end).
SECURE_COOKIES = env_bool("SECURE_COOKIES", not DEBUG and bool(DATABASE_URL))
SESSION_COOKIE_SECURE = SECURE_COOKIES
CSRF_COOKIE_SECURE = SECURE_COOKIES
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", SECURE_COOKIES)
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 31_536_000 if SECURE_COOKIES else 0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", True)
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", True)
if env_bool("TRUSTED_PROXY_HTTPS", False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
# The CSP (workbench.middleware.csp) also sends frame-ancestors 'none'; this covers old browsers.
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"

# --- REST API -------------------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "workbench.api.authentication.TeamTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["workbench.api.permissions.TeamRolePermission"],
    "DEFAULT_PARSER_CLASSES": [
        "workbench.api.parsers.SafeJSONParser",
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    "DEFAULT_VERSIONING_CLASS": "rest_framework.versioning.URLPathVersioning",
    "ALLOWED_VERSIONS": ["v1"],
    "DEFAULT_VERSION": "v1",
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    # Offset pages for small listings; the workbench's own lists and sync feeds use cursors
    # (workbench.api.pagination), which stay stable while rows change between pages.
    "DEFAULT_PAGINATION_CLASS": "workbench.api.pagination.BoundedLimitOffsetPagination",
    "PAGE_SIZE": 100,
    "DEFAULT_SCHEMA_CLASS": "workbench.api.schema.WorkbenchAutoSchema",
    "EXCEPTION_HANDLER": "workbench.api.errors.api_exception_handler",
    # Budgets (workbench.api.throttles): one per user across their tokens and sessions, one per
    # user for the expensive reads (also counted on their pages), one per address for anonymous.
    "DEFAULT_THROTTLE_CLASSES": [
        "workbench.api.throttles.UserRateThrottle",
        "workbench.api.throttles.ExpensiveReadThrottle",
        "workbench.api.throttles.AddressRateThrottle",
    ],
    "DEFAULT_THROTTLE_RATES": {
        "user": env_str("API_THROTTLE_USER", "6000/hour"),
        "expensive": env_str("API_THROTTLE_EXPENSIVE", "600/hour"),
        "anon": env_str("API_THROTTLE_ANON", "120/hour"),
    },
}

# --- Client addresses, tokens and size limits (issue 13, points 4 and 5) --------------------
# How many reverse proxies of ours stand in front of the app: 0 (reached directly) ignores
# X-Forwarded-For; N reads the N-th address from its right (workbench.client_ip). Throttles
# and the login lockout both use it.
TRUSTED_PROXY_COUNT = env_int("TRUSTED_PROXY_COUNT", 0)
# Active (unrevoked, unexpired) API tokens one user may hold, across teams.
API_MAX_ACTIVE_TOKENS = env_int("API_MAX_ACTIVE_TOKENS", 20)
# Size limits (workbench.services.limits): above bench/sync.py's largest system (50,000 assets,
# 100,000 flows, one 150,000-item sync). Writes past them are refused whole (422; 413 for a sync
# body with too many items). The editor graph draws at most EDITOR_GRAPH_MAX_ELEMENTS zones,
# assets and flows at full detail, else zones and flow counts (workbench.api.editor).
MAX_ASSETS_PER_SYSTEM = env_int("MAX_ASSETS_PER_SYSTEM", 60_000)
MAX_FLOWS_PER_SYSTEM = env_int("MAX_FLOWS_PER_SYSTEM", 150_000)
MAX_SYNC_ITEMS = env_int("MAX_SYNC_ITEMS", 200_000)
EDITOR_GRAPH_MAX_ELEMENTS = env_int("EDITOR_GRAPH_MAX_ELEMENTS", 5000)
SPECTACULAR_SETTINGS = {
    "TITLE": "Model-theft threat workbench API",
    "DESCRIPTION": (
        "REST API v1. Authenticate with `Authorization: Bearer <token>` (tokens are made on the "
        "API tokens page, scoped to one team, read-only or read-write) or a browser session with "
        "CSRF. A system's zones, assets, flows and attacker profiles are nested under it "
        "(`/api/v1/systems/{slug}/assets/`), so another team's objects are simply not found (404). "
        "Lists use cursor pagination (`next`/`previous` links); details carry an `ETag` to send "
        "back in `If-Match` (412 when stale). Every error answers `{detail, code, errors?}`."
    ),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    # Operation ids and tags start after /api/v1 (``systems_assets_create``, not ``api_v1_...``).
    "SCHEMA_PATH_PREFIX": r"/api/v[0-9]+",
    # Separate request and response components (read-only fields only in responses), which
    # generated clients need to type bodies precisely.
    "COMPONENT_SPLIT_REQUEST": True,
    # The same document whatever the database (see workbench.api.schema.drop_storage_bounds).
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "workbench.api.schema.drop_storage_bounds",
    ],
    # One name for the asset/flow choice that findings and the advisor share.
    "ENUM_NAME_OVERRIDES": {
        "TargetTypeEnum": "threats.models.findings.TargetType",
        "BatchElementKindEnum": "workbench.api.batch.ELEMENT_KINDS",
        "AssetKindEnum": "workbench.choices.AssetKind",
        "FindingStatusEnum": "threats.models.findings.FindingStatus",  # shared by Finding and FindingDetail
        "PlanStatusEnum": "mitigations.models.plans.PlanStatus",  # shared by Plan and PlanDetail
    },
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
}

# --- Cache and Celery -----------------------------------------------------------------------
REDIS_URL = env_str("REDIS_URL")
if REDIS_URL:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}}
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

CELERY_BROKER_URL = REDIS_URL or "memory://"
CELERY_RESULT_BACKEND = None
CELERY_TASK_IGNORE_RESULT = True
# A worker imports these when it starts: the risk engine and its numeric libraries (scipy's sparse
# graph and special functions take a few tenths of a second to load), so the first recompute after
# a deploy is as fast as the rest instead of paying it for the user.
CELERY_IMPORTS = ("threats.engine.risk",)
# Diagram renders (seconds of `dot` on a big system) go to a queue of their own, so a worker
# can be dedicated to recomputes (`-Q celery`) and an edit never waits behind a layout. A worker
# started without -Q consumes both.
CELERY_TASK_QUEUES = (Queue("celery"), Queue("diagrams"))
CELERY_TASK_DEFAULT_QUEUE = "celery"
CELERY_TASK_ROUTES = {"threats.render_diagrams": {"queue": "diagrams"}}
# Embedded default: no broker, so tasks run in the web process (DESIGN.md §8).
CELERY_TASK_ALWAYS_EAGER = env_bool("CELERY_TASK_ALWAYS_EAGER", not REDIS_URL)
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_TASK_SOFT_TIME_LIMIT = env_int("CELERY_TASK_SOFT_TIME_LIMIT", 120)
CELERY_TASK_TIME_LIMIT = env_int("CELERY_TASK_TIME_LIMIT", 150)
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "visibility_timeout": env_int("CELERY_VISIBILITY_TIMEOUT", 3600),
    # A publish against a dead broker must fail fast instead of hanging a web request.
    "max_retries": 2,
    "interval_start": 0,
    "interval_step": 0.2,
    "interval_max": 0.5,
}
CELERY_BROKER_CONNECTION_TIMEOUT = 2
CELERY_TASK_PUBLISH_RETRY = True
CELERY_TASK_PUBLISH_RETRY_POLICY = {"max_retries": 2, "interval_start": 0, "interval_step": 0.2, "interval_max": 0.5}
CELERY_BEAT_SCHEDULE: dict[str, dict[str, object]] = {
    # Every minute: re-enqueue systems whose results are behind their version, so a broker
    # outage or a lost message delays a recompute but never loses it (DESIGN.md §6).
    "sweep-stale-systems": {"task": "threats.sweep_stale_systems", "schedule": env_int("SWEEP_SECONDS", 60)},
    # Daily at 00:15 UTC: end risk acceptances past their expiry date and reopen their findings.
    "expire-risk-acceptances": {"task": "mitigations.expire_acceptances", "schedule": crontab(hour=0, minute=15)},
}

# --- Audit chain (docs/audit-chain.md) ------------------------------------------------------
# Events are sealed with HMAC under a key kept out of the database: AUDIT_HMAC_KEY (at least 32
# random characters; every host that writes events needs the same one), else a random key
# generated once into AUDIT_KEY_FILE (the embedded default, like .secret_key).
AUDIT_HMAC_KEY = env_str("AUDIT_HMAC_KEY")
AUDIT_KEY_FILE = Path(env_str("AUDIT_KEY_FILE", str(BASE_DIR / ".audit_key")))
# Signed chain-head checkpoints, appended one JSON line each; empty means one file per database
# under var/audit-anchors/. Copy it (or the "workbench.audit.anchor" log) off the machine.
AUDIT_ANCHOR_PATH = env_str("AUDIT_ANCHOR_PATH")
# Every 10 minutes: anchor each team's chain head that moved since its last anchor.
AUDIT_ANCHOR_SECONDS = env_int("AUDIT_ANCHOR_SECONDS", 600)
CELERY_BEAT_SCHEDULE["anchor-audit-chains"] = {
    "task": "workbench.anchor_audit_chains",
    "schedule": AUDIT_ANCHOR_SECONDS,
}

# --- Logging --------------------------------------------------------------------------------
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
    "loggers": {"axes": {"level": "WARNING"}},
}

EMAIL_BACKEND = env_str("EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "workbench@localhost")

# --- Outbound webhooks (mitigations.webhook_targets, issue 13.3) -----------------------------
# A webhook only reaches public addresses: loopback, private, link-local, CGNAT, multicast,
# reserved and cloud metadata targets are refused at save and again at delivery. Name private
# receivers here (host names or CIDRs, comma-separated), e.g. "hooks.corp.internal,10.20.0.0/16";
# metadata addresses stay refused whatever this says. Plain http only with WEBHOOK_REQUIRE_HTTPS off.
WEBHOOK_ALLOWED_PRIVATE_HOSTS = env_list("WEBHOOK_ALLOWED_PRIVATE_HOSTS", [])
WEBHOOK_REQUIRE_HTTPS = env_bool("WEBHOOK_REQUIRE_HTTPS", not DEBUG)

# --- Risk engine ----------------------------------------------------------------------------
RISK_DRAWS = env_int("RISK_DRAWS", 10_000)
# Findings whose full explanation a recompute stores (the largest current losses); the others'
# are computed when a page or the API asks (threats/selectors_explain.py).
RISK_EXPLAINED_TOP = env_int("RISK_EXPLAINED_TOP", 25)
