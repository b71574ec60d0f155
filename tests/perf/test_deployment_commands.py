"""Every command of docs/deployment.md runs here, or in `make bench`; the guide cannot rot.

The commands are the guide's own text (each constant below must appear in it verbatim, and
the guide may hold no command that is not listed here), run with ``/srv/portal`` replaced by
the checkout's venv or a temporary folder, port 8000 by a free port, ``ringroute`` by a
throw-away PostgreSQL database and role, Redis database 0 by a spare one, and gunicorn's
``--workers 5`` by ``--workers 2`` (every worker boots the app: two servers and two reloads
of five workers each would take most of a minute on a small CI machine). They need
PostgreSQL (PORTAL_TEST_DATABASE_URL, else the local server) and Redis at 127.0.0.1:6379;
without them the tests skip (and fail under CI=true).
"""

from __future__ import annotations

import os
import re
import shlex
import signal
import socket
import subprocess
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import sqlalchemy as sa

# Test extras: gunicorn and requests (which locust brings); without them the module skips.
requests = pytest.importorskip("requests")

ROOT = Path(__file__).resolve().parents[2]
BIN = ROOT / ".venv" / "bin"
DOC = (ROOT / "docs" / "deployment.md").read_text(encoding="utf-8")
MAKEFILE = (ROOT / "Makefile").read_text(encoding="utf-8")
PG_ADMIN = os.environ.get(
    "PORTAL_TEST_DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)

# ---------------------------------------------------------------- the guide's commands

INSTALL = "make install"
INSTALL_GUNICORN = ".venv/bin/python -m pip install 'gunicorn>=23'"
# Section 10's proof on one machine (bench/trainees.py --cluster): two servers behind nginx.
BENCH_CLUSTER = "make bench-cluster"
CREATE_DATABASE = (
    'psql -h 127.0.0.1 -U postgres -c "CREATE ROLE ringroute LOGIN" '
    '-c "CREATE DATABASE ringroute OWNER ringroute"'
)
SECRET = 'python3 -c "import secrets; print(secrets.token_hex(32))"'
UPGRADE = "/srv/portal/.venv/bin/flask --app portal db upgrade"
SYNC = "/srv/portal/.venv/bin/flask --app portal portal sync"
CREATE_USER = (
    "/srv/portal/.venv/bin/flask --app portal portal create-user --username office "
    "--name 环线办 --role office --password 'change-this-password-2026'"
)
GUNICORN = (
    "/srv/portal/.venv/bin/gunicorn --workers 5 --bind 127.0.0.1:8000 "
    '--pid /run/portal/gunicorn.pid "portal:create_app()"'
)
RELOAD = 'kill -HUP "$(cat /run/portal/gunicorn.pid)"'
SYSTEMD_RELOAD = "/bin/kill -HUP $MAINPID"
SEND_MAIL = "/srv/portal/.venv/bin/flask --app portal portal send-mail --loop --interval 30"
WAITLIST = "/srv/portal/.venv/bin/flask --app portal portal process-waitlist"
OPEN_RUNS = "/srv/portal/.venv/bin/flask --app portal portal process-open-runs"
FLAG_WITHDRAWALS = "/srv/portal/.venv/bin/flask --app portal portal flag-withdrawals"
DUMP = (
    "pg_dump -h 127.0.0.1 -U ringroute --format=custom "
    "--file=/srv/portal/backups/ringroute.dump ringroute"
)
BACKUP_UPLOADS = "tar -czf /srv/portal/backups/uploads.tar.gz -C /srv/portal/shared uploads"
RESTORE = (
    "pg_restore -h 127.0.0.1 -U ringroute --clean --if-exists --no-owner "
    "--dbname=ringroute /srv/portal/backups/ringroute.dump"
)
RESTORE_UPLOADS = "tar -xzf /srv/portal/backups/uploads.tar.gz -C /srv/portal/shared"
CLEAR_CACHE = "/srv/portal/.venv/bin/flask --app portal portal clear-cache"
REDIS_SCAN = "redis-cli -h 127.0.0.1 -n 0 --scan --pattern 'LIMITS:LIMITER*'"

RUN_HERE = {
    CREATE_DATABASE,
    SECRET,
    UPGRADE,
    SYNC,
    CREATE_USER,
    GUNICORN,
    RELOAD,
    SYSTEMD_RELOAD,
    SEND_MAIL,
    WAITLIST,
    OPEN_RUNS,
    FLAG_WITHDRAWALS,
    DUMP,
    BACKUP_UPLOADS,
    RESTORE,
    RESTORE_UPLOADS,
    CLEAR_CACHE,
    REDIS_SCAN,
}
RUN_BY_MAKE_BENCH = {INSTALL, INSTALL_GUNICORN, BENCH_CLUSTER}


def guide_commands(text: str) -> list[str]:
    """Shell lines of ```sh blocks, and ExecStart/ExecReload of the systemd units."""
    found = []
    for language, body in re.findall(r"```(\w+)\n(.*?)```", text, re.S):
        for line in body.splitlines():
            line = line.strip()
            if language == "sh" and line and not line.startswith("#"):
                found.append(line)
            elif language == "ini" and line.startswith(("ExecStart=", "ExecReload=")):
                found.append(line.split("=", 1)[1])
    return found


def env_file(text: str) -> dict[str, str]:
    block = re.search(r"```ini\n# /etc/portal/env\n(.*?)```", text, re.S)
    assert block, "docs/deployment.md has no /etc/portal/env block"
    return dict(line.split("=", 1) for line in block.group(1).splitlines() if "=" in line)


# ---------------------------------------------------------------- a place to run them


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Deployment:
    tmp: Path
    database: str
    redis_db: int
    port: int = field(default_factory=free_port)

    def local(self, command: str, port: int | None = None) -> str:
        """The guide's command on this machine."""
        return (
            command.replace("/srv/portal/.venv/bin/", f"{BIN}/")
            .replace("/run/portal/", f"{self.tmp}/run-{port or self.port}/")
            .replace("/srv/portal/", f"{self.tmp}/srv/")
            .replace("127.0.0.1:8000", f"127.0.0.1:{port or self.port}")
            .replace("ringroute", self.database)
            .replace("-n 0 ", f"-n {self.redis_db} ")
            .replace("--workers 5 ", "--workers 2 ")
        )

    @property
    def env(self) -> dict[str, str]:
        values = {key: self.local(value) for key, value in env_file(DOC).items()}
        for key, value in values.items():
            if value.startswith("redis://"):
                values[key] = value.replace("/0", f"/{self.redis_db}")
        return {**os.environ, **values, "PYTHONUNBUFFERED": "1"}

    def run(self, command: str, **kwargs) -> subprocess.CompletedProcess:
        result = subprocess.run(
            self.local(command),
            shell=True,
            cwd=ROOT,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=120,
            **kwargs,
        )
        assert result.returncode == 0, f"{command}\n{result.stdout}\n{result.stderr}"
        return result


def _unavailable(reason: str) -> None:
    if os.environ.get("CI") == "true":
        pytest.fail(reason)
    pytest.skip(reason)


@pytest.fixture(scope="module")
def deployment(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Deployment]:
    if not (BIN / "gunicorn").exists():
        _unavailable("gunicorn is not installed in .venv (make bench-deps)")
    try:
        with socket.create_connection(("127.0.0.1", 6379), timeout=2):
            pass
    except OSError:
        _unavailable("Redis is not reachable at 127.0.0.1:6379")
    admin = sa.create_engine(sa.make_url(PG_ADMIN), isolation_level="AUTOCOMMIT")
    try:
        with admin.connect():
            pass
    except sa.exc.OperationalError as exc:
        _unavailable(f"PostgreSQL is not reachable: {exc}")
    tmp = tmp_path_factory.mktemp("deploy")
    (tmp / "srv" / "backups").mkdir(parents=True)
    (tmp / "srv" / "shared" / "uploads").mkdir(parents=True)
    site = Deployment(tmp, f"ringroute_{uuid.uuid4().hex[:8]}", redis_db=13)
    site.run(CREATE_DATABASE)
    try:
        yield site
    finally:
        with admin.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{site.database}" WITH (FORCE)')
            conn.exec_driver_sql(f'DROP ROLE IF EXISTS "{site.database}"')
        admin.dispose()


class Gunicorn:
    def __init__(self, site: Deployment, port: int) -> None:
        (site.tmp / f"run-{port}").mkdir(exist_ok=True)
        self.site, self.port = site, port
        self.url = f"http://127.0.0.1:{port}"
        self.process = subprocess.Popen(
            shlex.split(site.local(GUNICORN, port)),
            cwd=ROOT,
            env=site.env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            start_new_session=True,
        )
        self.wait_until_up()

    def wait_until_up(self, seconds: float = 60) -> None:
        deadline = time.monotonic() + seconds
        while True:
            try:
                if requests.get(self.url + "/", timeout=5).status_code == 200:
                    return
            except requests.RequestException:
                pass
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise AssertionError(f"gunicorn did not answer: {self.process.stderr.read()}")
            time.sleep(0.3)

    @property
    def pid(self) -> int:
        return int((self.site.tmp / f"run-{self.port}" / "gunicorn.pid").read_text())

    def stop(self) -> None:
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


# ---------------------------------------------------------------- the tests


def test_the_guide_holds_only_commands_that_are_run():
    commands = guide_commands(DOC)
    assert set(commands) == RUN_HERE | RUN_BY_MAKE_BENCH, (
        "a command of docs/deployment.md is not run by this test or make bench (or the "
        f"other way round): {set(commands) ^ (RUN_HERE | RUN_BY_MAKE_BENCH)}"
    )


def test_make_bench_runs_the_install_commands():
    bench_deps = re.search(r"^bench-deps:(.*)\n((?:\t.*\n)+)", MAKEFILE, re.M)
    assert bench_deps and "install" in bench_deps.group(1).split()
    assert "-m pip install" in bench_deps.group(2) and "'gunicorn>=23'" in bench_deps.group(2)
    assert re.search(r"^bench:.*\bbench-deps\b", MAKEFILE, re.M)


def test_nginx_sends_to_the_port_gunicorn_binds():
    assert "server 127.0.0.1:8000;" in DOC and "--bind 127.0.0.1:8000" in GUNICORN


def test_secret_key_command(deployment: Deployment):
    key = deployment.run(SECRET).stdout.strip()
    assert re.fullmatch(r"[0-9a-f]{64}", key)


def test_schema_sync_and_first_account_on_a_fresh_postgresql(deployment: Deployment):
    deployment.run(UPGRADE)
    assert "created" in deployment.run(SYNC).stdout
    assert "created office" in deployment.run(CREATE_USER).stdout


def login(server: Gunicorn) -> str:
    """Log in as the guide's first account; the session cookie as a header value."""
    form = requests.get(server.url + "/login", timeout=10)
    token = re.search(r'name="csrf_token" value="([^"]+)"', form.text).group(1)
    answer = requests.post(
        server.url + "/login",
        data={"csrf_token": token, "username": "office", "password": "change-this-password-2026"},
        headers={"Cookie": form.headers["Set-Cookie"].split(";")[0]},
        allow_redirects=False,
        timeout=30,
    )
    assert answer.status_code == 302, answer.text[:500]
    return answer.headers["Set-Cookie"].split(";")[0]


def test_gunicorn_behind_nginx_redis_reload_and_a_second_server(deployment: Deployment):
    first = Gunicorn(deployment, deployment.port)
    second = None
    try:
        # Behind the proxy: absolute links use the scheme and host nginx forwards.
        api = requests.get(
            first.url + "/api/v1/sites",
            headers={"X-Forwarded-Proto": "https", "X-Forwarded-Host": "portal.example.cn"},
            timeout=30,
        ).json()
        assert api["items"] and api["items"][0]["url"].startswith("https://portal.example.cn/")

        # A failed login from a client nginx names is counted in Redis, per client address.
        form = requests.get(first.url + "/login", timeout=10)
        token = re.search(r'name="csrf_token" value="([^"]+)"', form.text).group(1)
        requests.post(
            first.url + "/login",
            data={"csrf_token": token, "username": "office", "password": "wrong-password"},
            headers={
                "Cookie": form.headers["Set-Cookie"].split(";")[0],
                "X-Forwarded-For": "203.0.113.9",
            },
            timeout=30,
        )
        assert "203.0.113.9" in deployment.run(REDIS_SCAN).stdout

        # Graceful reloads (the guide's command, and systemd's ExecReload) keep answering.
        deployment.run(RELOAD)
        first.wait_until_up()
        deployment.run(SYSTEMD_RELOAD.replace("$MAINPID", str(first.pid)))
        time.sleep(1)
        first.wait_until_up()
        assert requests.get(first.url + "/", timeout=10).status_code == 200

        # A second server with the same environment file accepts the first one's session.
        second = Gunicorn(deployment, free_port())
        cookie = login(first)
        page = requests.get(
            second.url + "/admin/users", headers={"Cookie": cookie}, allow_redirects=False
        )
        assert page.status_code == 200, page.status_code
        # …and serves the page the first one cached in Redis (nginx sends both the same host).
        proxied = {"X-Forwarded-Proto": "https", "X-Forwarded-Host": "portal.example.cn"}
        sites = [
            requests.get(server.url + "/sites?q=x", headers=proxied, timeout=30)
            for server in (first, second)
        ]
        assert [s.headers.get("X-Page-Cache") for s in sites] == ["miss", "hit"]
    finally:
        first.stop()
        if second is not None:
            second.stop()


def test_outbox_sender_and_waiting_list_jobs(deployment: Deployment):
    sender = subprocess.Popen(
        shlex.split(deployment.local(SEND_MAIL)),
        cwd=ROOT,
        env=deployment.env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    try:
        first_line = sender.stdout.readline()
        assert re.match(r"\d+ sent, \d+ failed", first_line), first_line + sender.stderr.read()
        time.sleep(0.5)
        assert sender.poll() is None, "send-mail --loop stopped after one round"
    finally:
        sender.send_signal(signal.SIGTERM)
        sender.wait(timeout=10)
    assert "expired offers processed" in deployment.run(WAITLIST).stdout
    assert "runs confirmed" in deployment.run(OPEN_RUNS).stdout
    assert "flagged for withdrawal" in deployment.run(FLAG_WITHDRAWALS).stdout


def test_backup_and_restore(deployment: Deployment):
    uploads = deployment.tmp / "srv" / "shared" / "uploads"
    (uploads / "material.pdf").write_bytes(b"%PDF-1.4 course material")
    deployment.run(DUMP)
    deployment.run(BACKUP_UPLOADS)
    engine = sa.create_engine(
        deployment.env["DATABASE_URL"].replace("postgresql://", "postgresql+psycopg://")
    )
    try:
        with engine.begin() as conn:
            conn.exec_driver_sql("DELETE FROM users WHERE username = 'office'")
        (uploads / "material.pdf").unlink()
        deployment.run(RESTORE)
        deployment.run(RESTORE_UPLOADS)
        assert "page cache cleared" in deployment.run(CLEAR_CACHE).stdout
        with engine.connect() as conn:
            count = conn.exec_driver_sql("SELECT count(*) FROM users WHERE username = 'office'")
            assert count.scalar() == 1
    finally:
        engine.dispose()
    assert (uploads / "material.pdf").read_bytes() == b"%PDF-1.4 course material"
