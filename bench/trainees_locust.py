"""Locust users of the trainee side for bench/trainees.py (issue 20). One scenario a run.

BENCH_SCENARIO     hello | hello_rush | rush | signin | me | class_page | attendance_page | inbox
BENCH_IDENTITIES   a JSON file: {"users": [{"cookie": "session=…", "csrf": "…", "path": "…",
                   "session_id": …}, …]}: one logged-in account (its own login, its own
                   session cookie) per locust user, in order
BENCH_SECRET       the app's SECRET_KEY (signin: the QR code's token is made as the screen
                   makes it, for the current 30-second period)
BENCH_TIMES        where rush and signin write the first request's start and the last
                   answer's end (epoch seconds)

rush, hello_rush and signin: every user sends one request and stops (the rush: all released
at once; hello_rush: the same against the bare hello app, what locust and gunicorn alone take;
the sign-in burst: users arrive over BENCH_SPAWN_SECONDS); the run quits when all have
answered. The other scenarios: users with no think time, each on its own account.
"""

from __future__ import annotations

import base64
import itertools
import json
import os
import time
import zlib
from pathlib import Path

import gevent
from itsdangerous import URLSafeSerializer
from locust import FastHttpUser, constant, events, task
from locust.exception import StopUser

SCENARIO = os.environ.get("BENCH_SCENARIO", "hello")
IDENTITIES = (
    json.loads(Path(os.environ["BENCH_IDENTITIES"]).read_text())["users"]
    if os.environ.get("BENCH_IDENTITIES")
    else []
)
SECRET = os.environ.get("BENCH_SECRET", "")
SPREAD = float(os.environ.get("BENCH_SPAWN_SECONDS", "60"))
NEXT = itertools.count()
ONE_SHOT = SCENARIO in ("rush", "hello_rush", "signin")
STATE = {"first": None, "last": None, "done": 0, "samples": {}}


@events.request.add_listener
def _sample(request_type, name, response_time, response_length, exception=None, **_kw) -> None:
    """Every answer's time by name (the one-shot runs quit before locust writes its CSV)."""
    if ONE_SHOT:
        STATE["samples"].setdefault(name, []).append(
            [round(response_time, 1), exception is not None]
        )


def flash_categories(set_cookie: str) -> str:
    """The flashed categories in Flask's session cookie (signed, not encrypted)."""
    value = set_cookie.split("=", 1)[1].split(";", 1)[0] if "=" in set_cookie else ""
    compressed = value.startswith(".")
    payload = (value[1:] if compressed else value).split(".")[0]
    try:
        raw = base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4))
        return (zlib.decompress(raw) if compressed else raw).decode()
    except Exception:
        return ""


@events.test_stop.add_listener
def _write_times(environment, **_kw) -> None:
    if os.environ.get("BENCH_TIMES"):
        with open(os.environ["BENCH_TIMES"], "w") as f:
            json.dump(STATE, f)


class TraineeSideUser(FastHttpUser):
    wait_time = constant(0)

    def on_start(self) -> None:
        n = self.n = next(NEXT)
        if ONE_SHOT and n >= len(IDENTITIES):
            raise StopUser()
        self.me = IDENTITIES[n % len(IDENTITIES)] if IDENTITIES else {}

    def _finished(self) -> None:
        STATE["last"] = time.time()
        STATE["done"] += 1
        if STATE["done"] >= len(IDENTITIES):
            self.environment.runner.quit()
        raise StopUser()

    def _headers(self) -> dict[str, str]:
        return {"Cookie": self.me["cookie"]}

    @task
    def request(self) -> None:
        if SCENARIO == "hello":
            self.client.get("/", name="hello")
            return
        if SCENARIO == "hello_rush":
            STATE["first"] = STATE["first"] or time.time()
            self.client.get("/", name="hello rush")
            self._finished()
        if SCENARIO == "rush":
            STATE["first"] = STATE["first"] or time.time()
            began = time.perf_counter()
            with self.client.post(
                self.me["path"],
                data={"csrf_token": self.me["csrf"], "waitlist": ""},
                headers=self._headers(),
                name="rush",
                allow_redirects=False,
                catch_response=True,
            ) as response:
                took = (time.perf_counter() - began) * 1000
                flashed = flash_categories(response.headers.get("Set-Cookie", ""))
                if response.status_code != 302:
                    response.failure(f"{response.status_code}")
                    outcome = "rush error"
                elif "success" in flashed:
                    outcome = "rush accepted"
                else:
                    outcome = "rush refused"
            self.environment.events.request.fire(
                request_type="POST",
                name=outcome,
                response_time=took,
                response_length=0,
                exception=None,
                context={},
            )
            self._finished()
        if SCENARIO == "signin":
            # Arrivals evenly over BENCH_SPAWN_SECONDS: user n waits for its slot (locust
            # spawns the one-shot users faster than its rate asks).
            STATE["t0"] = STATE.get("t0") or time.time()
            slot = STATE["t0"] + self.n * SPREAD / max(1, len(IDENTITIES))
            gevent.sleep(max(0.0, slot - time.time()))
            STATE["first"] = STATE["first"] or time.time()
            serializer = URLSafeSerializer(SECRET, salt="attendance-qr")
            session_id = self.me["session_id"]
            token = serializer.dumps([session_id, int(time.time() // 30)])
            with self.client.post(
                f"/attendance/sessions/{session_id}/scan/{token}",
                data={"csrf_token": self.me["csrf"]},
                headers=self._headers(),
                name="signin",
                catch_response=True,
            ) as response:
                if response.status_code != 200:
                    response.failure(f"{response.status_code}")
                elif "签到成功" not in response.text:
                    response.failure("not signed in")
            self._finished()
        with self.client.get(
            self.me["path"], headers=self._headers(), name=SCENARIO, catch_response=True
        ) as response:
            # How many answers the page cache gave (pagecache.private_page).
            cached = response.headers.get("X-Page-Cache") or "none"
            STATE.setdefault("cache", {}).setdefault(cached, 0)
            STATE["cache"][cached] += 1
