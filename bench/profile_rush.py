"""Where a seat booking's time goes, in-process (issue 20's open-run rush).

Loads the demo season on the database given, fills the demo open run, then times and
profiles ``POST /runs/<id>/book`` by a logged-in trainee, as the rush's refused attempts
(the run full) and as accepted ones (seats freed each time):

    .venv/bin/python bench/profile_rush.py --url postgresql+psycopg://postgres@127.0.0.1:5432/scratch \
        --redis redis://127.0.0.1:6379/13 [--profile [--sort tottime]]
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
import tempfile
import time

from sqlalchemy import event, select, update

from portal import create_app
from portal.extensions import db


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--url", default="sqlite:///" + tempfile.mktemp(suffix=".sqlite3"))
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--profile", action="store_true")
    parser.add_argument(
        "--redis", default=None, help="Redis for the page cache and logins, as in production"
    )
    parser.add_argument("--sort", default="cumulative", help="pstats order: cumulative, tottime")
    parser.add_argument("--callers", default="", help="also who calls functions matching this")
    args = parser.parse_args()
    app = create_app(
        {
            "CACHE_REDIS_URL": args.redis,
            "SQLALCHEMY_DATABASE_URI": args.url,
            "SECRET_KEY": "profile",
            "WTF_CSRF_ENABLED": False,
            "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000",
            "LOGIN_RATE_LIMIT": "100000 per minute",
        }
    )
    from portal.demo import load_demo
    from portal.trainees.demo import DEMO_RUN
    from portal.trainees.models import OpenRun

    with app.app_context():
        db.drop_all()
        db.create_all()
        load_demo(season=["trainees"])
        db.session.commit()
        run = db.session.scalar(select(OpenRun).where(OpenRun.title == DEMO_RUN))
        run_id = run.id
        db.session.execute(update(OpenRun).where(OpenRun.id == run_id).values(seats=1))
        db.session.commit()
    client = app.test_client()
    client.post("/login", data={"username": "trainee", "password": "huanxian2026"})
    url = f"/runs/{run_id}/book"

    def burst(n: int) -> float:
        began = time.perf_counter()
        for _ in range(n):
            response = client.post(url, data={"waitlist": ""})
            assert response.status_code == 302, response.status_code
            with client.session_transaction() as s:
                s.pop("_flashes", None)
        return (time.perf_counter() - began) * 1000 / n

    burst(20)
    statements: list[str] = []

    def count(conn, cursor, statement, *rest) -> None:
        statements.append(" ".join(statement.split())[:120])

    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", count)
    burst(1)
    event.remove(engine, "before_cursor_execute", count)
    print(f"refused (run full): {len(statements)} statements", *statements, sep="\n  ")
    print(f"refused (run full): {burst(args.requests):.2f} ms a request")
    if args.profile:
        profile = cProfile.Profile()
        profile.enable()
        burst(args.requests)
        profile.disable()
        stats = pstats.Stats(profile).sort_stats(args.sort)
        stats.print_stats(45)
        if args.callers:
            stats.print_callers(args.callers)


if __name__ == "__main__":
    main()
