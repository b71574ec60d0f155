"""Timer jobs run by two servers at once do each piece of work once (issue 20).

With several app servers every one of them runs the timers (deployment.md): the open-run
deadline job, the waiting-list sweep, the withdrawal flags and the outbox sender. Here each
job is started as ``flask portal <job>`` would run it, in two OS processes (each its own
interpreter, app and connection) released together by a file barrier once both are
connected, against one database (SQLite file, or PostgreSQL with PORTAL_TEST_DATABASE_URL);
then the effects are counted: one close per run, one history row and message per expired
offer, one flag and one message per trainee due, one send per e-mail.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from collections import Counter
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from portal.attendance.models import Withdrawal
from portal.audit.models import AuditEntry
from portal.auth.models import User
from portal.demo import load_demo
from portal.extensions import db
from portal.notifications.models import Message, OutboxEmail
from portal.scheduling.models import BookingEvent
from portal.scheduling.settings import set_setting
from portal.timeutil import LOCAL_TZ, utcnow
from portal.trainees.demo import DEMO_RUN
from portal.trainees.models import OpenRun, OpenRunSeat
from tests.conftest import fresh_database_url, make_test_app
from tests.scheduling.test_waitlist_expiry import make_due_offers

pytestmark = pytest.mark.db

ROOT = Path(__file__).resolve().parents[2]
OFFERS = 10
EMAILS = 30

# One timer process: its app and connection first, then the barrier, then the job's command.
RUNNER = textwrap.dedent(
    """
    import os, sys, time
    from sqlalchemy import text
    from portal import create_app
    from portal.extensions import db
    from portal.notifications import services

    url, barrier, name, job = sys.argv[1:5]
    # The console back end, with the e-mail's id: the test counts the sends of each e-mail.
    services.ConsoleBackend.send = lambda self, email: print(f"SENT {email.id}", flush=True)
    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "test-secret"})
    with app.app_context():
        db.session.execute(text("SELECT 1"))
        db.session.rollback()
        open(os.path.join(barrier, name), "w").close()
        deadline = time.time() + 120
        while len(os.listdir(barrier)) < 2 and time.time() < deadline:
            time.sleep(0.005)
        app.cli.main(args=["portal", job], standalone_mode=False)
    """
)


@pytest.fixture
def shared(tmp_path):
    for url in fresh_database_url(tmp_path):
        app = make_test_app(url, str(tmp_path))
        with app.app_context():
            db.create_all()
            load_demo(season=["trainees", "attendance"])
            db.session.commit()
            db.session.remove()
        yield app, url
        with app.app_context():
            db.engine.dispose()


def run_twice(tmp_path, url: str, job: str) -> list[str]:
    """``flask portal <job>`` in two processes at once; their outputs."""
    barrier = tmp_path / f"barrier-{job}"
    barrier.mkdir()
    script = tmp_path / "timer_runner.py"
    script.write_text(RUNNER)
    processes = [
        subprocess.Popen(
            [sys.executable, str(script), url, str(barrier), name, job],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            # This checkout's portal, not the one the venv has installed.
            cwd=ROOT,
            env={**os.environ, "PYTHONPATH": str(ROOT)},
        )
        for name in ("a", "b")
    ]
    outputs = []
    for process in processes:
        out, err = process.communicate(timeout=300)
        assert process.returncode == 0, f"{job}: {out}\n{err}"
        outputs.append(out)
    return outputs


def test_each_timer_job_is_done_once_by_two_processes(shared, tmp_path):
    app, url = shared
    offers = make_due_offers(app, OFFERS)
    with app.app_context():
        office = db.session.scalar(select(User).where(User.username == "office"))
        # The demo run's booking deadline has passed: the job closes it.
        run = db.session.scalar(select(OpenRun).where(OpenRun.title == DEMO_RUN))
        run.booking_deadline = utcnow().astimezone(LOCAL_TZ).date() - timedelta(days=1)
        run_id, run_title = run.id, run.title
        booked = db.session.scalar(
            select(func.count()).where(OpenRunSeat.run_id == run_id, OpenRunSeat.status == "booked")
        )
        # One unmarked half day already calls for withdrawal: yesterday's sessions of the
        # demo class (under way since yesterday) flag whoever did not come.
        set_setting("attendance_absence_limit", 1, office)
        for i in range(EMAILS):
            db.session.add(
                OutboxEmail(to_address=f"t{i}@example.org", subject=f"测试{i}", body="x")
            )
        db.session.commit()
        db.session.remove()

    run_twice(tmp_path, url, "process-open-runs")
    run_twice(tmp_path, url, "process-waitlist")
    run_twice(tmp_path, url, "flag-withdrawals")
    sends = run_twice(tmp_path, url, "send-mail")

    with app.app_context():
        # The open run: closed once, its people told once each.
        closes = db.session.scalar(
            select(func.count()).where(
                AuditEntry.action.in_(("open_run.confirmed", "open_run.cancelled"))
            )
        )
        assert closes == 1
        assert db.session.get(OpenRun, run_id).status in ("confirmed", "cancelled")
        told = Counter(
            db.session.scalars(
                select(Message.user_id).where(
                    Message.subject.in_(
                        (f"开放班次已成班：{run_title}", f"开放班次已取消：{run_title}")
                    )
                )
            )
        )
        assert told and set(told.values()) == {1}, told
        assert len(told) >= booked
        # The waiting-list offers: each expired once, with one history row.
        history = db.session.scalar(
            select(func.count()).where(
                BookingEvent.action == "offer_expired", BookingEvent.reservation_id.in_(offers)
            )
        )
        assert history == OFFERS
        # Withdrawals: flagged once each, the organizer told once each.
        flagged = db.session.scalar(select(func.count()).select_from(Withdrawal))
        assert flagged > 0
        audited = db.session.scalar(
            select(func.count()).where(AuditEntry.action == "attendance.withdrawal_flag")
        )
        assert audited == flagged
        flag_messages = db.session.scalar(
            select(func.count()).where(Message.subject.like("%达到退学条件%"))
        )
        assert flag_messages == flagged
        # The outbox: every e-mail sent, each by one process only.
        sent = Counter(
            line.split()[1]
            for out in sends
            for line in out.splitlines()
            if line.startswith("SENT ")
        )
        emails = db.session.scalars(select(OutboxEmail.id)).all()
        assert len(emails) >= EMAILS
        assert sorted(sent) == sorted(str(e) for e in emails)
        assert set(sent.values()) == {1}, [e for e, n in sent.items() if n > 1]
        assert db.session.scalar(select(func.count()).where(OutboxEmail.sent_at.is_(None))) == 0
