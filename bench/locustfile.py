"""Locust users for `make bench`: one scenario at a time, chosen by BENCH_SCENARIO.

Parameters come from the environment (bench/run.py sets them from the generated data):

BENCH_SCENARIO   hello | search | calendar | availability | pdf
BENCH_SITES      site ids with reservations, comma-separated (calendar, availability)
BENCH_FIRST_DAY  BENCH_LAST_DAY   the range of dates asked for (YYYY-MM-DD)
BENCH_CLASSES    class ids of the demo organizer that have bookings (pdf)
BENCH_COOKIE     that organizer's session cookie, "session=…" (pdf)

Every user sends its next request as soon as the previous one is answered (no think
time): the numbers are the server's throughput with 50 requests always in flight.
"""

from __future__ import annotations

import os
import random
from datetime import date, timedelta

from locust import FastHttpUser, constant, task

SCENARIO = os.environ.get("BENCH_SCENARIO", "hello")
SITES = [int(s) for s in os.environ.get("BENCH_SITES", "1").split(",") if s]
CLASSES = [int(c) for c in os.environ.get("BENCH_CLASSES", "1").split(",") if c]
FIRST = date.fromisoformat(os.environ.get("BENCH_FIRST_DAY", "2026-01-01"))
COOKIE = os.environ.get("BENCH_COOKIE", "")
LAST = date.fromisoformat(os.environ.get("BENCH_LAST_DAY", "2026-12-31"))
# What people type into the site search: themes, places, kinds of site.
TERMS = [
    "纪念",
    "乡村振兴",
    "党性教育",
    "腾冲",
    "抗战",
    "隆阳",
    "民族团结",
    "生态",
    "廉政",
    "示范村",
]


def some_day() -> date:
    return FIRST + timedelta(days=random.randrange(max(1, (LAST - FIRST).days)))


class PortalUser(FastHttpUser):
    wait_time = constant(0)

    @task
    def request(self) -> None:
        if SCENARIO == "hello":
            self.client.get("/", name="hello")
        elif SCENARIO == "search":
            self.client.get(f"/sites?q={random.choice(TERMS)}", name="search")
        elif SCENARIO == "calendar":
            site = random.choice(SITES)
            self.client.get(f"/calendar/site/{site}?date={some_day()}", name="calendar")
        elif SCENARIO == "availability":
            start = some_day()
            self.client.get(
                f"/api/v1/availability?site={random.choice(SITES)}"
                f"&from={start}&to={start + timedelta(days=30)}",
                name="availability",
            )
        elif SCENARIO == "pdf":
            # One session for every user: bench/run.py logs in once (checking a password costs
            # as much CPU as several pages, and is not what is measured here).
            with self.client.get(
                f"/classes/{random.choice(CLASSES)}/itinerary.pdf",
                name="pdf",
                headers={"Cookie": COOKIE},
                catch_response=True,
            ) as response:
                if not response.content.startswith(b"%PDF"):
                    response.failure(f"not a PDF ({response.status_code})")
