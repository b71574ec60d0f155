"""In-process CPU of a cold site calendar month and availability window (issue 20, target 4).

What the bench's locust users ask (bench/locustfile.py): a random day of the generated five
years for one of the 50 busiest sites, the page cache off, so every request is a miss. No
gunicorn, no locust: an anonymous test client, timed with ``time.perf_counter`` and,
with ``--profile``, cProfile.

    .venv/bin/python bench/profile_calendar.py --scale 20 --requests 400
    .venv/bin/python bench/profile_calendar.py --profile calendar --sort tottime

The scale-N SQLite database is generated once under /tmp and reused (``--fresh`` to redo).
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
import random
import statistics
import time
from datetime import date, timedelta
from pathlib import Path
from typing import Any


def make_app(path: Path):
    from portal import create_app

    return create_app(
        {
            "SECRET_KEY": "bench-secret-key",
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{path}",
            "PAGE_CACHE": False,
            "RATELIMIT_ENABLED": False,
            "PLANNER_BACKGROUND": False,
        }
    )


def prepare(path: Path, scale: int, fresh: bool):
    from portal.extensions import db

    if fresh and path.exists():
        path.unlink()
    generate = not path.exists()
    app = make_app(path)
    if generate:
        from portal import scale as scaled

        print(f"generating scale {scale} in {path} …", flush=True)
        began = time.perf_counter()
        with app.app_context():
            db.create_all()
            scaled.generate(scale)
            db.session.remove()
        print(f"  {time.perf_counter() - began:.1f} s", flush=True)
    return app


def targets(app) -> tuple[list[int], date, date]:
    """The 50 busiest sites and the reservations' first and last day (as bench/run.py)."""
    from run import busy_sites_and_days  # bench/run.py: this script's folder is on sys.path

    from portal.extensions import db

    with app.app_context():
        found = busy_sites_and_days()
        db.session.remove()
    return found


def urls(kind: str, n: int, sites: list[int], first: date, last: date, seed: int) -> list[str]:
    rng = random.Random(seed)
    span = max(1, (last - first).days)
    found = []
    for _ in range(n):
        day = first + timedelta(days=rng.randrange(span))
        site = rng.choice(sites)
        if kind == "calendar":
            found.append(f"/calendar/site/{site}?date={day}")
        else:
            found.append(
                f"/api/v1/availability?site={site}&from={day}&to={day + timedelta(days=30)}"
            )
    return found


def run(client, paths: list[str], headers: dict[str, str]) -> list[float]:
    """Wall time of each request (``time.perf_counter``)."""
    times = []
    for path in paths:
        began = time.perf_counter()
        response = client.get(path, headers=headers)
        times.append(time.perf_counter() - began)
        if response.status_code != 200:
            raise SystemExit(f"{path}: {response.status_code}")
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--scale", type=int, default=20)
    parser.add_argument("--database", type=Path, default=None)
    parser.add_argument("--fresh", action="store_true")
    parser.add_argument("--requests", type=int, default=400)
    parser.add_argument("--rounds", type=int, default=3, help="timed rounds; the best is kept")
    parser.add_argument("--locale", default="", help="Accept-Language, e.g. en")
    parser.add_argument("--profile", choices=("calendar", "availability"))
    parser.add_argument("--sort", default="cumulative")
    parser.add_argument("--lines", type=int, default=45)
    args = parser.parse_args()
    path = args.database or Path(f"/tmp/portal-profile-scale{args.scale}.sqlite3")
    app = prepare(path, args.scale, args.fresh)
    sites, first, last = targets(app)
    client = app.test_client()
    headers = {"Accept-Language": args.locale} if args.locale else {}
    kinds = [args.profile] if args.profile else ["calendar", "availability"]
    for kind in kinds:
        paths = urls(kind, args.requests, sites, first, last, seed=7)
        run(client, paths[:20], headers)  # warm up: imports, template compilation
        if args.profile:
            profiler = cProfile.Profile()
            profiler.enable()
            run(client, paths, headers)
            profiler.disable()
            stats = pstats.Stats(profiler).strip_dirs().sort_stats(args.sort)
            stats.print_stats(args.lines)
            continue
        # The best round of each measure: the machine is shared, others' work only adds.
        best: dict[str, Any] = {}
        for _ in range(args.rounds):
            cpu = time.process_time()
            times = run(client, paths, headers)
            cpu = (time.process_time() - cpu) / len(paths) * 1000
            mean = statistics.fmean(times) * 1000
            best["cpu"] = min(best.get("cpu", cpu), cpu)
            best["mean"] = min(best.get("mean", mean), mean)
            best["median"] = min(best.get("median", 1e9), statistics.median(times) * 1000)
        print(
            f"{kind}: {best['cpu']:.2f} ms CPU, {best['mean']:.2f} ms mean and "
            f"{best['median']:.2f} ms median wall time per request "
            f"({args.requests} requests, best of {args.rounds} rounds)",
            flush=True,
        )


if __name__ == "__main__":
    main()
