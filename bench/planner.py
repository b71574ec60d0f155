"""The season planner's benchmark: planner vs first come, first served vs the proven bound.

For each size (20, 60 and 150 requests by default): a fresh SQLite database with the demo
consortium, a generated season (portal/planner/generate.py, seeded by its size), then one
run of the planner (``services.run_planner``, which also replays first come, first
served in submission order over the same candidates). Prints, per size: requests and
trainees placed by the planner and by first come, first served, the proven bound in
trainees, the solver's status and gap, and the seconds taken (checking the candidates,
then solving).

    .venv/bin/python bench/planner.py --sizes 20 60 150 --time-limit 30 --workers 2
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[20, 60, 150])
    parser.add_argument("--time-limit", type=int, default=30)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()

    from portal import create_app
    from portal.demo import load_demo
    from portal.extensions import db
    from portal.planner.generate import generate_season
    from portal.planner.services import run_planner

    rows = []
    for size in args.sizes:
        with tempfile.TemporaryDirectory() as tmp:
            app = create_app(
                {
                    "SQLALCHEMY_DATABASE_URI": f"sqlite:///{Path(tmp) / 'planner.db'}",
                    "SECRET_KEY": "bench",
                    "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000",
                }
            )
            with app.app_context():
                db.create_all()
                load_demo()
                season = generate_season(size, seed=size)
                started = time.monotonic()
                run = run_planner(season, None, time_limit=args.time_limit, workers=args.workers)
                total = time.monotonic() - started
                rows.append(
                    (
                        size,
                        f"{run.placed} ({run.placed_trainees})",
                        f"{run.fcfs_placed} ({run.fcfs_trainees})",
                        run.trainee_bound,
                        run.solver_status,
                        f"{run.gap:.2%}",
                        f"{total - run.seconds:.1f} + {run.seconds:.1f}",
                    )
                )
                db.session.remove()
                db.engine.dispose()
    header = (
        "requests",
        "planner: placed (trainees)",
        "first come: placed (trainees)",
        "bound (trainees)",
        "status",
        "gap",
        "seconds (check + solve)",
    )
    print("| " + " | ".join(header) + " |")
    print("|" + "---|" * len(header))
    for row in rows:
        print("| " + " | ".join(str(cell) for cell in row) + " |")


if __name__ == "__main__":
    main()
