"""Default settings of the portal; a deployment overrides them in instance/config.py or PORTAL_* env vars."""

from __future__ import annotations

from datetime import timedelta


class Defaults:
    SQLALCHEMY_ENGINE_OPTIONS: dict = {}
    # Flask-Babel: the UI is written in Simplified Chinese; English is switchable.
    BABEL_DEFAULT_LOCALE = "zh_Hans_CN"
    BABEL_DEFAULT_TIMEZONE = "Asia/Shanghai"
    PORTAL_LOCALES = ("zh_Hans_CN", "en")
    # Relative to the app's root_path (portal/): portal/translations/en/LC_MESSAGES/messages.po.
    # Message ids are the Chinese text, so zh_Hans_CN needs no catalogue.
    BABEL_TRANSLATION_DIRECTORIES = "translations"
    # Sessions: signed cookies that expire; "remember me" keeps a longer cookie.
    PERMANENT_SESSION_LIFETIME = timedelta(hours=8)
    REMEMBER_COOKIE_DURATION = timedelta(days=14)
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    REMEMBER_COOKIE_HTTPONLY = True
    REMEMBER_COOKIE_SAMESITE = "Lax"
    # Set True behind a reverse proxy (nginx) that sets X-Forwarded-* headers.
    PROXY_FIX = False
    # Bootstrap is served from the installed bootstrap-flask package, never a CDN.
    BOOTSTRAP_SERVE_LOCAL = True
    BOOTSTRAP_BOOTSWATCH_THEME = None
    # Minimum length of a password set through the portal.
    PASSWORD_MIN_LENGTH = 8
    # werkzeug's hash method; tests use a cheaper one so that they stay fast.
    PASSWORD_HASH_METHOD = "scrypt"
    # Login: failed attempts allowed per client address, and per account before a lockout.
    RATELIMIT_STORAGE_URI = "memory://"
    # Said for every app: Flask-Limiter's one limiter would otherwise keep the last app's
    # setting (an app built with RATELIMIT_ENABLED=False turned it off for later ones).
    RATELIMIT_ENABLED = True
    RATELIMIT_HEADERS_ENABLED = True
    LOGIN_RATE_LIMIT = "10 per minute"
    LOGIN_MAX_FAILURES = 5
    LOGIN_LOCKOUT_MINUTES = 15
    # The CJK font PDFs embed (a path or a list); None searches Debian's usual places
    # (fonts-noto-cjk). Without one, PDF downloads answer 503 with an explanation.
    PDF_FONT_PATH = None
    # Typeset PDFs kept by a fingerprint of what they show (portal/pdfcache.py): files under
    # PDF_CACHE_DIR (None: instance/cache/pdf), or Redis when CACHE_REDIS_URL is set, there
    # for PDF_CACHE_TIMEOUT seconds. Never stale: changed data is a new fingerprint.
    PDF_CACHE = True
    PDF_CACHE_DIR = None
    PDF_CACHE_TIMEOUT = 7 * 24 * 3600
    # Length of accepted text fields, to refuse absurd input early.
    MAX_CONTENT_LENGTH = 16 * 1024 * 1024
    # Seconds one plugin hook call may take before it is abandoned and the plugin left out
    # (0 turns the bound off), and seconds a plugin that overran is then skipped by this
    # worker, so that a hanging member system does not hold every request.
    PLUGIN_HOOK_TIMEOUT = 5.0
    PLUGIN_TIMEOUT_COOLDOWN = 60.0
    WTF_CSRF_TIME_LIMIT = None
    # The domain in the UIDs of calendar feeds (e.g. "portal.example.org"), the same however
    # the feed is fetched; None: UIDs without a domain. Never taken from the request.
    CALENDAR_UID_DOMAIN = None
    # The page cache of anonymous reads of public pages (portal/pagecache.py): never stale,
    # since a change to the data moves the keys. In Redis, shared by every worker and server,
    # when CACHE_REDIS_URL (or REDIS_URL) is set, e.g. "redis://127.0.0.1:6379/0"; else in
    # each worker's memory, at most PAGE_CACHE_THRESHOLD pages. Pages unused for
    # PAGE_CACHE_TIMEOUT seconds are dropped.
    PAGE_CACHE = True
    # …and of signed-in users' own busiest pages, each kept for its user only, never older
    # than the data and at most a minute older than the clock (pagecache.private_page).
    PRIVATE_PAGE_CACHE = True
    # Signed-in requests check their login in Redis, not the database, while no user or
    # login changed (portal/auth/login_cache.py); only with Redis configured. A kept login
    # is read again after LOGIN_CACHE_TIMEOUT seconds at the latest.
    LOGIN_CACHE = True
    LOGIN_CACHE_TIMEOUT = 300
    PAGE_CACHE_TIMEOUT = 600
    PAGE_CACHE_THRESHOLD = 1000
    PAGE_CACHE_KEY_PREFIX = "portal:"
    CACHE_REDIS_URL = None
    REDIS_URL = None


def normalise_database_url(url: str) -> str:
    """Use psycopg 3 for PostgreSQL URLs written the usual way (postgres:// or postgresql://)."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url
