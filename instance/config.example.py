# Copy to instance/config.py and adjust. instance/ is not committed: it holds this
# deployment's secrets and the SQLite database. Environment variables override:
# DATABASE_URL, and any PORTAL_<SETTING> (for example PORTAL_PASSWORD_MIN_LENGTH=10).

# PostgreSQL in production (psycopg 3 is used for postgresql:// URLs):
# SQLALCHEMY_DATABASE_URI = "postgresql://portal@127.0.0.1:5432/portal"

# Behind nginx (or another proxy) that sets X-Forwarded-For/-Proto/-Host:
# PROXY_FIX = True

# Behind HTTPS, send cookies only over HTTPS:
# SESSION_COOKIE_SECURE = True
# REMEMBER_COOKIE_SECURE = True

# How long a login lasts without "remember me", and with it:
# from datetime import timedelta
# PERMANENT_SESSION_LIFETIME = timedelta(hours=8)
# REMEMBER_COOKIE_DURATION = timedelta(days=14)

# SECRET_KEY is generated into instance/secret_key on first run; set it here only to share
# one key between several app servers.

# The domain in the UIDs of calendar feeds (bookings, meetings, events), e.g. the public
# host name; without it UIDs carry no domain. Never taken from the request:
# CALENDAR_UID_DOMAIN = "huanxian.example.org"
