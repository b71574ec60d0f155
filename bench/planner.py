"""The season planner's benchmark: planner vs first come, first served vs the proven bound.

For each size (20, 60 and 150 requests by default) and seed (the size itself by default): a
fresh SQLite database with the demo consortium (scale 1), a generated season
(portal/planner/generate.py), then one timed run of the planner exactly as the office runs
it (``services.run_planner``: check the candidates, solve, replay first come, first served
in submission order over the same candidates, store the plan). Prints one row per season:

- requests, how many of them have at least one candidate that fits on its own (no plan
  can place the others), and the candidates (the model's booleans);
- requests placed (and trainees seated) by the planner and by first come, first served;
- the proven bounds: the run's own, in trainees (its objective seats trainees first), and,
  from a second solve that maximizes the number of requests placed (not timed), the most
  requests any plan could place;
- the solver's status and gap, the run's wall-clock seconds (of which solving), and
  whether the issue's target holds: proven optimal or gap ≤ 1 % within the time limit,
  and more requests placed than first come whenever first come leaves a placeable one out.

Other processes share the machine's cores: the load average (/proc/loadavg) is printed
before and after.

    .venv/bin/python bench/planner.py --sizes 20 60 150 --time-limit 30 --workers 2
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path


def loadavg() -> str:
    try:
        return " ".join(Path("/proc/loadavg").read_text().split()[:3])
    except OSError:
        return "unknown"


def request_bound(season, time_limit: int, workers: int) -> tuple[int, int, str]:
    """(requests with a candidate, the most requests any plan can place, its solver status)."""
    from portal.planner import services, solver

    active = [r for r in season.requests if r.status == "submitted" and not r.excluded]
    templates = {t.id: t for t in services.published_templates()}
    context = solver.season_context(list(templates.values()), season.starts_on, season.ends_on)
    candidates, _reasons = solver.build_candidates(active, templates, context)
    # Every request counted as one trainee: the objective then places the most requests.
    demands = [solver.Demand(r.id, 1) for r in active]
    answer = solver.optimize(
        demands,
        candidates,
        solver.limits_for(context, templates),
        time_limit=time_limit,
        workers=workers,
    )
    return len({c.request_id for c in candidates}), answer.trainee_bound, answer.status


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[20, 60, 150])
    parser.add_argument(
        "--seeds", type=int, nargs="+", help="generator seeds (default: the size itself)"
    )
    parser.add_argument("--time-limit", type=int, default=30)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()

    from portal import create_app
    from portal.demo import load_demo
    from portal.extensions import db
    from portal.planner.generate import generate_season
    from portal.planner.services import run_planner

    print(f"load average before: {loadavg()}")
    rows = []
    for size in args.sizes:
        for seed in args.seeds or [size]:
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
                    season = generate_season(size, seed=seed)
                    started = time.monotonic()
                    run = run_planner(
                        season, None, time_limit=args.time_limit, workers=args.workers
                    )
                    total = time.monotonic() - started
                    placeable, most, most_status = request_bound(
                        season, args.time_limit, args.workers
                    )
                    proven = run.solver_status == "OPTIMAL" or (
                        run.solver_status == "FEASIBLE" and run.gap <= 0.01
                    )
                    beats = run.fcfs_placed >= placeable or run.placed > run.fcfs_placed
                    target = proven and total <= args.time_limit and beats
                    rows.append(
                        (
                            size,
                            seed,
                            placeable,
                            run.candidates,
                            f"{run.placed} ({run.placed_trainees})",
                            f"{run.fcfs_placed} ({run.fcfs_trainees})",
                            run.trainee_bound,
                            most if most_status == "OPTIMAL" else f"≤ {most} ({most_status})",
                            run.solver_status,
                            f"{run.gap:.2%}",
                            f"{total:.1f} ({run.seconds:.1f})",
                            "yes" if target else "NO",
                        )
                    )
                    db.session.remove()
                    db.engine.dispose()
    header = (
        "requests",
        "seed",
        "placeable alone",
        "candidates",
        "planner: placed (trainees)",
        "first come: placed (trainees)",
        "bound: trainees",
        "bound: requests",
        "status",
        "gap",
        "seconds (solving)",
        "target met",
    )
    print("| " + " | ".join(header) + " |")
    print("|" + "---|" * len(header))
    for row in rows:
        print("| " + " | ".join(str(cell) for cell in row) + " |")
    print(f"load average after: {loadavg()}")


if __name__ == "__main__":
    main()
