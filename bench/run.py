"""`make bench`: the portal under gunicorn on a large generated consortium, SQLite and PostgreSQL.

For each database: a fresh database, ``flask db upgrade``, the consortium of
``flask portal demo --scale N`` (portal/scale.py, called in-process), then

* gunicorn with 2 × cores + 1 sync workers, driven by locust (headless, 50 users with no think
  time, BENCH_DURATION seconds per scenario): the public site search, a site's month calendar,
  the availability API and the class itinerary PDF;
* in-process timings through the service layer (each call in a fresh session, as a request
  would be): checking the 5-day route (plan_from_template + check_plan), booking the one-day
  route (book), a refused booking with the page's date search (book refusing the route on
  a Monday, then suggest_dates over the class's days), a member confirming a pending
  reservation (decide);
* on PostgreSQL only, the booking burst: 1,000 attempts released at once through book(),
  from 2 × cores + 1 processes as gunicorn's workers would serve them (each with its own
  engine and pool), on windows of 10 sites drawn so that about nine attempts in ten can fit
  (every second window is asked for one class more than it holds), then the check that no
  window holds more than its capacity, guides or teachers allow.

A bare Flask "hello" app under the identical gunicorn command gives the ceiling of this
machine with this load generator. Results go to bench/results/<date>-scale<N>.json and, with
--write-docs, into the results section of docs/benchmarks.md.

    .venv/bin/python bench/run.py --scale 20 --duration 20 --write-docs
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import platform
import random
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
import uuid
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
BIN = Path(sys.executable).parent
RESULTS = ROOT / "bench" / "results"
DOC = ROOT / "docs" / "benchmarks.md"
DOC_START, DOC_END = "<!-- bench:results -->", "<!-- /bench:results -->"
SCENARIOS = ("search", "calendar", "availability", "pdf")
WORKERS = 2 * (os.cpu_count() or 1) + 1
# The deployment guide's command (docs/deployment.md), on a free local port.
GUNICORN = [str(BIN / "gunicorn"), "--workers", str(WORKERS), "--bind"]


def log(message: str) -> None:
    print(f"[bench {datetime.now():%H:%M:%S}] {message}", flush=True)


# ---------------------------------------------------------------- the machine


def machine() -> dict[str, Any]:
    def read(path: str, key: str) -> str:
        try:
            for line in Path(path).read_text().splitlines():
                if line.lower().startswith(key):
                    return line.split(":", 1)[1].strip()
        except OSError:
            pass
        return "?"

    try:
        commit = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=ROOT, capture_output=True, text=True, check=True
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        commit = "?"
    from importlib.metadata import version

    memory_kb = read("/proc/meminfo", "memtotal").split()[0]
    return {
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "nproc": os.cpu_count(),
        "memory_gib": round(int(memory_kb) / 1024 / 1024, 1) if memory_kb.isdigit() else "?",
        "cpu": read("/proc/cpuinfo", "model name"),
        "commit": commit,
        "python": platform.python_version(),
        "versions": {
            name: version(name) for name in ("flask", "sqlalchemy", "psycopg", "gunicorn", "locust")
        },
    }


# ---------------------------------------------------------------- databases


@contextmanager
def database(kind: str, pg_url: str, workdir: Path):
    """A fresh, empty database URL of ``kind``; dropped afterwards."""
    if kind == "sqlite":
        yield "sqlite:///" + str(workdir / "bench.sqlite3")
        return
    import sqlalchemy as sa

    base = sa.make_url(pg_url)
    admin = sa.create_engine(base, isolation_level="AUTOCOMMIT")
    name = f"portal_bench_{uuid.uuid4().hex[:8]}"
    with admin.connect() as conn:
        conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    try:
        yield base.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()


def app_env(url: str) -> dict[str, str]:
    return {
        **os.environ,
        "DATABASE_URL": url,
        "FLASK_APP": "portal",
        "PORTAL_SECRET_KEY": "bench-secret-key",
        # Every locust user logs in from 127.0.0.1: lift the per-address login limit.
        "PORTAL_LOGIN_RATE_LIMIT": "100000 per minute",
    }


def make_app(url: str, **config: Any):
    os.environ.update(app_env(url))
    for key, value in config.items():
        os.environ[f"PORTAL_{key}"] = json.dumps(value)
    from portal import create_app

    try:
        return create_app()
    finally:
        for key in config:
            os.environ.pop(f"PORTAL_{key}", None)


# ---------------------------------------------------------------- gunicorn and locust


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def gunicorn(app_spec: str, env: dict[str, str]):
    port = free_port()
    process = subprocess.Popen(
        [*GUNICORN, f"127.0.0.1:{port}", app_spec],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(url + "/", timeout=5) as response:
                    if response.status == 200:
                        break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(
                        "gunicorn did not start: " + process.stderr.read().decode()[-2000:]
                    ) from None
                time.sleep(0.3)
        yield url
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def session_cookie(url: str, username: str = "organizer", password: str = "huanxian2026") -> str:
    """Log in once through the login form; the session cookie, as a Cookie header value."""
    import requests

    form = requests.get(url + "/login", timeout=30)
    token = re.search(r'name="csrf_token" value="([^"]+)"', form.text)
    answer = requests.post(
        url + "/login",
        data={"csrf_token": token.group(1), "username": username, "password": password},
        headers={"Cookie": form.headers["Set-Cookie"].split(";")[0]},
        allow_redirects=False,
        timeout=60,
    )
    if answer.status_code != 302:
        raise RuntimeError(f"login as {username} failed: {answer.status_code}")
    return answer.headers["Set-Cookie"].split(";")[0]


def locust(url: str, scenario: str, params: dict[str, str], users: int, seconds: int) -> dict:
    out = Path(tempfile.mkdtemp(prefix="locust-"))
    load_before = round(os.getloadavg()[0], 1)
    env = {**os.environ, **params, "BENCH_SCENARIO": scenario}
    # Warm every worker up (first connection, template compilation) before measuring.
    subprocess.run(
        [str(BIN / "locust"), "-f", str(ROOT / "bench" / "locustfile.py"), "--headless",
         "-u", str(WORKERS * 2), "-r", "100", "-t", "3s", "--host", url, "--only-summary",
         "--loglevel", "ERROR"],
        env=env, cwd=ROOT, capture_output=True, check=False,
    )  # fmt: skip
    subprocess.run(
        [str(BIN / "locust"), "-f", str(ROOT / "bench" / "locustfile.py"), "--headless",
         "-u", str(users), "-r", str(users), "-t", f"{seconds}s", "--host", url,
         "--csv", str(out / "run"), "--only-summary", "--loglevel", "ERROR"],
        env=env, cwd=ROOT, capture_output=True, check=False,
    )  # fmt: skip
    with open(out / "run_stats.csv", newline="") as f:
        rows = {row["Name"]: row for row in csv.DictReader(f)}
    shutil.rmtree(out, ignore_errors=True)
    row = rows.get(scenario)
    if row is None:
        return {"load_before": load_before, "requests": 0, "failures": 0, "rps": 0.0,
                "p50": None, "p95": None, "p99": None}  # fmt: skip
    return {
        "load_before": load_before,
        "load_after": round(os.getloadavg()[0], 1),
        "requests": int(row["Request Count"]),
        "failures": int(row["Failure Count"]),
        "rps": round(float(row["Requests/s"]), 1),
        "p50": float(row["50%"]),
        "p95": float(row["95%"]),
        "p99": float(row["99%"]),
    }


# ---------------------------------------------------------------- in-process timings


def percentiles(samples: list[float]) -> dict[str, float]:
    ordered = sorted(samples)

    def at(p: float) -> float:
        return round(ordered[min(len(ordered) - 1, int(p * len(ordered)))], 1)

    return {
        "n": len(ordered),
        "mean": round(statistics.fmean(ordered), 1),
        "p50": at(0.50),
        "p95": at(0.95),
        "p99": at(0.99),
        "per_second": round(1000 / statistics.fmean(ordered), 1),
    }


def count_queries():
    from sqlalchemy import event

    from portal.extensions import db

    seen = [0]

    def record(*_args):
        seen[0] += 1

    event.listen(db.engine, "before_cursor_execute", record)
    return seen, lambda: event.remove(db.engine, "before_cursor_execute", record)


def in_process(app, rng: random.Random) -> dict[str, Any]:
    """check_plan of the 5-day route, book() of the one-day route, decide() confirming."""
    from sqlalchemy import insert, select

    from portal.auth.models import User
    from portal.catalog.models import TeachingSite
    from portal.errors import ServiceError
    from portal.extensions import db
    from portal.members.models import Member
    from portal.scheduling.booking import book, decide
    from portal.scheduling.classes import class_window
    from portal.scheduling.fitting import (
        BookingRefused,
        check_plan,
        plan_from_template,
        suggest_dates,
    )
    from portal.scheduling.models import Reservation, RouteTemplate, TrainingClass
    from portal.timeutil import LOCAL_TZ

    today = datetime.now(LOCAL_TZ).date()
    results: dict[str, Any] = {}
    with app.app_context():
        five = db.session.scalar(
            select(RouteTemplate.id).where(RouteTemplate.name == "三点一线五日精品环线")
        )
        one = db.session.scalar(
            select(RouteTemplate.id).where(RouteTemplate.name == "杨善洲精神一日环线")
        )
        organizer = db.session.scalar(select(User.id).where(User.username == "organizer"))
        db.session.remove()

        # Checking the 5-day route at 100 dates of the coming year (where bookings exist),
        # each in a request context of its own as on the booking page (per-request caches).
        plan_times, check_times, plan_queries, check_queries, fits = [], [], [], [], 0
        for _ in range(100):
            start = today + timedelta(days=rng.randint(7, 360))
            with app.test_request_context():
                seen, stop = count_queries()
                began = time.perf_counter()
                template = db.session.get(RouteTemplate, five)
                plan = plan_from_template(template, start)
                built, planned = time.perf_counter(), seen[0]
                problems = check_plan(plan, 40)
                check_times.append((time.perf_counter() - built) * 1000)
                plan_times.append((built - began) * 1000)
                stop()
                plan_queries.append(planned)
                check_queries.append(seen[0] - planned)
                fits += not problems
                db.session.remove()
        results["plan_from_template"] = percentiles(plan_times) | {
            "queries": f"{min(plan_queries)}–{max(plan_queries)}"
        }
        results["check_plan"] = percentiles(check_times) | {
            "queries": f"{min(check_queries)}–{max(check_queries)}",
            "fits": fits,
        }

        # Booking the one-day route for 60 new classes on random days of the coming year.
        days = [today + timedelta(days=rng.randint(15, 360)) for _ in range(60)]
        class_ids = list(
            db.session.scalars(
                insert(TrainingClass).returning(TrainingClass.id, sort_by_parameter_order=True),
                [
                    {
                        "name": f"压测培训班{i}",
                        "kind": "main",
                        "origin": "province",
                        "sending_unit": "某州委组织部",
                        "size": 30,
                        "starts_on": day,
                        "ends_on": day,
                        "theme": "乡村振兴",
                        "contact_name": "压测",
                        "contact_phone": "13800000000",
                        "organizer_id": organizer,
                    }
                    for i, day in enumerate(days)
                ],
            )
        )
        db.session.commit()
        times, booked = [], 0
        for class_id, day in zip(class_ids, days, strict=True):
            context = app.test_request_context()
            context.push()
            actor = db.session.get(User, organizer)
            training_class = db.session.get(TrainingClass, class_id)
            template = db.session.get(RouteTemplate, one)
            began = time.perf_counter()
            try:
                plan = plan_from_template(template, day)
                book(training_class, plan, actor, template=template)
                booked += 1
            except BookingRefused:
                pass
            times.append((time.perf_counter() - began) * 1000)
            db.session.remove()
            context.pop()
        results["book"] = percentiles(times) | {"booked": booked, "refused": len(days) - booked}

        # Refused bookings as the booking page answers them: book() refuses the one-day route
        # on a Monday (杨善洲干部学院 is closed), then the page searches the class's days
        # around it for dates on which the whole route fits (suggest_dates).
        mondays = [today + timedelta(days=rng.randint(15, 360)) for _ in range(60)]
        mondays = [day - timedelta(days=day.weekday()) for day in mondays]
        refused_ids = list(
            db.session.scalars(
                insert(TrainingClass).returning(TrainingClass.id, sort_by_parameter_order=True),
                [
                    {
                        "name": f"压测改期班{i}",
                        "kind": "main",
                        "origin": "province",
                        "sending_unit": "某州委组织部",
                        "size": 30,
                        "starts_on": day - timedelta(days=3),
                        "ends_on": day + timedelta(days=3),
                        "theme": "乡村振兴",
                        "contact_name": "压测",
                        "contact_phone": "13800000000",
                        "organizer_id": organizer,
                    }
                    for i, day in enumerate(mondays)
                ],
            )
        )
        db.session.commit()
        times, queries, refused, suggested = [], [], 0, 0
        for class_id, day in zip(refused_ids, mondays, strict=True):
            context = app.test_request_context()
            context.push()
            actor = db.session.get(User, organizer)
            training_class = db.session.get(TrainingClass, class_id)
            template = db.session.get(RouteTemplate, one)
            seen, stop = count_queries()
            began = time.perf_counter()
            plan = plan_from_template(template, day)
            try:
                book(training_class, plan, actor, template=template)
            except BookingRefused:
                refused += 1
                dates = suggest_dates(plan, 30, within=class_window(training_class))
                suggested += bool(dates)
            times.append((time.perf_counter() - began) * 1000)
            stop()
            queries.append(seen[0])
            db.session.remove()
            context.pop()
        results["refused"] = percentiles(times) | {
            "refused": refused,
            "suggested": suggested,
            "queries": f"{min(queries)}–{max(queries)}",
        }

        # Members confirming 60 pending reservations of their sites.
        pending = db.session.execute(
            select(Reservation.id, Member.key)
            .join(TeachingSite, TeachingSite.id == Reservation.site_id)
            .join(Member, Member.id == TeachingSite.member_id)
            .where(
                Reservation.status == "pending",
                Reservation.starts_at > datetime.now(UTC) + timedelta(days=2),
                ~Member.plugin.like("scale_member_%"),
            )
            .order_by(Reservation.id)
            .limit(60)
        ).all()
        times, confirmed = [], 0
        for reservation_id, member_key in pending:
            context = app.test_request_context()
            context.push()
            actor = db.session.scalar(select(User).where(User.username == f"{member_key}_staff"))
            reservation = db.session.get(Reservation, reservation_id)
            began = time.perf_counter()
            try:
                decide(reservation, actor, confirm=True)
                confirmed += 1
            except ServiceError:
                pass
            times.append((time.perf_counter() - began) * 1000)
            db.session.remove()
            context.pop()
        if times:
            results["decide"] = percentiles(times) | {
                "confirmed": confirmed,
                "refused": len(times) - confirmed,
            }
    return results


# ---------------------------------------------------------------- the booking burst

BURST_SIZES = (10, 15, 20, 25, 30, 40)


def burst_plans(sites: list, first_day, attempts: int, rng: random.Random) -> dict[str, Any]:
    """``attempts`` booking attempts on one-hour windows of ``sites``, most of which can fit.

    Window by window (one a day per site, from ``first_day``), classes are drawn that all
    fit together: sizes adding up to the capacity exactly, or, where the site needs a
    guide, as many classes as it has guides, each of at most its share of the capacity.
    Every second window gets one class more, which cannot fit with all the others: there
    the locks must refuse one of them.
    """
    from portal.timeutil import LOCAL_TZ

    drawn: list[tuple[tuple[int, datetime, int], int, bool]] = []
    windows: list[tuple[int, datetime, int]] = []
    day = first_day
    while len(drawn) < attempts:
        for site in sites:
            if str(day.isoweekday()) not in site.open_weekdays or day.isoweekday() == 1:
                continue
            starts = datetime.combine(day, site.opens, tzinfo=LOCAL_TZ) + timedelta(hours=1)
            window = (site.id, starts, min(60, site.session_minutes))
            windows.append(window)
            if site.needs_guide:
                share = site.capacity // site.guide_count
                sizes = [min(share, rng.choice(BURST_SIZES)) for _ in range(site.guide_count)]
            else:
                left, sizes = site.capacity, []
                while left > 0:
                    sizes.append(min(left, rng.choice(BURST_SIZES)))
                    left -= sizes[-1]
            drawn += [(window, size, True) for size in sizes]
            if len(windows) % 2 == 0:
                drawn.append((window, rng.choice(BURST_SIZES), False))
        day += timedelta(days=1)
    drawn = drawn[:attempts]
    used = {window for window, _size, _fits in drawn}
    windows = [w for w in windows if w in used]
    capacity = {site.id: site.capacity for site in sites}
    rng.shuffle(drawn)
    return {
        "plans": [(window, size) for window, size, _fits in drawn],
        "windows": windows,
        "fitting": sum(fits for _w, _s, fits in drawn),
        "seats_offered": sum(capacity[w[0]] for w in windows),
        "seats_asked": sum(size for _w, size, _fits in drawn),
    }


def _burst_worker(
    url: str,
    jobs: list[tuple[int, tuple[int, datetime, int]]],
    organizer: int,
    threads: int,
    gate,
    results,
) -> None:
    """One "gunicorn worker": its own app, engine and pool; ``threads`` attempts at a time."""
    import queue

    from portal.auth.models import User
    from portal.catalog.models import TeachingSite
    from portal.extensions import db
    from portal.scheduling.booking import book
    from portal.scheduling.fitting import BookingRefused, PlannedStop
    from portal.scheduling.models import TrainingClass

    app = make_app(
        url,
        SQLALCHEMY_ENGINE_OPTIONS={"pool_size": threads, "max_overflow": 0, "pool_timeout": 600},
    )
    todo: queue.SimpleQueue = queue.SimpleQueue()
    for job in jobs:
        todo.put(job)
    outcomes: list[str] = []
    ends: list[float] = []
    warm, go = threading.Barrier(threads + 1), threading.Event()

    def serve() -> None:
        # Like a worker that has served requests: each thread's pooled connection is open.
        with app.app_context():
            db.session.get(User, organizer)
            warm.wait()
            db.session.remove()
        go.wait()
        while True:
            try:
                class_id, window = todo.get_nowait()
            except queue.Empty:
                return
            with app.test_request_context():
                try:
                    actor = db.session.get(User, organizer)
                    training_class = db.session.get(TrainingClass, class_id)
                    site = db.session.get(TeachingSite, window[0])
                    plan = [
                        PlannedStop(
                            index=0, kind="visit", starts_at=window[1], minutes=window[2], site=site
                        )
                    ]
                    book(training_class, plan, actor)
                    outcomes.append("booked")
                except BookingRefused:
                    outcomes.append("refused")
                except Exception as error:  # noqa: BLE001  (reported, not hidden)
                    outcomes.append(f"error: {type(error).__name__}: {error}"[:200])
                finally:
                    db.session.remove()
                    ends.append(time.monotonic())

    pool = [threading.Thread(target=serve) for _ in range(threads)]
    for thread in pool:
        thread.start()
    warm.wait()
    gate.wait()
    go.set()
    for thread in pool:
        thread.join()
    with app.app_context():
        db.engine.dispose()
    results.put((outcomes, max(ends, default=time.monotonic())))


def burst(
    url: str, attempts: int, rng: random.Random, workers: int = WORKERS, threads: int = 1
) -> dict[str, Any]:
    """``attempts`` bookings at once through book(), from ``workers`` processes × ``threads``.

    As under gunicorn: each process has its own app, engine and pool of ``threads``
    connections and works through its share of the attempts ``threads`` at a time (1: the
    sync workers of docs/deployment.md; more: gthread workers); every process starts at the
    same moment (a barrier). The attempts are drawn by burst_plans() on 10 sites that confirm
    at once; bookings of one site queue on its row lock.
    """
    import multiprocessing

    from sqlalchemy import func, insert, select, update

    from portal.auth.models import User
    from portal.catalog.models import TeachingSite
    from portal.extensions import db
    from portal.members.models import Member
    from portal.scale import integrity_problems
    from portal.scheduling.models import Reservation, TrainingClass
    from portal.timeutil import LOCAL_TZ

    app = make_app(url)
    # Every commit also moves the page cache's generation of its data: a Redis counter
    # (PORTAL_CACHE_REDIS_URL, as docs/deployment.md sets it) or a row of the database.
    from portal import pagecache

    store = app.extensions.get(pagecache.EXTENSION)
    generations = "Redis" if isinstance(store, pagecache.RedisGenerations) else "database"
    if not app.config.get("PAGE_CACHE"):
        generations = "none (PAGE_CACHE off)"
    with app.app_context():
        organizer = db.session.scalar(select(User.id).where(User.username == "organizer"))
        sites = list(
            db.session.scalars(
                select(TeachingSite)
                .join(Member)
                .where(~Member.plugin.like("scale_member_%"), TeachingSite.status == "active")
                .order_by(TeachingSite.id)
                .limit(10)
            )
        )
        site_ids = [s.id for s in sites]
        # Sites that confirm at once: every successful booking is confirmed reservations.
        db.session.execute(
            update(TeachingSite).where(TeachingSite.id.in_(site_ids)).values(auto_confirm=True)
        )
        # A month past the generated five years: empty windows, so the result is exact.
        last = db.session.scalar(select(func.max(Reservation.starts_at))) or datetime.now(UTC)
        first_day = last.astimezone(LOCAL_TZ).date() + timedelta(days=30)
        drawn = burst_plans(sites, first_day, attempts, rng)
        plans, windows = drawn["plans"], drawn["windows"]
        class_ids = list(
            db.session.scalars(
                insert(TrainingClass).returning(TrainingClass.id, sort_by_parameter_order=True),
                [
                    {
                        "name": f"并发压测班{i}",
                        "kind": "main",
                        "origin": "province",
                        "sending_unit": "某州委组织部",
                        "size": size,
                        "starts_on": window[1].date(),
                        "ends_on": window[1].date(),
                        "theme": "乡村振兴",
                        "contact_name": "压测",
                        "contact_phone": "13800000000",
                        "organizer_id": organizer,
                    }
                    for i, (window, size) in enumerate(plans)
                ],
            )
        )
        db.session.commit()
        db.session.remove()
        db.engine.dispose()

    jobs = [(class_id, window) for class_id, (window, _size) in zip(class_ids, plans, strict=True)]
    context = multiprocessing.get_context("spawn")
    gate = context.Barrier(workers + 1)
    results = context.Queue()
    processes = [
        context.Process(
            target=_burst_worker,
            args=(url, jobs[i::workers], organizer, threads, gate, results),
            daemon=True,
        )
        for i in range(workers)
    ]
    for process in processes:
        process.start()
    gate.wait(timeout=300)
    began = time.monotonic()
    outcomes: list[str] = []
    ended = began
    for _ in processes:
        found, last_end = results.get(timeout=1800)
        outcomes += found
        ended = max(ended, last_end)
    for process in processes:
        process.join(timeout=60)
    seconds = ended - began

    with app.app_context():
        confirmed = db.session.scalar(
            select(func.count())
            .select_from(Reservation)
            .where(Reservation.site_id.in_(site_ids), Reservation.status == "confirmed",
                   Reservation.starts_at >= datetime.combine(first_day, datetime.min.time(), tzinfo=LOCAL_TZ))
        )  # fmt: skip
        worst = 0.0
        for site_id, starts, _minutes in windows:
            seats = db.session.scalar(
                select(func.coalesce(func.sum(Reservation.group_size), 0)).where(
                    Reservation.site_id == site_id,
                    Reservation.starts_at == starts,
                    Reservation.status.in_(("pending", "confirmed", "offered")),
                )
            )
            capacity = db.session.get(TeachingSite, site_id).capacity
            worst = max(worst, seats / capacity)
        problems = integrity_problems(site_ids)
        db.session.remove()
        db.engine.dispose()
    errors = [o for o in outcomes if o.startswith("error")]
    return {
        "attempts": attempts,
        "workers": workers,
        "threads": threads,
        "windows": len(windows),
        "page_cache_generations": generations,
        "fitting": drawn["fitting"],
        "seats_offered": drawn["seats_offered"],
        "seats_asked": drawn["seats_asked"],
        "seconds": round(seconds, 2),
        "booked": outcomes.count("booked"),
        "refused": outcomes.count("refused"),
        "errors": len(errors),
        "first_errors": errors[:3],
        "confirmed_reservations": confirmed,
        "confirmed_per_second": round(confirmed / seconds, 1),
        "attempts_per_second": round(attempts / seconds, 1),
        "fullest_window": round(worst, 3),
        "overbooked": problems,
    }


# ---------------------------------------------------------------- one database


def busy_sites_and_days() -> tuple[list[int], date, date]:
    """The 50 sites with the most reservations, and the reservations' first and last day
    (in an app context): what the calendar and availability scenarios ask for."""
    from sqlalchemy import func, select

    from portal.extensions import db
    from portal.scheduling.models import Reservation
    from portal.timeutil import LOCAL_TZ

    busy = db.session.execute(
        select(Reservation.site_id)
        .group_by(Reservation.site_id)
        .order_by(func.count().desc())
        .limit(50)
    ).scalars()
    first, last = db.session.execute(
        select(func.min(Reservation.starts_at), func.max(Reservation.starts_at))
    ).one()
    return list(busy), first.astimezone(LOCAL_TZ).date(), last.astimezone(LOCAL_TZ).date()


def targets(app) -> dict[str, str]:
    """What the locust users ask for: busy sites, the data's date range, printable classes."""
    from sqlalchemy import select

    from portal.auth.models import User
    from portal.extensions import db
    from portal.scheduling.models import Booking, TrainingClass

    with app.app_context():
        busy, first, last = busy_sites_and_days()
        organizer = db.session.scalar(select(User.id).where(User.username == "organizer"))
        classes = db.session.scalars(
            select(TrainingClass.id)
            .join(Booking)
            .where(TrainingClass.organizer_id == organizer, Booking.status != "cancelled")
            .limit(50)
        )
        found = {
            "BENCH_SITES": ",".join(str(s) for s in busy),
            "BENCH_FIRST_DAY": first.isoformat(),
            "BENCH_LAST_DAY": last.isoformat(),
            "BENCH_CLASSES": ",".join(str(c) for c in classes),
        }
        db.session.remove()
        db.engine.dispose()
    return found


def table_sizes(app) -> dict[str, int]:
    from sqlalchemy import func, select

    from portal.extensions import db
    from portal.models import Booking, Member, Reservation, Teacher, TeachingSite, TrainingClass

    with app.app_context():
        sizes = {
            m.__tablename__: db.session.scalar(select(func.count()).select_from(m))
            for m in (Member, TeachingSite, Teacher, TrainingClass, Booking, Reservation)
        }
        db.session.remove()
    return sizes


def one_database(kind: str, args, workdir: Path) -> dict[str, Any]:
    rng = random.Random(7)
    result: dict[str, Any] = {"database": kind}
    with database(kind, args.pg_url, workdir) as url:
        env = app_env(url)
        began = time.perf_counter()
        subprocess.run([str(BIN / "flask"), "db", "upgrade"], cwd=ROOT, env=env, check=True,
                       capture_output=True)  # fmt: skip
        result["migrate_seconds"] = round(time.perf_counter() - began, 1)
        app = make_app(url)
        log(f"{kind}: generating scale {args.scale}")
        began = time.perf_counter()
        from portal import scale

        with app.app_context():
            scale.generate(args.scale)
            result["generate_seconds"] = round(time.perf_counter() - began, 1)
            result["integrity"] = scale.integrity_problems()
            from portal.extensions import db

            db.session.remove()
            db.engine.dispose()
        result["rows"] = table_sizes(app)
        params = targets(app)
        log(
            f"{kind}: {result['rows']} in {result['generate_seconds']} s; integrity {result['integrity']}"
        )
        result["http"] = {}
        with gunicorn("portal:create_app()", env) as base:
            params["BENCH_COOKIE"] = session_cookie(base)
            for scenario in SCENARIOS:
                log(f"{kind}: locust {scenario} for {args.duration} s")
                result["http"][scenario] = locust(base, scenario, params, args.users, args.duration)
                log(f"{kind}: {scenario} {result['http'][scenario]}")
        log(f"{kind}: in-process timings")
        result["in_process"] = in_process(app, rng)
        log(f"{kind}: {result['in_process']}")
        if kind == "postgresql" and args.burst:
            log(f"{kind}: booking burst of {args.burst}")
            result["burst"] = burst(
                url, args.burst, rng, workers=args.burst_workers, threads=args.burst_threads
            )
            log(f"{kind}: {result['burst']}")
        with app.app_context():
            from portal.extensions import db

            db.engine.dispose()
    return result


# ---------------------------------------------------------------- report


def markdown(report: dict[str, Any]) -> str:
    m = report["machine"]
    hello = report["hello"]
    lines = [
        f"Measured {m['date']} on {m['nproc']} cores ({m['cpu']}), {m['memory_gib']} GiB, "
        f"commit `{m['commit'][:12]}`, Python {m['python']}, "
        + ", ".join(f"{k} {v}" for k, v in m["versions"].items())
        + f". Scale {report['scale']}; gunicorn {WORKERS} sync workers; locust {report['users']} "
        f"users without think time, {report['duration']} s per line, on the same machine.",
        "",
        "| scenario | database | requests/s | p50 ms | p95 ms | p99 ms | failures | vs hello | load before→after |",
        "|---|---|---:|---:|---:|---:|---:|---:|---|",
        f"| bare Flask hello (ceiling) | — | {hello['rps']} | {hello['p50']:.0f} | "
        f"{hello['p95']:.0f} | {hello['p99']:.0f} | {hello['failures']} | 100 % | "
        f"{hello.get('load_before')}→{hello.get('load_after')} |",
    ]
    runs = report.get("hello_runs", [])
    if len(runs) > 1:
        lines.insert(
            2,
            "The hello ceiling ran before and after the portal's lines: "
            + " and ".join(f"{r['rps']} requests/s" for r in runs)
            + "; the table shows the better one.\n",
        )
    names = {
        "search": "site search `/sites?q=…`",
        "calendar": "site month calendar `/calendar/site/<id>`",
        "availability": "availability API (31 days)",
        "pdf": "class itinerary PDF",
    }
    for scenario in SCENARIOS:
        for db in report["databases"]:
            r = db["http"][scenario]
            ratio = f"{100 * r['rps'] / hello['rps']:.1f} %" if hello["rps"] else "—"
            p = [f"{r[k]:.0f}" if r[k] is not None else "—" for k in ("p50", "p95", "p99")]
            lines.append(
                f"| {names[scenario]} | {db['database']} | {r['rps']} | {' | '.join(p)} | "
                f"{r['failures']} | {ratio} | {r.get('load_before')}→{r.get('load_after')} |"
            )
    lines += [
        "",
        "In-process, through the service layer (each call in a fresh session):",
        "",
        "| operation | database | calls | mean ms | p50 ms | p95 ms | p99 ms | per second (1 thread) | outcome |",
        "|---|---|---:|---:|---:|---:|---:|---:|---|",
    ]
    labels = {
        "plan_from_template": ("build the 5-day plan (plan_from_template)", lambda r: f"{r['queries']} queries"),
        "check_plan": ("check the 5-day plan (check_plan, 11 stops)", lambda r: f"{r['fits']} fit; {r['queries']} queries"),
        "book": ("book the one-day route", lambda r: f"{r['booked']} booked, {r['refused']} refused"),
        "refused": ("a refused booking and its date suggestions", lambda r: f"{r['refused']} refused, {r['suggested']} with dates; {r['queries']} queries"),
        "decide": ("member confirms a reservation", lambda r: f"{r['confirmed']} confirmed, {r['refused']} refused"),
    }  # fmt: skip
    for key, (label, outcome) in labels.items():
        for db in report["databases"]:
            r = db["in_process"].get(key)
            if r:
                lines.append(
                    f"| {label} | {db['database']} | {r['n']} | {r['mean']} | {r['p50']} | "
                    f"{r['p95']} | {r['p99']} | {r['per_second']} | {outcome(r)} |"
                )
    lines += ["", "Data and setup:", ""]
    for db in report["databases"]:
        rows = ", ".join(f"{k} {v:,}" for k, v in db["rows"].items())
        lines.append(
            f"- {db['database']}: `flask db upgrade` {db['migrate_seconds']} s, scale "
            f"{report['scale']} generated in {db['generate_seconds']} s ({rows}); "
            f"overbooking check of the generated data: {db['integrity']}."
        )
    for db in report["databases"]:
        b = db.get("burst")
        if b:
            lines += [
                "",
                f"Booking burst ({db['database']}): {b['attempts']} attempts at once through "
                f"book(), from {b['workers']} processes × {b['threads']} thread(s), on "
                f"{b['windows']} windows of 10 auto-confirming sites ({b['fitting']} of the "
                f"attempts can fit; {b['seats_asked']:,} seats asked of {b['seats_offered']:,}): "
                f"{b['booked']} booked, {b['refused']} refused (full), {b['errors']} errors in "
                f"{b['seconds']} s (page cache generations: {b['page_cache_generations']}) "
                f"= **{b['confirmed_per_second']} confirmed reservations/s** "
                f"({b['attempts_per_second']} attempts/s); fullest window "
                f"{b['fullest_window'] * 100:.0f} % of capacity; overbooking check {b['overbooked']}.",
            ]
    return "\n".join(lines) + "\n"


def write_docs(text: str) -> None:
    doc = DOC.read_text()
    start, end = doc.index(DOC_START) + len(DOC_START), doc.index(DOC_END)
    DOC.write_text(doc[:start] + "\n" + text + doc[end:])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scale", type=int, default=20)
    parser.add_argument("--duration", type=int, default=20, help="seconds per locust run")
    parser.add_argument("--users", type=int, default=50)
    parser.add_argument("--databases", default="sqlite,postgresql")
    parser.add_argument(
        "--pg-url",
        default=os.environ.get("PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"),
    )
    parser.add_argument("--burst", type=int, default=1000, help="booking attempts (PostgreSQL)")
    parser.add_argument(
        "--burst-workers", type=int, default=WORKERS, help="processes making the attempts"
    )
    parser.add_argument(
        "--burst-threads", type=int, default=1, help="attempts at a time in each process"
    )
    parser.add_argument("--write-docs", action="store_true", help="update docs/benchmarks.md")
    args = parser.parse_args()

    report: dict[str, Any] = {
        "machine": machine(),
        "scale": args.scale,
        "users": args.users,
        "duration": args.duration,
        "databases": [],
    }
    log(f"hello ceiling for {args.duration} s")
    with gunicorn("bench.hello:app", dict(os.environ)) as base:
        report["hello"] = locust(base, "hello", {}, args.users, args.duration)
    log(f"hello: {report['hello']}")
    with tempfile.TemporaryDirectory(prefix="portal-bench-") as workdir:
        for kind in [k.strip() for k in args.databases.split(",") if k.strip()]:
            report["databases"].append(one_database(kind, args, Path(workdir)))
    # Again at the end: the machine's load may have changed; the better run is the ceiling.
    log(f"hello ceiling again for {args.duration} s")
    with gunicorn("bench.hello:app", dict(os.environ)) as base:
        again = locust(base, "hello", {}, args.users, args.duration)
    log(f"hello: {again}")
    report["hello_runs"] = [report["hello"], again]
    report["hello"] = max(report["hello_runs"], key=lambda run: run["rps"])
    RESULTS.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M")
    path = RESULTS / f"{stamp}-scale{args.scale}.json"
    path.write_text(json.dumps(report, ensure_ascii=False, indent=2, default=str))
    text = markdown(report)
    (RESULTS / "latest.md").write_text(text)
    print(text)
    log(f"results in {path.relative_to(ROOT)}")
    if args.write_docs:
        write_docs(text)
        log("docs/benchmarks.md updated")


if __name__ == "__main__":
    main()
