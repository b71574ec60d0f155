"""`make bench-trainees` and `make bench-cluster`: the trainee side under load (issue 20).

On a fresh PostgreSQL database with the scale-N consortium (portal/scale.py), a generator
(``trainee_side``) adds what the trainee side needs: an open run (开放班次) of ``--seats``
seats with unit quotas, ``--trainees`` trainee accounts of five units, ``--classes`` classes
of ``--class-size`` trainees each with a sign-in session open now, their organizers and
the member staff of the demo's 杨善洲干部学院. Every account gets its own login (a
``UserSession`` row, a signed session cookie and its CSRF token), made in-process as the
login form would make it: the bench measures the rush, not password hashing.

Then gunicorn (2 × cores + 1 sync workers) — or, with ``--cluster``, two gunicorn servers
on two ports behind nginx, sharing PostgreSQL and Redis (sessions in signed cookies, rate
limits and the page cache in Redis), each also running the timers — driven by locust
(bench/trainees_locust.py):

1. open-run rush: every trainee books a seat of the run once, all released at once;
   checked: no seat over the run's seats or a unit's quota, every request answered;
2. sign-in burst: the classes' trainees sign in to their sessions, arriving over
   ``--signin-seconds``; checked: each sign-in recorded once;
3. morning rush (single server): ``--users`` users with no think time on the trainee's
   ``/me``, the organizer's roster and attendance pages of their class, the member's inbox.

A bare Flask "hello" under the same gunicorn command, before and after, gives the ceiling.
With ``--cluster``: each timer job done once (the run closed once, every e-mail sent once),
and a booking made through one server seen through the other.

    .venv/bin/python bench/trainees.py --scale 20 --write-docs
    .venv/bin/python bench/trainees.py --scale 2 --cluster --trainees 100 --seats 20
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from contextlib import ExitStack, contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.run import (  # noqa: E402
    BIN,
    GUNICORN,
    RESULTS,
    WORKERS,
    app_env,
    database,
    free_port,
    gunicorn,
    log,
    machine,
    make_app,
)

DOC = ROOT / "docs" / "benchmarks.md"
UNITS = ("某县委组织部", "某县发展改革局", "某县财政局", "某县教育局", "某县卫生健康局")
QUOTA_UNITS = 4  # the first four units have a quota each; the fifth books from the rest
MORNING = ("me", "class_page", "attendance_page", "inbox")


# ---------------------------------------------------------------- the data


def trainee_side(app, args) -> dict[str, Any]:
    """Add the trainee side's data (bulk), then a login of every account. Returns targets."""
    from flask import session
    from flask_wtf.csrf import generate_csrf
    from sqlalchemy import insert, select

    from portal.attendance.models import AttendanceSession
    from portal.auth.models import User, UserSession
    from portal.auth.sessions import digest
    from portal.extensions import db
    from portal.members.models import Member
    from portal.scheduling.models import TrainingClass
    from portal.timeutil import LOCAL_TZ, utcnow
    from portal.trainees.models import OpenRun, OpenRunQuota, RosterEntry

    def ids(model, rows):
        return list(
            db.session.scalars(
                insert(model).returning(model.id, sort_by_parameter_order=True), rows
            )
        )

    with app.app_context():
        today = datetime.now(LOCAL_TZ).date()
        now = utcnow()
        office = db.session.scalar(select(User).where(User.username == "office"))
        member = db.session.scalar(select(Member).where(Member.key == "yangshanzhou_college"))
        trainees = ids(
            User,
            [
                {
                    "username": f"bench_trainee_{i:05}",
                    "display_name": f"压测学员{i}",
                    "role": "trainee",
                    "unit_name": UNITS[i % len(UNITS)],
                    "phone": f"137{i:08}",
                    # An address, so every booking also queues an e-mail (the outbox timer's work).
                    "email": f"bench_trainee_{i:05}@example.org" if args.cluster else None,
                    "password_hash": "!",
                }
                for i in range(args.trainees)
            ],
        )
        organizers = ids(
            User,
            [
                {
                    "username": f"bench_organizer_{i:03}",
                    "display_name": f"压测联系人{i}",
                    "role": "organizer",
                    "unit_name": UNITS[i % len(UNITS)],
                    "password_hash": "!",
                }
                for i in range(args.classes)
            ],
        )
        staff = ids(
            User,
            [
                {
                    "username": f"bench_staff_{i:03}",
                    "display_name": f"压测工作人员{i}",
                    "role": "member_staff",
                    "member_id": member.id,
                    "password_hash": "!",
                }
                for i in range(args.users)
            ],
        )

        def klass(name, organizer, starts, days, size):
            return {
                "name": name,
                "kind": "commissioned",
                "origin": "province",
                "sending_unit": UNITS[0],
                "size": size,
                "starts_on": starts,
                "ends_on": starts + timedelta(days=days - 1),
                "theme": "党性教育",
                "contact_name": "联系人",
                "contact_phone": "13800000000",
                "organizer_id": organizer,
            }

        # The run: its own class of the office's, seats and quotas.
        run_day = today + timedelta(days=40)
        (run_class,) = ids(
            TrainingClass, [klass("压测开放班次", office.id, run_day, 1, args.seats)]
        )
        (run_id,) = ids(
            OpenRun,
            [
                {
                    "class_id": run_class,
                    "title": "压测开放班次 · 抢位",
                    "publisher_id": office.id,
                    "starts_on": run_day,
                    "ends_on": run_day,
                    "seats": args.seats,
                    "min_participants": 1,
                    "booking_deadline": today + timedelta(days=30),
                    "cancel_deadline": today + timedelta(days=30),
                    "open_to": "all",
                    "status": "open",
                }
            ],
        )
        quota = max(1, args.seats // 5)
        db.session.execute(
            insert(OpenRunQuota),
            [{"run_id": run_id, "unit_name": u, "seats": quota} for u in UNITS[:QUOTA_UNITS]],
        )
        # With --cluster, a run whose booking deadline has passed: the timers close it once.
        due_run = None
        if args.cluster:
            (due_class,) = ids(TrainingClass, [klass("压测到期班次", office.id, run_day, 1, 10)])
            (due_run,) = ids(
                OpenRun,
                [
                    {
                        "class_id": due_class,
                        "title": "压测到期班次",
                        "publisher_id": office.id,
                        "starts_on": run_day,
                        "ends_on": run_day,
                        "seats": 10,
                        "min_participants": 1,
                        "booking_deadline": today - timedelta(days=1),
                        "cancel_deadline": today - timedelta(days=1),
                        "open_to": "all",
                        "status": "open",
                    }
                ],
            )
        # With --cluster, a small run and a trainee of its own for the check that a booking
        # made through one server is seen through the other.
        cross_run = cross_user = None
        if args.cluster:
            (cross_class,) = ids(TrainingClass, [klass("压测跨服务器", office.id, run_day, 1, 5)])
            (cross_run,) = ids(
                OpenRun,
                [
                    {
                        "class_id": cross_class,
                        "title": "压测跨服务器",
                        "publisher_id": office.id,
                        "starts_on": run_day,
                        "ends_on": run_day,
                        "seats": 5,
                        "min_participants": 1,
                        "booking_deadline": today + timedelta(days=30),
                        "cancel_deadline": today + timedelta(days=30),
                        "open_to": "all",
                        "status": "open",
                    }
                ],
            )
            (cross_user,) = ids(
                User,
                [
                    {
                        "username": "bench_cross",
                        "display_name": "跨服务器学员",
                        "role": "trainee",
                        "unit_name": UNITS[-1],
                        "phone": "13599999999",
                        "password_hash": "!",
                    }
                ],
            )
        # The classes, each with its roster and a session whose sign-in is open now.
        classes = ids(
            TrainingClass,
            [
                klass(f"压测培训班{c}", organizers[c], today, 3, args.class_size)
                for c in range(args.classes)
            ],
        )
        on_roster = []
        for c, class_id in enumerate(classes):
            members_of = trainees[c * args.class_size : (c + 1) * args.class_size]
            ids(
                RosterEntry,
                [
                    {
                        "class_id": class_id,
                        "user_id": u,
                        "name": f"压测学员{u}",
                        "gender": "男",
                        "unit": UNITS[0],
                        "phone": f"136{u:08}",
                    }
                    for u in members_of
                ],
            )
            on_roster.append(members_of)
        sessions = ids(
            AttendanceSession,
            [
                {
                    "class_id": class_id,
                    "day": today,
                    "half": "am",
                    "opens_at": now - timedelta(minutes=5),
                    "starts_at": now + timedelta(minutes=10),
                    "ends_at": now + timedelta(hours=4),
                    "title": "压测签到",
                }
                for class_id in classes
            ],
        )
        db.session.commit()

        log(f"logging {args.trainees + args.classes + args.users} accounts in")
        serializer = app.session_interface.get_signing_serializer(app)
        cookie_name = app.config["SESSION_COOKIE_NAME"]
        logins: list[dict[str, Any]] = []

        def login(user_id: int, path: str, **extra) -> dict[str, Any]:
            """What login_user() leaves (portal/auth/sessions.py): a login row named in the
            session; the rows are written together below (one commit, not one per login)."""
            token = secrets.token_urlsafe(32)
            logins.append({"user_id": user_id, "token_hash": digest(token), "created_at": now})
            # An app context of its own: Flask-WTF keeps the request's token in ``g``.
            with app.app_context(), app.test_request_context("/"):
                session["_user_id"] = f"{user_id}:1:{token}"
                session["_fresh"] = True
                csrf = generate_csrf()
                cookie = serializer.dumps(dict(session))
            return {"cookie": f"{cookie_name}={cookie}", "csrf": csrf, "path": path, **extra}

        rush = [login(u, f"/runs/{run_id}/book") for u in trainees]
        cookie_of = {u: r for u, r in zip(trainees, rush, strict=True)}
        signin = [
            {**cookie_of[u], "session_id": sessions[c]}
            for c, members_of in enumerate(on_roster)
            for u in members_of
        ]
        morning = {
            "me": [{**cookie_of[u], "path": "/me"} for u in trainees[: args.users]],
            "class_page": [
                login(
                    organizers[k % args.classes], f"/classes/{classes[k % args.classes]}/trainees"
                )
                for k in range(args.users)
            ],
            "attendance_page": [
                login(
                    organizers[k % args.classes],
                    f"/attendance/classes/{classes[k % args.classes]}",
                )
                for k in range(args.users)
            ],
            "inbox": [login(s, "/inbox") for s in staff],
        }
        cross = login(cross_user, f"/runs/{cross_run}/book") if cross_user else None
        db.session.execute(insert(UserSession), logins)
        db.session.commit()
        db.session.remove()
        db.engine.dispose()
    return {
        "cross": cross,
        "cross_run": cross_run,
        "run_id": run_id,
        "due_run": due_run,
        "sessions": sessions,
        "quota": quota,
        "rush": rush,
        "signin": signin,
        "morning": morning,
    }


# ---------------------------------------------------------------- locust


def _num(value: str) -> float:
    return float(value) if value not in ("", "N/A") else 0.0


def summary(samples: list, times: dict) -> dict[str, Any]:
    """A row like locust's from the samples [[ms, failed], …] of a one-shot run."""
    ms = sorted(t for t, _failed in samples)

    def at(p: float) -> float:
        return ms[min(len(ms) - 1, int(p * len(ms)))] if ms else 0.0

    span = (times.get("last") or 0) - (times.get("first") or 0)
    return {
        "requests": len(ms),
        "failures": sum(1 for _t, failed in samples if failed),
        "rps": round(len(ms) / span, 1) if span > 0 else 0.0,
        "p50": at(0.50),
        "p95": at(0.95),
        "p99": at(0.99),
        "max": ms[-1] if ms else 0.0,
    }


def run_locust(
    url: str,
    scenario: str,
    identities: list | None,
    users: int,
    seconds: int,
    spawn: float,
    spread: float = 0,
) -> dict[str, Any]:
    """One locust run of bench/trainees_locust.py; its rows by name, and the times."""
    import csv

    out = Path(tempfile.mkdtemp(prefix="locust-trainees-"))
    env = {
        **os.environ,
        "BENCH_SCENARIO": scenario,
        "BENCH_SECRET": "bench-secret-key",
        "BENCH_SPAWN_SECONDS": str(spread),
    }
    if identities is not None:
        (out / "identities.json").write_text(json.dumps({"users": identities}))
        env["BENCH_IDENTITIES"] = str(out / "identities.json")
    env["BENCH_TIMES"] = str(out / "times.json")
    load_before = round(os.getloadavg()[0], 2)
    command = [
        str(BIN / "locust"), "-f", str(ROOT / "bench" / "trainees_locust.py"), "--headless",
        "-u", str(users), "-r", str(spawn), "-t", f"{seconds}s", "--host", url,
        "--csv", str(out / "run"), "--only-summary", "--loglevel", os.environ.get("BENCH_LOGLEVEL", "ERROR"),
    ]  # fmt: skip
    began = time.time()
    done = subprocess.run(command, env=env, cwd=ROOT, capture_output=True, text=True, check=False)
    if os.environ.get("BENCH_DEBUG"):
        print(done.stdout[-3000:], done.stderr[-3000:])
    wall = time.time() - began
    rows = {}
    with open(out / "run_stats.csv", newline="") as f:
        for row in csv.DictReader(f):
            rows[row["Name"]] = {
                "requests": int(row["Request Count"]),
                "failures": int(row["Failure Count"]),
                "rps": round(float(row["Requests/s"]), 1),
                "p50": _num(row["50%"]),
                "p95": _num(row["95%"]),
                "p99": _num(row["99%"]),
                "max": _num(row["Max Response Time"]),
            }
    times = json.loads((out / "times.json").read_text()) if (out / "times.json").exists() else {}
    for name, samples in (times.pop("samples", None) or {}).items():
        rows[name] = summary(samples, times)
    shutil.rmtree(out, ignore_errors=True)
    return {
        "rows": rows,
        "times": times,
        "wall": round(wall, 1),
        "load_before": load_before,
        "load_after": round(os.getloadavg()[0], 2),
    }


def warm(url: str, identities: list, seconds: int = 3) -> None:
    """Every worker's first connection and templates before measuring (not counted)."""
    run_locust(url, "me", identities, WORKERS * 2, seconds, 100)


# ---------------------------------------------------------------- checks


def rush_check(app, target: dict[str, Any]) -> dict[str, Any]:
    from sqlalchemy import func, select

    from portal.extensions import db
    from portal.trainees.models import OpenRunQuota, OpenRunSeat

    with app.app_context():
        held = db.session.scalar(
            select(func.count()).where(
                OpenRunSeat.run_id == target["run_id"], OpenRunSeat.status == "booked"
            )
        )
        per_quota = dict(
            db.session.execute(
                select(OpenRunQuota.unit_name, func.count(OpenRunSeat.id))
                .join(OpenRunSeat, OpenRunSeat.quota_id == OpenRunQuota.id, isouter=True)
                .where(OpenRunQuota.run_id == target["run_id"])
                .group_by(OpenRunQuota.unit_name)
            ).all()
        )
        first, last = db.session.execute(
            select(func.min(OpenRunSeat.created_at), func.max(OpenRunSeat.created_at)).where(
                OpenRunSeat.run_id == target["run_id"]
            )
        ).one()
        db.session.remove()
    return {
        "booked": held,
        "oversold": max(0, held - app.config.get("BENCH_SEATS", held)),
        "per_quota": per_quota,
        "quota": target["quota"],
        "quota_exceeded": sum(max(0, n - target["quota"]) for n in per_quota.values()),
        "booking_spread_s": round((last - first).total_seconds(), 2) if first else None,
    }


def signin_check(app, target: dict[str, Any]) -> dict[str, Any]:
    from sqlalchemy import func, select

    from portal.attendance.models import AttendanceMark
    from portal.extensions import db

    with app.app_context():
        marks = db.session.scalar(
            select(func.count()).where(AttendanceMark.session_id.in_(target["sessions"]))
        )
        doubles = db.session.scalar(
            select(func.count()).select_from(
                select(AttendanceMark.session_id, AttendanceMark.entry_id)
                .where(AttendanceMark.session_id.in_(target["sessions"]))
                .group_by(AttendanceMark.session_id, AttendanceMark.entry_id)
                .having(func.count() > 1)
                .subquery()
            )
        )
        db.session.remove()
    return {"marks": marks, "expected": len(target["signin"]), "doubles": doubles}


def timers_check(app, target: dict[str, Any]) -> dict[str, Any]:
    from sqlalchemy import func, select

    from portal.audit.models import AuditEntry
    from portal.extensions import db
    from portal.notifications.models import OutboxEmail
    from portal.trainees.models import OpenRun

    with app.app_context():
        run = db.session.get(OpenRun, target["due_run"])
        closes = db.session.scalar(
            select(func.count()).where(
                AuditEntry.action.in_(("open_run.confirmed", "open_run.cancelled")),
                AuditEntry.object_label == "压测到期班次",
            )
        )
        emails = db.session.scalar(select(func.count()).select_from(OutboxEmail))
        unsent = db.session.scalar(select(func.count()).where(OutboxEmail.sent_at.is_(None)))
        claimed_twice = db.session.scalar(select(func.count()).where(OutboxEmail.attempts > 1))
        status = run.status
        db.session.remove()
    return {
        "due_run_status": status,
        "due_run_closes": closes,
        "emails": emails,
        "unsent": unsent,
        "claimed_twice": claimed_twice,
    }


# ---------------------------------------------------------------- the cluster


@contextmanager
def process(command: list[str], env: dict[str, str], log_path: Path):
    handle = open(log_path, "w")  # noqa: SIM115 (closed in finally, after the process)
    proc = subprocess.Popen(
        command, cwd=ROOT, env=env, stdout=handle, stderr=subprocess.STDOUT,
        start_new_session=True,
    )  # fmt: skip
    try:
        yield proc
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
        handle.close()


def wait_up(url: str, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while True:
        try:
            with urllib.request.urlopen(url, timeout=5) as response:
                if response.status == 200:
                    return
        except OSError:
            if time.monotonic() > deadline:
                raise RuntimeError(f"{url} did not answer") from None
            time.sleep(0.3)


NGINX_CONF = """
worker_processes 2;
pid {tmp}/nginx.pid;
error_log {tmp}/nginx-error.log warn;
events {{ worker_connections 4096; }}
http {{
    access_log off;
    client_body_temp_path {tmp}/body;
    proxy_temp_path {tmp}/proxy;
    fastcgi_temp_path {tmp}/fastcgi;
    uwsgi_temp_path {tmp}/uwsgi;
    scgi_temp_path {tmp}/scgi;
    upstream portal {{
        server 127.0.0.1:{a};
        server 127.0.0.1:{b};
        keepalive 32;
    }}
    server {{
        listen 127.0.0.1:{port};
        client_max_body_size 20m;
        location / {{
            proxy_pass http://portal;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_set_header Host $http_host;
            proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
            proxy_set_header X-Forwarded-Proto $scheme;
            proxy_read_timeout 60s;
        }}
    }}
}}
"""

# Each server's timers: the outbox, waiting-list and open-run jobs of deployment.md section 7
# (flag-withdrawals, hourly, would move the bench's sign-in sessions back to the class's
# derived hours; tests/perf/test_timer_jobs.py runs it twice at once), one round every 3 s (in production every few minutes) so that the servers' rounds
# overlap. One interpreter per server, as a systemd unit's loop would keep (starting four
# interpreters every three seconds would take most of the two cores from the servers).
TIMERS = """
import sys, time
from portal import create_app

app = create_app()
jobs = ("process-open-runs", "process-waitlist", "send-mail")
while True:
    for job in jobs:
        try:
            with app.app_context():
                app.cli.main(args=["portal", job], standalone_mode=False)
        except Exception as error:
            print(f"{job} failed: {error!r}", flush=True)
    time.sleep(3)
"""


@contextmanager
def redis_server(env: dict[str, str], tmp: Path):
    """A Redis of the run's own on a free port; yields ``env`` pointing the page cache, its
    generations and the rate limits at it, as docs/deployment.md configures production."""
    port = free_port()
    url = f"redis://127.0.0.1:{port}/0"
    command = ["redis-server", "--port", str(port), "--save", "", "--appendonly", "no"]
    with process(command, env, tmp / "redis.log"):
        deadline = time.monotonic() + 10
        while subprocess.run(
            ["redis-cli", "-p", str(port), "ping"], capture_output=True, check=False
        ).returncode:
            if time.monotonic() > deadline:
                raise RuntimeError("redis-server did not start")
            time.sleep(0.1)
        yield {**env, "PORTAL_CACHE_REDIS_URL": url, "PORTAL_RATELIMIT_STORAGE_URI": url}


@contextmanager
def cluster(env: dict[str, str], tmp: Path):
    """Redis, two gunicorn servers with their timers, nginx in front; yields the URLs."""
    nginx = shutil.which("nginx") or "/usr/sbin/nginx"
    a, b, port = free_port(), free_port(), free_port()
    for name in ("body", "proxy", "fastcgi", "uwsgi", "scgi"):
        (tmp / name).mkdir(exist_ok=True)
    (tmp / "nginx.conf").write_text(NGINX_CONF.format(tmp=tmp, a=a, b=b, port=port))
    with ExitStack() as stack:
        env = {**stack.enter_context(redis_server(env, tmp)), "PORTAL_PROXY_FIX": "true"}
        for server in (a, b):
            stack.enter_context(
                process(
                    [*GUNICORN, f"127.0.0.1:{server}", "portal:create_app()"],
                    env,
                    tmp / f"gunicorn-{server}.log",
                )
            )
        for server in (a, b):
            wait_up(f"http://127.0.0.1:{server}/")
        stack.enter_context(
            process(
                [nginx, "-p", str(tmp), "-c", str(tmp / "nginx.conf"), "-g", "daemon off;"],
                env,
                tmp / "nginx.log",
            )
        )
        wait_up(f"http://127.0.0.1:{port}/")
        for server in (a, b):
            stack.enter_context(
                process(
                    [str(BIN / "python"), "-c", TIMERS],
                    env,
                    tmp / f"timers-{server}.log",
                )
            )
        yield {
            "nginx": f"http://127.0.0.1:{port}",
            "servers": [f"http://127.0.0.1:{a}", f"http://127.0.0.1:{b}"],
        }


def seen_on_the_other(servers: list[str], identity: dict[str, Any], run_id: int) -> dict:
    """A booking made through one server, then the trainee's page through the other."""
    import requests

    headers = {"Cookie": identity["cookie"]}
    booked = requests.post(
        servers[0] + identity["path"],
        data={"csrf_token": identity["csrf"]},
        headers=headers,
        allow_redirects=False,
        timeout=60,
    )
    page = requests.get(f"{servers[1]}/runs/{run_id}", headers=headers, timeout=60)
    return {
        "booked_on_first": booked.status_code,
        "seen_on_second": page.status_code == 200 and "取消报名" in page.text,
    }


# ---------------------------------------------------------------- the run


def hello(args) -> dict[str, Any]:
    with gunicorn("bench.hello:app", dict(os.environ)) as base:
        result = run_locust(base, "hello", None, args.users, args.duration, args.users)
    return {**result["rows"]["hello"], **{k: result[k] for k in ("load_before", "load_after")}}


def hello_rush(args) -> dict[str, Any]:
    """The rush's shape against the bare hello app: ``--trainees`` one-shot users released
    at once, one request each. What locust and gunicorn alone take on this machine."""
    with gunicorn("bench.hello:app", dict(os.environ)) as base:
        n = args.trainees
        result = run_locust(base, "hello_rush", [{"cookie": ""}] * n, n, 120, n)
    row = result["rows"].get("hello rush", {})
    times = result["times"]
    if times.get("first") and times.get("last"):
        row["span_s"] = round(times["last"] - times["first"], 2)
    return {**row, **{k: result[k] for k in ("load_before", "load_after")}}


def scenarios(app, base: str, target: dict, args, report: dict) -> None:
    warm(base, target["morning"]["me"])
    log(f"open-run rush: {len(target['rush'])} trainees, {args.seats} seats")
    rush = run_locust(base, "rush", target["rush"], len(target["rush"]), 120, len(target["rush"]))
    report["rush"] = {**rush, "check": rush_check(app, target)}
    times = rush["times"]
    if times.get("first") and times.get("last"):
        span = times["last"] - times["first"]
        report["rush"]["span_s"] = round(span, 2)
        report["rush"]["bookings_per_s"] = round(report["rush"]["check"]["booked"] / span, 1)
        report["rush"]["attempts_per_s"] = round(len(target["rush"]) / span, 1)
    log(f"rush: {report['rush']['rows']} {report['rush']['check']}")
    n = len(target["signin"])
    log(f"sign-in burst: {n} trainees over {args.signin_seconds} s")
    signin = run_locust(
        base, "signin", target["signin"], n, args.signin_seconds + 60, n, args.signin_seconds
    )
    report["signin"] = {**signin, "check": signin_check(app, target)}
    log(f"signin: {report['signin']['rows']} {report['signin']['check']}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scale", type=int, default=20)
    parser.add_argument("--trainees", type=int, default=1000)
    parser.add_argument("--seats", type=int, default=200)
    parser.add_argument("--classes", type=int, default=10)
    parser.add_argument("--class-size", type=int, default=46)
    parser.add_argument("--signin-seconds", type=int, default=60)
    parser.add_argument("--users", type=int, default=50)
    parser.add_argument("--duration", type=int, default=20)
    parser.add_argument("--cluster", action="store_true")
    parser.add_argument(
        "--pg-url",
        default=os.environ.get("PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"),
    )
    parser.add_argument("--write-docs", action="store_true")
    args = parser.parse_args()
    if args.classes * args.class_size > args.trainees:
        parser.error("--trainees must be at least --classes × --class-size")
    report: dict[str, Any] = {"machine": machine(), "args": vars(args), "cluster": args.cluster}
    log("hello ceiling")
    report["hello"] = [hello(args)]
    if not args.cluster:
        log("hello rush")
        report["hello_rush"] = hello_rush(args)
    with (
        tempfile.TemporaryDirectory(prefix="portal-bench-trainees-") as workdir,
        database("postgresql", args.pg_url, Path(workdir)) as url,
    ):
        env = app_env(url)
        subprocess.run(
            [str(BIN / "flask"), "db", "upgrade"], cwd=ROOT, env=env, check=True,
            capture_output=True,
        )  # fmt: skip
        app = make_app(url)
        app.config["BENCH_SEATS"] = args.seats
        from portal import scale

        log(f"generating scale {args.scale} and the trainee side")
        with app.app_context():
            scale.generate(args.scale)
            from portal.extensions import db

            db.session.remove()
        target = trainee_side(app, args)
        if args.cluster:
            with cluster(env, Path(workdir)) as urls:
                report["servers"] = urls
                scenarios(app, urls["nginx"], target, args, report)
                report["cross"] = seen_on_the_other(
                    urls["servers"], target["cross"], target["cross_run"]
                )
                # The timers' last rounds: until the outbox is empty (two minutes at most).
                deadline = time.monotonic() + 120
                while True:
                    report["timers"] = timers_check(app, target)
                    if not report["timers"]["unsent"] or time.monotonic() > deadline:
                        break
                    time.sleep(2)
                logs = "".join(p.read_text() for p in Path(workdir).glob("timers-*.log"))
                report["timers"]["failures"] = logs.count(" failed: ")
            log(f"cluster: {report['cross']} {report['timers']}")
        else:
            with (
                redis_server(env, Path(workdir)) as env,
                gunicorn("portal:create_app()", env) as base,
            ):
                scenarios(app, base, target, args, report)
                report["morning"] = {}
                for page in MORNING:
                    log(f"morning rush: {page}, {args.users} users, {args.duration} s")
                    result = run_locust(
                        base, page, target["morning"][page], args.users, args.duration,
                        args.users,
                    )  # fmt: skip
                    report["morning"][page] = {
                        **result["rows"].get(page, {}),
                        "cache": result["times"].get("cache", {}),
                        "load_before": result["load_before"],
                        "load_after": result["load_after"],
                    }
                    log(f"{page}: {report['morning'][page]}")
        with app.app_context():
            from portal.extensions import db

            db.engine.dispose()
    log("hello ceiling again")
    report["hello"].append(hello(args))
    RESULTS.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M")
    kind = "cluster" if args.cluster else "trainees"
    path = RESULTS / f"{stamp}-{kind}-scale{args.scale}.json"
    path.write_text(json.dumps(report, ensure_ascii=False, indent=2, default=str))
    text = markdown(report)
    (RESULTS / f"latest-{kind}.md").write_text(text)
    print(text)
    log(f"results in {path.relative_to(ROOT)}")
    if args.write_docs:
        write_docs(text, kind)


def _row(name: str, r: dict, hello_rps: float, load: str) -> str:
    ratio = f"{100 * r['rps'] / hello_rps:.1f} %" if hello_rps and r.get("rps") else "—"
    return (
        f"| {name} | {r.get('requests', 0)} | {r.get('rps', 0)} | {r.get('p50', 0):.0f} | "
        f"{r.get('p95', 0):.0f} | {r.get('p99', 0):.0f} | {r.get('failures', 0)} | {ratio} | {load} |"
    )


def markdown(report: dict[str, Any]) -> str:
    m = report["machine"]
    a = report["args"]
    best = max(report["hello"], key=lambda h: h["rps"])
    where = "two gunicorn servers behind nginx, Redis" if report["cluster"] else "one gunicorn"
    lines = [
        f"Measured {m['date']} on {m['nproc']} cores, commit `{m['commit'][:12]}`; PostgreSQL, "
        f"scale {a['scale']}, {where} ({WORKERS} sync workers each); locust on the same "
        f"machine. Hello ceiling {' and '.join(str(h['rps']) for h in report['hello'])} "
        f"requests/s (before, after; the better is 100 %).",
        "",
        "| line | requests | requests/s | p50 ms | p95 ms | p99 ms | failures | vs hello | load before→after |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---|",
        _row("bare Flask hello", best, best["rps"], f"{best['load_before']}→{best['load_after']}"),
    ]
    if report.get("hello_rush"):
        h = report["hello_rush"]
        lines.append(
            _row(
                f"bare Flask hello, the rush's shape ({a['trainees']} users at once, "
                f"{h.get('span_s')} s first to last)",
                h,
                0,
                f"{h['load_before']}→{h['load_after']}",
            )
        )
    rush = report.get("rush")
    if rush:
        load = f"{rush['load_before']}→{rush['load_after']}"
        for name in ("rush", "rush accepted", "rush refused", "rush error"):
            if name in rush["rows"]:
                lines.append(_row(f"open-run rush: {name}", rush["rows"][name], 0, load))
    signin = report.get("signin")
    if signin and "signin" in signin["rows"]:
        lines.append(
            _row(
                f"sign-in burst over {a['signin_seconds']} s",
                signin["rows"]["signin"],
                0,
                f"{signin['load_before']}→{signin['load_after']}",
            )
        )
    names = {
        "me": "trainee's `/me`",
        "class_page": "organizer's roster `/classes/<id>/trainees`",
        "attendance_page": "organizer's `/attendance/classes/<id>`",
        "inbox": "member's `/inbox`",
    }
    for page, r in (report.get("morning") or {}).items():
        lines.append(
            _row(
                f"morning rush: {names[page]}",
                r,
                best["rps"],
                f"{r['load_before']}→{r['load_after']}",
            )
        )
    lines.append("")
    if rush:
        c = rush["check"]
        lines.append(
            f"- Open-run rush: {a['trainees']} trainees, one booking attempt each, released at "
            f"once, for {a['seats']} seats (four units with a quota of {c['quota']} each, a "
            f"fifth without): **{c['booked']} booked, {c['oversold']} oversold, "
            f"{c['quota_exceeded']} over a quota** (per quota: {c['per_quota']}); "
            f"{rush.get('bookings_per_s')} seat bookings/s and {rush.get('attempts_per_s')} "
            f"attempts/s over {rush.get('span_s')} s from the first request to the last answer "
            f"(the bookings' commits spread over {c['booking_spread_s']} s)."
        )
    if signin:
        c = signin["check"]
        lines.append(
            f"- Sign-in burst: {c['expected']} sign-ins ({a['classes']} classes × "
            f"{a['class_size']}): **{c['marks']} recorded, {c['doubles']} twice**."
        )
    served = {names[page]: r.get("cache") for page, r in (report.get("morning") or {}).items()}
    if any(served.values()):
        lines.append(
            "- Morning rush, answers by the page cache (hit: kept for that user; miss: made "
            "and kept; none: made, not kept): "
            + "; ".join(
                f"{name} {', '.join(f'{k} {v}' for k, v in sorted(counts.items()))}"
                for name, counts in served.items()
                if counts
            )
            + "."
        )
    if report.get("timers"):
        t = report["timers"]
        x = report["cross"]
        lines.append(
            f"- Timers on both servers (process-open-runs, process-waitlist, send-mail every 3 s): the due run "
            f"{t['due_run_status']} by {t['due_run_closes']} close(s); {t['emails']} e-mails, "
            f"{t['unsent']} unsent, {t['claimed_twice']} claimed twice; {t['failures']} failed "
            f"job runs. A booking through the first server (HTTP {x['booked_on_first']}) "
            f"{'is' if x['seen_on_second'] else 'is NOT'} seen through the second."
        )
    return "\n".join(lines) + "\n"


def write_docs(text: str, kind: str) -> None:
    start, end = f"<!-- {kind} results start -->", f"<!-- {kind} results end -->"
    doc = DOC.read_text()
    if start in doc:
        head, rest = doc.split(start, 1)
        doc = head + start + "\n" + text + end + rest.split(end, 1)[1]
    else:
        doc += f"\n{start}\n{text}{end}\n"
    DOC.write_text(doc)
    log("docs/benchmarks.md updated")


if __name__ == "__main__":
    main()
