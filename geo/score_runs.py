"""Score runs in PostGIS: store a run, find the latest and the published one, compare runs.

A stored run keeps who, when, method, parameters, data counts and metrics, and each
resident's score, tier, features and contributions.

Length: the run's write path (digest, packed vectors, one COPY into its own partition) and
its read-back (changes, labels, explanations) share the storage format; apart, each half
would have to know the other's.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from dataclasses import dataclass
from itertools import chain

import numpy as np
import pandas as pd
import pyarrow as pa
from sqlalchemy import text
from sqlalchemy.orm import Session

from geo.db import copy_arrow_chunks
from geo.features import CRISIS_LABEL_SQL, VISITED_BY_END_OF_SQL, FeatureTable
from geo.mapdata.aggregates import build_run_aggregates
from geo.mapdata.tile_points import build_tile_points, has_tile_points
from geo.scope import Scope
from scoring.explain import reasons
from scoring.features import CONTACT_OUTCOMES, MET_OUTCOMES
from visitmap.errors import NotFound
from visitmap.vocab import TIER_NAMES


def pack_vectors(matrix: np.ndarray) -> pa.StringArray:
    r"""Return each row as PostgreSQL bytea hex text (``\x`` + little-endian float32), vectorised.

    Returns an Arrow string array (built from one buffer: no Python object per row).
    """
    values = np.ascontiguousarray(matrix, dtype="<f4")
    rows, width = values.shape
    size = 2 + 8 * width
    hex_digits = np.frombuffer(values.tobytes().hex().encode("ascii"), dtype=np.uint8)
    out = np.empty((rows, size), dtype=np.uint8)
    out[:, 0], out[:, 1] = ord("\\"), ord("x")
    out[:, 2:] = hex_digits.reshape(rows, size - 2)
    offsets = np.arange(0, rows * size + 1, size, dtype=np.int32)
    return pa.StringArray.from_buffers(rows, pa.py_buffer(offsets), pa.py_buffer(out))


def unpack_vectors(blob: bytes) -> np.ndarray:
    """Return a stored vector (bytea) back as float32 values."""
    return np.frombuffer(bytes(blob), dtype="<f4")


class DigestStream:
    """The SHA-256 digest of a run's inputs, fed chunk by chunk (issue 15).

    Each part (the residents' id lengths, their bytes, the float64 feature values, each due-date
    input column) is hashed as one stream over every chunk in order; the digest is the hash of
    the parameters, the feature names and each part's hash. So the digest does not depend on how
    the rows were cut into chunks: a chunked rescore and a one-chunk one give the same digest.

    Parameters
    ----------
    parameters : dict
        The run's parameters.
    feature_names : list of str
        The feature columns.
    """

    def __init__(self, parameters: dict, feature_names):
        self._head = hashlib.sha256()
        self._head.update(json.dumps(parameters, sort_keys=True, default=str).encode())
        self._head.update("\x1f".join(feature_names).encode())
        self._lengths, self._ids, self._values = (hashlib.sha256() for _ in range(3))
        self._due: dict[str, hashlib._Hash] = {}

    def update(self, features: pd.DataFrame, due_inputs: pd.DataFrame | None = None) -> None:
        """Add rows (in id order): the features by resident id, and their due-date inputs."""
        ids = pa.array(features.index.astype(str), type=pa.large_string())
        ids = ids.combine_chunks() if isinstance(ids, pa.ChunkedArray) else ids
        # the ids' bytes and lengths (a slice shares its parent's buffers: rebased)
        _, offsets, data = ids.buffers()
        bounds = np.frombuffer(offsets, dtype=np.int64)[ids.offset : ids.offset + len(ids) + 1]
        start, end = (int(bounds[0]), int(bounds[-1])) if len(bounds) else (0, 0)
        self._lengths.update(np.ascontiguousarray(np.diff(bounds)))
        self._ids.update(memoryview(data)[start:end] if data is not None else b"")
        self._values.update(np.ascontiguousarray(features.to_numpy(dtype="<f8")))
        if due_inputs is not None:
            for name in due_inputs.columns:
                column = due_inputs[name].to_numpy()
                if column.dtype.kind == "M":
                    column = column.astype("datetime64[D]").view(np.int64)
                self._due.setdefault(name, hashlib.sha256()).update(np.ascontiguousarray(column))

    def hexdigest(self) -> str:
        """Return the digest of everything added so far."""
        digest = hashlib.sha256(self._head.digest())
        for part in (self._lengths, self._ids, self._values):
            digest.update(part.digest())
        for name, part in self._due.items():
            digest.update(name.encode())
            digest.update(part.digest())
        return digest.hexdigest()


def inputs_digest(features: pd.DataFrame, parameters: dict, due_inputs=None) -> str:
    """Return a SHA-256 hex digest of a run's inputs: equal digests mean the same inputs.

    The digest is over the parameters, the feature names, the resident ids and the float64
    values in the table's row order, and ``due_inputs`` (a DataFrame of the due-date rule's
    other inputs, e.g. the last visit, the next visit date set on the form and the day each
    resident entered its previous tier, in the same row order): :class:`DigestStream` with
    one chunk, so a chunked rescore gives the same digest.

    :func:`geo.features.load_features` returns its rows sorted by database id, whatever order
    PostgreSQL produced them in, so the same inputs give the same digest.
    """
    stream = DigestStream(parameters, list(features.columns))
    stream.update(features, due_inputs)
    return stream.hexdigest()


def _finite(values: dict) -> dict:
    """JSON has no NaN: undefined metrics (e.g. precision of an empty tier) become null."""
    return {
        k: (None if isinstance(v, float) and not np.isfinite(v) else v) for k, v in values.items()
    }


def latest_run_id(session: Session) -> int | None:
    """Return the newest score run's id, or None."""
    return session.execute(text("SELECT max(id) FROM score_runs")).scalar()


#: The label rule (:data:`geo.features.CRISIS_LABEL_SQL`), per visited resident (database
#: id): 1 = a visit up to :as_of confirmed a crisis; 0 = met at least once and no crisis
#: confirmed. Residents never met have no row.
LABELS_SQL = f"""
    SELECT v.resident_id, {CRISIS_LABEL_SQL} AS crisis
    FROM visits v
    WHERE v.visited_at < {VISITED_BY_END_OF_SQL}
    GROUP BY v.resident_id
    HAVING {CRISIS_LABEL_SQL} IS NOT NULL"""


def load_visit_labels(session: Session, scope: Scope, *, as_of: dt.date) -> pd.Series:
    """Return the labels from recorded visit outcomes up to ``as_of`` (:data:`LABELS_SQL`).

    The Series is indexed by resident external id, for the residents in ``scope``; residents
    never met are absent.
    """
    scope_sql, scope_params = scope.sql()
    rows = session.execute(
        text(f"""
        SELECT r.external_id, l.crisis
        FROM ({LABELS_SQL}) l JOIN residents r ON r.id = l.resident_id
        JOIN households h ON h.id = r.household_id JOIN areas a ON a.id = h.area_id
        WHERE true{scope_sql}"""),
        {"as_of": as_of} | scope_params,
    ).all()
    return pd.Series({r[0]: r[1] for r in rows}, name="crisis_confirmed", dtype="int64")


def load_window_labels(
    session: Session, scope: Scope, *, after: dt.date, until: dt.date
) -> pd.Series:
    """Return labels from the visits of the Korean days after ``after`` up to ``until``.

    The time split's labels (issue 14): features as of ``after``, outcomes after it, so a
    visit that confirms a crisis cannot also shape the features it is judged by. 1 if a visit
    in the window confirmed a crisis, 0 if the resident was met in it without one; residents
    not met in the window are absent. Indexed by resident external id, within ``scope``.
    """
    scope_sql, scope_params = scope.sql()
    rows = session.execute(
        text(f"""
        SELECT r.external_id, {CRISIS_LABEL_SQL} AS crisis
        FROM visits v JOIN residents r ON r.id = v.resident_id
        JOIN households h ON h.id = r.household_id JOIN areas a ON a.id = h.area_id
        WHERE v.visited_at >= ((CAST(:after AS date) + 1)::timestamp AT TIME ZONE 'Asia/Seoul')
          AND v.visited_at < ((CAST(:until AS date) + 1)::timestamp AT TIME ZONE 'Asia/Seoul')
          {scope_sql}
        GROUP BY r.external_id
        HAVING {CRISIS_LABEL_SQL} IS NOT NULL"""),
        {"after": after, "until": until} | scope_params,
    ).all()
    return pd.Series({r[0]: r[1] for r in rows}, name="crisis_confirmed", dtype="int64")


def labels_of(table: FeatureTable) -> pd.Series:
    """Return the labels of the residents of ``table`` who were met, in its order.

    They came with the features' visit aggregates: the same rule as :data:`LABELS_SQL`,
    without a second pass over the visits.
    """
    label = table.context["crisis_label"]
    known = label.notna().to_numpy()
    return pd.Series(
        label.to_numpy()[known].astype(np.int64),
        index=table.features.index[known],
        name="crisis_confirmed",
    )


def input_counts(session: Session, residents_scored: int) -> dict[str, int]:
    """Return the row counts kept in a run's record.

    ``residents_scored`` as given; ``households``, ``visits``, ``crisis_signals`` and
    ``facilities`` count the whole tables, whatever the run's scope.
    """
    counts = {"residents_scored": int(residents_scored)}
    for name in ("households", "visits", "crisis_signals", "facilities"):
        counts[name] = session.execute(text(f"SELECT count(*) FROM {name}")).scalar_one()
    return counts


@dataclass(frozen=True)
class StoredRun:
    """What :func:`store_run` stored.

    Attributes
    ----------
    run_id : int
        The new run's id.
    previous_run_id : int or None
        The run it follows.
    tier_counts : dict of str to int
        Residents per tier name.
    inputs_digest : str
        :func:`inputs_digest` of the run's inputs.
    """

    run_id: int
    previous_run_id: int | None
    tier_counts: dict[str, int]
    inputs_digest: str


#: The due-date rule's inputs kept in the inputs digest, beside the features.
DUE_INPUTS = ["last_visit_on", "planned_on", "unreachable_since", "previous_tier_since"]


class RunWriter:
    """Write a score run chunk by chunk: its record, its partition of rows, then its key.

    :func:`store_run` writes a run in one chunk; a chunked rescore (issue 15,
    ``visitmap.usecases.scoring_runs``) calls :meth:`write` once per chunk of residents, in id
    order, so that only one chunk's features are in memory. The run's record is inserted on the
    first chunk and completed (tier counts, digest, metrics, input counts) by :meth:`finish`,
    which also builds the partition's primary key, attaches it and builds the map's aggregates.
    All of it in the caller's transaction.

    Parameters
    ----------
    session : Session
        The transaction to write in (not committed here).
    method, config_version : str
        The scoring method and its configuration's version.
    parameters : dict
        The run's parameters (stored as JSON and hashed into the inputs digest).
    created_by : str
        Who ran it.
    scope : Scope
        The scope scored; its dongs are stored (none for everything).
    previous_run_id : int or None
        The run whose tiers were the previous tiers.
    as_of : date
        The day the run scores at.
    progress : optional
        A progress bar updated with the rows written (``update(n)``).
    """

    def __init__(
        self, session: Session, *, method: str, config_version: str, parameters: dict,
        created_by: str, scope: Scope, previous_run_id: int | None, as_of: dt.date,
        progress=None,
    ):  # fmt: skip
        self.session = session
        self.record = {
            "created_by": created_by,
            "method": method,
            "config_version": config_version,
            "parameters": json.dumps(parameters, default=str),
            "as_of": as_of,
            "scope_codes": None if scope.is_everything else sorted(scope.area_codes or []),
            "previous_run_id": previous_run_id,
        }
        self.parameters = parameters
        self.previous_run_id = previous_run_id
        self.as_of = as_of
        self.progress = progress
        self.run_id: int | None = None
        self.digest: DigestStream | None = None
        self.counts = {name: 0 for name in TIER_NAMES.values()}
        self.rows = 0

    def _begin(self, feature_names: list[str]) -> None:
        self.digest = DigestStream(self.parameters, feature_names)
        self.run_id = self.session.execute(
            text("""
            INSERT INTO score_runs (created_by, method, config_version, parameters, as_of,
                scope_codes, previous_run_id, feature_names, input_counts, inputs_digest,
                tier_counts, metrics)
            VALUES (:created_by, :method, :config_version, CAST(:parameters AS jsonb), :as_of,
                :scope_codes, :previous_run_id, :feature_names, '{}', '', '{}', '{}')
            RETURNING id"""),
            self.record | {"feature_names": feature_names},
        ).scalar_one()
        partition = f"resident_scores_run_{int(self.run_id)}"
        self.session.execute(
            text(
                f"CREATE TABLE {partition} (LIKE resident_scores INCLUDING DEFAULTS "
                f"INCLUDING CONSTRAINTS, CONSTRAINT ck_{partition}_run "
                f"CHECK (run_id = {int(self.run_id)}))"
            )
        )

    def write(
        self, table: FeatureTable, *, scores, tiers, contributions, next_due, tier_since=None
    ) -> None:
        """Write one chunk of residents (after the previous chunk's, in id order).

        Parameters
        ----------
        table : FeatureTable
            The chunk's features; its rows give the order of the arrays below.
        scores, tiers : ndarray
            Each resident's score and tier code.
        contributions : ndarray
            Each resident's contribution per feature (residents x features).
        next_due : ndarray
            Each resident's due date (datetime64[D]).
        tier_since : ndarray, optional
            The day each resident entered its tier (datetime64[D]); default the run's as_of.
        """
        features = table.features
        if self.run_id is None:
            self._begin(list(features.columns))
        tiers = np.asarray(tiers, dtype=int)
        for code, name in TIER_NAMES.items():
            self.counts[name] += int((tiers == code).sum())
        self.rows += len(features)
        self.digest.update(features, table.context[DUE_INPUTS])
        db_ids = table.context["db_id"].to_numpy(dtype=np.int64)
        values, contributions = features.to_numpy(dtype=float), np.asarray(contributions)
        scores = np.asarray(scores, dtype=float)
        if tier_since is None:
            tier_since = np.full(len(db_ids), np.datetime64(self.as_of, "D"))
        run_id = int(self.run_id)

        def chunks(rows: int = 100_000):
            """Yield the rows as Arrow tables of ``rows`` rows.

            Packing a chunk's vectors overlaps with PostgreSQL parsing the previous chunk
            (geo.db.copy_arrow_chunks).
            """
            for start in range(0, len(db_ids), rows):
                part = slice(start, start + rows)
                yield pa.table(
                    {
                        "run_id": pa.array(np.full(len(db_ids[part]), run_id, dtype=np.int32)),
                        "resident_id": pa.array(db_ids[part]),
                        "score": pa.array(scores[part]),
                        "tier": pa.array(tiers[part].astype(np.int16)),
                        "next_due_on": pa.array(next_due[part], type=pa.date32()),
                        "features": pack_vectors(values[part]),
                        "contributions": pack_vectors(contributions[part]),
                        "tier_since": pa.array(tier_since[part], type=pa.date32()),
                    }
                )

        parts = chunks()
        first = next(parts, None)
        if first is not None:
            copy_arrow_chunks(
                self.session, f"resident_scores_run_{run_id}", first.column_names,
                chain([first], parts), progress=self.progress,
            )  # fmt: skip

    def finish(self, metrics: dict) -> StoredRun:
        """Complete the run's record, key and attach its partition, build its aggregates.

        Parameters
        ----------
        metrics : dict
            The run's metrics; non-finite values are stored as null.

        Returns
        -------
        StoredRun
            The run's id, previous run, tier counts and inputs digest.
        """
        if self.run_id is None:
            raise ValueError("no chunk was written")
        run_id = int(self.run_id)
        digest = self.digest.hexdigest()
        counts = input_counts(self.session, self.rows)
        self.session.execute(
            text("""UPDATE score_runs SET inputs_digest = :digest,
                tier_counts = CAST(:tier_counts AS jsonb), metrics = CAST(:metrics AS jsonb),
                input_counts = CAST(:input_counts AS jsonb)
            WHERE id = :id"""),
            {
                "id": run_id,
                "digest": digest,
                "tier_counts": json.dumps(self.counts),
                "metrics": json.dumps(_finite(metrics)),
                "input_counts": json.dumps(counts),
            },
        )
        _key_and_attach(self.session, run_id)
        build_run_aggregates(self.session, run_id)
        return StoredRun(run_id, self.previous_run_id, dict(self.counts), digest)


def store_run(
    session: Session,
    table: FeatureTable,
    *,
    scores: np.ndarray,
    tiers: np.ndarray,
    contributions: np.ndarray,
    method: str,
    config_version: str,
    parameters: dict,
    created_by: str,
    scope: Scope,
    previous_run_id: int | None,
    metrics: dict,
    next_due: np.ndarray,
    progress=None,
    tier_since: np.ndarray | None = None,
) -> StoredRun:
    """Write a run and every resident's score in one chunk (:class:`RunWriter`).

    The map's aggregates of the run (:func:`geo.mapdata.aggregates.build_run_aggregates`) are
    built in the same transaction, so that reading the map never writes. The parameters are
    those of :class:`RunWriter` and :meth:`RunWriter.write`; ``metrics`` as in
    :meth:`RunWriter.finish`.

    Returns
    -------
    StoredRun
        The run's id, previous run, tier counts and inputs digest.
    """
    writer = RunWriter(
        session, method=method, config_version=config_version, parameters=parameters,
        created_by=created_by, scope=scope, previous_run_id=previous_run_id,
        as_of=table.as_of, progress=progress,
    )  # fmt: skip
    writer.write(
        table, scores=scores, tiers=tiers, contributions=contributions, next_due=next_due,
        tier_since=tier_since,
    )  # fmt: skip
    return writer.finish(metrics)


def _key_and_attach(session: Session, run_id: int) -> None:
    """Give a written partition its primary key, attach it to resident_scores, analyse it."""
    partition = f"resident_scores_run_{int(run_id)}"
    session.execute(
        text(
            f"ALTER TABLE {partition} ADD CONSTRAINT pk_{partition} "
            "PRIMARY KEY (run_id, resident_id)"
        )
    )
    session.execute(
        text(
            f"ALTER TABLE resident_scores ATTACH PARTITION {partition} "
            f"FOR VALUES IN ({int(run_id)})"
        )
    )
    # statistics now, or the first tiles' plans are poor until autovacuum gets to the table
    session.execute(text(f"ANALYZE {partition}"))


def run_changes(session: Session, run_id: int, scope: Scope) -> pd.DataFrame:
    """Return the residents in ``scope`` whose tier differs from the run's previous run.

    Columns: resident_id (external), area_code, previous_tier, tier (codes; previous_tier is
    NA for residents not scored before).
    """
    scope_sql, scope_params = scope.sql()
    return pd.read_sql_query(
        text(f"""
        SELECT r.external_id AS resident_id, a.code AS area_code,
               p.tier AS previous_tier, s.tier
        FROM score_runs run
        JOIN resident_scores s ON s.run_id = run.id
        LEFT JOIN resident_scores p ON p.run_id = run.previous_run_id
                                   AND p.resident_id = s.resident_id
        JOIN residents r ON r.id = s.resident_id
        JOIN households h ON h.id = r.household_id JOIN areas a ON a.id = h.area_id
        WHERE run.id = :run_id AND p.tier IS DISTINCT FROM s.tier{scope_sql}
        ORDER BY r.external_id"""),
        session.connection(),
        params={"run_id": run_id} | scope_params,
        dtype={"previous_tier": "Int64"},
    )


def _none_on_record_sql() -> str:
    """Return the SQL of the columns never_met and never_contacted of resident ``r``.

    True when there is no such visit by the end of the run's day (the features' day): the
    reasons then say so instead of a count of days (scoring.explain).
    """
    by_end = "((run.as_of + 1)::timestamp AT TIME ZONE 'Asia/Seoul')"
    columns = []
    for name, outcomes in (("never_met", MET_OUTCOMES), ("never_contacted", CONTACT_OUTCOMES)):
        listed = ", ".join(f"'{o}'" for o in outcomes)
        columns.append(
            f"NOT EXISTS (SELECT 1 FROM visits v WHERE v.resident_id = r.id AND v.outcome IN "
            f"({listed}) AND v.visited_at < {by_end}) AS {name}"
        )
    return ", ".join(columns)


_NONE_ON_RECORD_SQL = _none_on_record_sql()


def resident_explanation(
    session: Session, scope: Scope, resident_id: str, *, run_id: int | None = None
) -> dict | None:
    """Return a resident's score, tier, next due date and top three reasons from a stored run.

    The run is ``run_id`` (default: the published run); None if there is no run, or the
    resident is unknown, not scored in it or outside ``scope``. Reasons come in Korean and English.

    Reasons are the features with the largest positive contributions, worded from the
    feature values stored with the run (:func:`scoring.explain.reasons`); a resident with no
    met visit (no visit that reached them) by the run's day reads "방문 기록 없음" ("연락
    기록 없음") rather than days counted from the registration.
    """
    run_id = run_id if run_id is not None else published_run_id(session)
    if run_id is None:
        return None
    scope_sql, scope_params = scope.sql()
    row = (
        session.execute(
            text(f"""
        SELECT r.external_id, a.code, s.score, s.tier, s.next_due_on, s.features,
               s.contributions, run.feature_names, run.method, run.id AS run_id,
               {_NONE_ON_RECORD_SQL}
        FROM resident_scores s JOIN score_runs run ON run.id = s.run_id
        JOIN residents r ON r.id = s.resident_id
        JOIN households h ON h.id = r.household_id JOIN areas a ON a.id = h.area_id
        WHERE s.run_id = :run_id AND r.external_id = :resident_id{scope_sql}"""),
            {"run_id": run_id, "resident_id": resident_id} | scope_params,
        )
        .mappings()
        .one_or_none()
    )
    if row is None:
        return None
    names = list(row["feature_names"])
    values = unpack_vectors(row["features"]).astype(float)
    contributions = unpack_vectors(row["contributions"]).astype(float)
    order = [names[j] for j in np.argsort(-contributions, kind="stable") if contributions[j] > 0]
    reasons_ko, reasons_en = reasons(
        order,
        dict(zip(names, values, strict=True)),
        top=3,
        never_met=row["never_met"],
        never_contacted=row["never_contacted"],
    )
    return {
        "resident_id": row["external_id"],
        "area_code": row["code"],
        "run_id": row["run_id"],
        "method": row["method"],
        "score": float(row["score"]),
        "tier": int(row["tier"]),
        "tier_name": TIER_NAMES[int(row["tier"])],
        "next_due_on": row["next_due_on"],
        "reasons_ko": reasons_ko,
        "reasons_en": reasons_en,
        "contributions": dict(zip(names, contributions.tolist(), strict=True)),
    }


# --- publishing: a run is a draft until published (docs/publishing.md) ----------------------


#: The published run's id as an SQL scalar subquery (NULL when none is published).
PUBLISHED_RUN_SQL = """(SELECT id FROM score_runs WHERE published_at IS NOT NULL
        ORDER BY published_at DESC, id DESC LIMIT 1)"""


def published_run_id(session: Session) -> int | None:
    """Return the run the map, the planner and the field pages use, or None.

    It is the most recently published run (by ``published_at``, then id); drafts (never
    published) are left out. None when no run has been published.
    """
    return session.execute(text(f"SELECT {PUBLISHED_RUN_SQL}")).scalar()


@dataclass(frozen=True)
class Publication:
    """What :func:`publish_run` did.

    Attributes
    ----------
    run_id : int
        The run now published.
    published_at : datetime
        When it was published (aware).
    published_by : str
        Who published it.
    previous_run_id : int or None
        The run published before it (None if none; the run itself when nothing changed).
    changed : bool
        False when the run was the published run already (nothing was written).
    """

    run_id: int
    published_at: dt.datetime
    published_by: str
    previous_run_id: int | None
    changed: bool


def publish_run(session: Session, run_id: int, by: str) -> Publication:
    """Make score run ``run_id`` the published run, in the caller's transaction.

    Publishing the run that is published already changes nothing (its first publication
    keeps its time and author). Publishing any other run, a draft or one published before,
    stamps it with the current time (``clock_timestamp()``, so that two publications in one
    transaction keep their order) and ``by``: it becomes the most recent publication, which
    is how an earlier run is put back. The run's tile layer is written (and the previous run's
    dropped): geo.mapdata.tile_points.

    Raises
    ------
    visitmap.errors.NotFound
        If no run has the id.
    """
    exists = session.execute(
        text("SELECT id FROM score_runs WHERE id = :id FOR UPDATE"), {"id": int(run_id)}
    ).scalar()
    if exists is None:
        raise NotFound(f"score run {run_id} does not exist")
    current = published_run_id(session)
    if current != run_id:
        session.execute(
            text("""UPDATE score_runs SET published_at = clock_timestamp(), published_by = :by
            WHERE id = :id"""),
            {"id": int(run_id), "by": by},
        )
    if current != run_id or not has_tile_points(session, run_id):
        build_tile_points(session, run_id)  # the resident tiles' layer (issue 15)
    row = session.execute(
        text("SELECT published_at, published_by FROM score_runs WHERE id = :id"),
        {"id": int(run_id)},
    ).one()
    return Publication(int(run_id), row[0], row[1], current, current != run_id)


def visits_since_run(session: Session, run_id: int) -> list[tuple[int, int, dt.date]]:
    """Return the visits a run has not seen, one per resident: the resident's latest.

    They are the visits recorded through the form, the API or the command line
    (``recorded_at`` set) after the run was stored, of residents scored in the run, that have
    not rescored the run already (no row in ``score_updates`` for the run). Each is
    (resident database id, visit id, visit day in Seoul), by resident id.
    """
    rows = session.execute(
        text("""
        SELECT DISTINCT ON (v.resident_id) v.resident_id, v.id,
               (v.visited_at AT TIME ZONE 'Asia/Seoul')::date
        FROM visits v
        JOIN score_runs run ON run.id = :run_id
        JOIN resident_scores s ON s.run_id = run.id AND s.resident_id = v.resident_id
        WHERE v.recorded_at >= run.created_at
          AND NOT EXISTS (SELECT 1 FROM score_updates u
                          WHERE u.run_id = run.id AND u.visit_id = v.id)
        ORDER BY v.resident_id, v.visited_at DESC, v.id DESC"""),
        {"run_id": int(run_id)},
    ).all()
    return [(int(r[0]), int(r[1]), r[2]) for r in rows]
