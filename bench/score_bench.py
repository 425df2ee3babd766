"""Benchmark: rescore every resident (features, score, tiers, write-back) beside its bare parts.

    .venv/bin/python bench/score_bench.py [--database visitmap_city]
    .venv/bin/python bench/score_bench.py --tiny   # 200 residents in a scratch database

Needs a database holding the city-scale demo, e.g.:

    scripts/pgcluster.sh createdb visitmap_city
    VISITMAP_DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:54329/visitmap_city \\
        .venv/bin/visitmap db upgrade
    VISITMAP_DATABASE_URL=... .venv/bin/visitmap demo load --dir var/city --scale 1000000 \\
        --region seoul

Measured in one run, each inside a transaction that is rolled back (nothing is kept):

- in memory: the weighted index's score, tiers and contributions on the feature table;
- the whole rescore: ``visitmap.usecases.scoring_runs.score_residents`` (feature query in
  PostGIS, score, tiers, contributions, COPY of every resident's row into resident_scores);
- its bare parts: reading the same feature table when it is already a table (COPY out), one
  numpy matrix product, and one COPY of the results into an unindexed temporary table.

``--tiny`` makes a scratch database (``--database``, default ``visitmap_bench_tiny``) with
the demo at 200 residents, measures it, and drops it: a check that the bench still runs.
"""

from __future__ import annotations

import argparse
import datetime as dt
import io
import time

import numpy as np
import pyarrow as pa
from sqlalchemy import text
from sqlalchemy.orm import Session

from geo.db import copy_arrow, make_engine, raw_connection, read_query_frame
from geo.features import load_features
from geo.scope import Scope
from geo.score_runs import pack_vectors
from scoring.config import default_config
from scoring.explain import contribution_matrix
from scoring.weighted import WeightedIndexScorer
from visitmap.usecases.scoring_runs import score_residents

from _scratch import bench_database


def timed(label: str, results: dict, fn):
    start = time.perf_counter()
    value = fn()
    results[label] = time.perf_counter() - start
    print(f"{label:<42} {results[label]:8.2f} s", flush=True)
    return value


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
    engine = make_engine(url)
    config = default_config()
    results: dict[str, float] = {}

    with Session(engine) as session:
        table = timed(
            "feature query (PostGIS -> DataFrame)",
            results,
            lambda: load_features(session, Scope.everything(), as_of=as_of),
        )
        features = table.features
        print(f"residents: {len(features):,}; features: {features.shape[1]}")
        scorer = WeightedIndexScorer(config=config).fit(features)
        timed(
            "in memory: score + tiers + contributions",
            results,
            lambda: (
                scorer.score_samples(features),
                scorer.predict(features),
                contribution_matrix(scorer, features, features.columns),
            ),
        )
        session.rollback()

        # bare parts
        session.execute(text("SET LOCAL jit = off"))
        columns = ", ".join(f'"{c}" float8' for c in features.columns)
        session.execute(text(f"CREATE TEMP TABLE bare_features (resident_id text, {columns})"))
        cursor = raw_connection(session).cursor()
        with cursor.copy("COPY bare_features FROM STDIN (FORMAT csv)") as copy:
            buffer = io.StringIO()
            features.to_csv(buffer, header=False)
            copy.write(buffer.getvalue())
        bare = timed(
            "bare: read the feature table (COPY out)",
            results,
            lambda: read_query_frame(
                session, "SELECT * FROM bare_features", text_columns=("resident_id",)
            ),
        )
        matrix = bare.drop(columns="resident_id").to_numpy(dtype=float)
        weights = np.random.default_rng(0).random(matrix.shape[1])
        scores = timed("bare: one matrix product", results, lambda: matrix @ weights)
        session.execute(
            text(
                "CREATE TEMP TABLE bare_scores (resident_id bigint, score float8, "
                "tier smallint, next_due_on date, features bytea, "
                "contributions bytea, tier_since date)"
            )
        )

        def write_bare():
            packed = pack_vectors(matrix)
            tiers = (scores > np.median(scores)).astype(np.int16)
            copy_arrow(
                session,
                "bare_scores",
                pa.table(
                    {
                        "resident_id": pa.array(np.arange(len(scores))),
                        "score": pa.array(scores),
                        "tier": pa.array(tiers),
                        "next_due_on": pa.array([as_of] * len(scores)),
                        "features": pa.array(packed),
                        "contributions": pa.array(packed),
                        "tier_since": pa.array([as_of] * len(scores)),
                    }
                ),
            )

        timed("bare: one COPY of the results", results, write_bare)
        session.rollback()

        timed(
            "whole rescore (score_residents)",
            results,
            lambda: score_residents(
                session,
                Scope.everything(),
                method="weighted",
                config=config,
                as_of=as_of,
                created_by="bench",
            ),
        )
        session.rollback()

    bare_total = sum(v for k, v in results.items() if k.startswith("bare:"))
    whole = results["whole rescore (score_residents)"]
    print(
        f"\nbare parts total {bare_total:.2f} s; whole rescore {whole:.2f} s; "
        f"ratio {whole / bare_total:.2f}x (goal 1.5x)"
    )
    engine.dispose()


if __name__ == "__main__":
    main()
