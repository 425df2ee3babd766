"""Where a whole rescore's time goes: ``score_residents`` (visitmap.usecases.scoring_runs), timed
step by step.

    .venv/bin/python bench/score_phases.py [--database visitmap_city]
    .venv/bin/python bench/score_phases.py --tiny   # 200 residents in a scratch database

Wraps the steps of the rescore (feature queries, fit, scores and contributions, digest,
packing, the COPY with key and attach, ...) with timers and runs it once inside a
transaction that is rolled back. Steps nest (RunWriter.write contains the digest, the packing
and the partition write), so the lines do not add up to the total. Needs the city-scale demo
(see bench/score_bench.py); ``--tiny`` makes a scratch database of 200 residents instead (as
score_bench.py does) and drops it afterwards.
"""

from __future__ import annotations

import argparse
import datetime as dt
import functools
import time

from sqlalchemy.orm import Session

import geo.score_runs as score_runs
import scoring.cadence as cadence
import scoring.weighted as weighted
import visitmap.usecases.scoring_runs as scoring_runs
from geo.db import make_engine
from geo.scope import Scope
from scoring.config import default_config

from _scratch import bench_database

#: Where each step is looked up when it is called (the use-case imports its steps by name).
STEPS = {
    scoring_runs: ("load_features", "labels_of", "score_table", "due_dates", "label_metrics"),
    # issue 15: a run is written chunk by chunk (RunWriter.write), then keyed and attached
    score_runs.RunWriter: ("write", "finish"),
    score_runs.DigestStream: ("update",),
    score_runs: ("pack_vectors", "copy_arrow_chunks", "_key_and_attach", "build_run_aggregates"),
    cadence: ("next_visits", "follow_up_due"),
    weighted.WeightedIndexScorer: ("fit", "scores_and_contributions"),
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database", help="default visitmap_city (--tiny: visitmap_bench_tiny)")
    parser.add_argument("--as-of", default="2026-11-22")
    parser.add_argument("--tiny", action="store_true", help="a scratch database of 200 residents")
    args = parser.parse_args()
    as_of = dt.date.fromisoformat(args.as_of)
    with bench_database(args.database, tiny=args.tiny) as url:
        measure(url, as_of)


def measure(url: str, as_of: dt.date) -> None:
    times: dict[str, float] = {}

    def timed(name, fn):
        @functools.wraps(fn)
        def wrapper(*a, **k):
            start = time.perf_counter()
            try:
                return fn(*a, **k)
            finally:
                times[name] = times.get(name, 0.0) + time.perf_counter() - start

        return wrapper

    for owner, names in STEPS.items():
        for name in names:
            setattr(owner, name, timed(name, getattr(owner, name)))
    import sklearn.metrics  # noqa: F401  (imported by the rescore; not its cost)

    engine = make_engine(url)
    with Session(engine) as session:
        start = time.perf_counter()
        result = scoring_runs.score_residents(
            session,
            Scope.everything(),
            method="weighted",
            config=default_config(),
            as_of=as_of,
            created_by="bench",
        )
        total = time.perf_counter() - start
        session.rollback()
    print(f"residents scored: {sum(result.stored.tier_counts.values()):,}")
    for name, seconds in sorted(times.items(), key=lambda item: -item[1]):
        print(f"{name:<28} {seconds:7.2f} s")
    for name in [name for names in STEPS.values() for name in names if name not in times]:
        print(f"{name:<28} not called (a step renamed or gone? update STEPS)")
    print(f"{'whole rescore':<28} {total:7.2f} s")
    engine.dispose()


if __name__ == "__main__":
    main()
