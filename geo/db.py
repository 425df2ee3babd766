"""Engine and session helpers. Nothing connects until a function here is called."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ProgrammingError
from sqlalchemy.orm import Session

from geo.settings import default_pgpassfile


def make_engine(database_url: str, **kwargs) -> Engine:
    """Create an SQLAlchemy engine for ``database_url`` (psycopg 3 driver).

    Passwords come from libpq's password file, not from the URL: ``PGPASSFILE`` or
    ``~/.pgpass`` as libpq finds them, or the project cluster's (``var/pgpass``, written by
    scripts/pgcluster.sh) when it holds an entry for the URL's host and port.
    """
    passfile = project_pgpassfile_for(database_url)
    if passfile is not None:
        connect_args = dict(kwargs.pop("connect_args", None) or {})
        connect_args.setdefault("passfile", str(passfile))
        kwargs["connect_args"] = connect_args
    kwargs.setdefault("pool_pre_ping", True)
    return create_engine(database_url, **kwargs)


def project_pgpassfile_for(database_url: str):
    """Return the project's password file if it serves ``database_url``, else None.

    The file is :func:`geo.settings.default_pgpassfile`; it serves the URL when the URL
    carries no password and the file can be read and has an entry for the URL's host and
    port (default ``localhost``, 5432; ``*`` matches any).
    """
    url = make_url(database_url)
    passfile = default_pgpassfile()
    if passfile is None or url.password is not None:
        return None
    host, port = url.host or "localhost", str(url.port or 5432)
    try:
        lines = passfile.read_text(encoding="utf-8").splitlines()
    except OSError:  # e.g. the web service, which has dropped the right to read it
        return None
    for line in lines:
        fields = line.split(":")
        if len(fields) >= 5 and fields[0] in (host, "*") and fields[1] in (port, "*"):
            return passfile
    return None


@contextmanager
def session_scope(engine: Engine) -> Iterator[Session]:
    """Yield a session in one transaction: committed on success, rolled back on error."""
    with Session(engine) as session, session.begin():
        yield session


def raw_connection(session: Session):
    """Return the psycopg connection under ``session`` (same transaction), for COPY."""
    return session.connection().connection.driver_connection


def read_query_frame(
    session: Session,
    sql: str,
    params: dict | None = None,
    *,
    text_columns=(),
    date_as_object: bool = True,
):
    """Run ``sql`` and return a pandas DataFrame, fast for millions of rows.

    The result streams as ``COPY (query) TO STDOUT`` CSV (parameters merged client-side by
    psycopg) and is parsed by Arrow; column types come from the CSV text (numbers, dates,
    text), except ``text_columns``, which stay text (codes like ``1141052000``). Dates come
    as ``datetime.date`` objects, or as datetime64 columns with ``date_as_object=False``
    (no Python object per value: faster for millions of rows). Use for large, flat results;
    the caller's transaction is used.
    """
    import io

    import pyarrow as pa
    import pyarrow.csv as pa_csv

    cursor = raw_connection(session).cursor()
    buffer = io.BytesIO()
    with cursor.copy(f"COPY ({sql}) TO STDOUT (FORMAT csv, HEADER true)", params) as copy:
        for chunk in copy:
            buffer.write(chunk)
    buffer.seek(0)
    options = pa_csv.ConvertOptions(column_types={c: pa.string() for c in text_columns})
    return pa_csv.read_csv(buffer, convert_options=options).to_pandas(date_as_object=date_as_object)


def copy_arrow(session: Session, target: str, table, *, progress=None, chunk_rows=100_000):
    """COPY an Arrow table into ``target`` (its column names), in the session's transaction.

    The CSV text comes from Arrow's C++ writer: nulls as empty fields, booleans true/false,
    dates ISO, timestamps in UTC, all of which PostgreSQL's CSV COPY reads directly.
    """
    chunks = (table.slice(start, chunk_rows) for start in range(0, table.num_rows, chunk_rows))
    copy_arrow_chunks(session, target, table.column_names, chunks, progress=progress)


def copy_arrow_chunks(session: Session, target: str, columns, chunks, *, progress=None) -> None:
    """COPY Arrow tables produced one after the other by ``chunks`` into ``target``.

    A writer thread sends each chunk while the next is being produced (psycopg's
    ``QueuedLibpqWriter``), so the caller's work on a chunk (e.g. packing vectors) overlaps
    with PostgreSQL parsing the previous one.
    """
    import io

    import pyarrow.csv as pa_csv
    from psycopg.copy import QueuedLibpqWriter

    names = ", ".join(f'"{c}"' for c in columns)
    options = pa_csv.WriteOptions(include_header=False, quoting_style="needed")
    cursor = raw_connection(session).cursor()
    statement = f"COPY {target} ({names}) FROM STDIN (FORMAT csv)"
    with cursor.copy(statement, writer=QueuedLibpqWriter(cursor)) as copy:
        for chunk in chunks:
            buffer = io.BytesIO()
            pa_csv.write_csv(chunk, buffer, options)
            copy.write(buffer.getbuffer())
            if progress is not None:
                progress.update(chunk.num_rows)


def ping(session: Session) -> None:
    """Ask the database for nothing, so that a health check fails when it is unreachable.

    Parameters
    ----------
    session : Session
        Any session.
    """
    session.execute(text("SELECT 1"))


def drop_database(conn, name: str, *, tries: int = 40) -> None:
    """``DROP DATABASE IF EXISTS name WITH (FORCE)`` on an AUTOCOMMIT connection.

    Tried again while it is refused for a backend of another role: an autovacuum worker on
    that database runs as the superuser, which a non-superuser role cannot terminate, and it
    ends within moments (scratch databases of the tests and benches).
    """
    for attempt in range(tries):
        try:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            return
        except ProgrammingError as exc:
            if getattr(exc.orig, "sqlstate", None) != "42501" or attempt == tries - 1:
                raise
            time.sleep(0.25)
