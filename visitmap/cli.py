"""The ``visitmap`` command.

Length: the top-level commands (status, db, import, demo, score, serve) with their option
parsing; the larger groups live in their own ``*_cli.py`` modules.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import socket
import sys
from pathlib import Path

import click
from sqlalchemy.engine import make_url

from visitmap.errors import VisitmapError


def _engine(settings):

    from geo.db import make_engine

    return make_engine(settings.database_url)


def _safe_url(url: str) -> str:
    return make_url(url).render_as_string(hide_password=True)


@click.group()
def main() -> None:
    """Welfare visit map (복지방문지도)."""


@main.command()
def status() -> None:
    """Print the database in use and the row count of each table."""
    from geo.db import session_scope
    from geo.migrate import current_revision, head_revision
    from geo.queries import table_counts
    from geo.settings import load_settings

    settings = load_settings()
    engine = _engine(settings)
    click.echo(f"database: {_safe_url(settings.database_url)}")
    try:
        revision = current_revision(engine)
    except Exception as exc:  # connection refused, auth, ... : say so plainly
        raise click.ClickException(f"cannot connect to the database: {exc}") from exc
    click.echo(f"schema:   {revision or 'empty'} (newest {head_revision()})")
    with session_scope(engine) as session:
        counts = table_counts(session)
    width = max(len(n) for n in counts)
    for name, count in counts.items():
        click.echo(f"  {name:<{width}}  {'-' if count is None else count:>9}")


@main.group()
def db() -> None:
    """Migrate the database schema."""


@db.command("upgrade")
@click.argument("revision", default="head")
def db_upgrade(revision: str) -> None:
    """Create or upgrade the schema (default: to the newest revision)."""
    from geo.migrate import current_revision, upgrade
    from geo.settings import load_settings

    engine = _engine(load_settings())
    upgrade(engine, revision)
    click.echo(f"schema at {current_revision(engine)}")


@db.command("downgrade")
@click.argument("revision")
def db_downgrade(revision: str) -> None:
    """Take the schema back to REVISION (``base`` drops all tables)."""
    from geo.migrate import current_revision, downgrade
    from geo.settings import load_settings

    engine = _engine(load_settings())
    downgrade(engine, revision)
    click.echo(f"schema at {current_revision(engine) or 'base'}")


@main.command("import")
@click.argument(
    "kind",
    type=click.Choice(
        [
            "areas",
            "area-stats",
            "facilities",
            "residents",
            "households",
            "crisis-signals",
            "providers",
            "visits",
            "needs",
            "support",
            "teams",
            # issue 13 (demo helper): the shared-support kinds, geo/importers/sharing_kinds.py
            "donors",
            "donations",
            "stock-movements",
            "sponsorships",
            "sponsorship-payments",
            "consents",
        ]
    ),
)
@click.argument("file", type=click.Path(path_type=Path))
@click.option(
    "--crs", help="CRS of the coordinates, e.g. EPSG:5179 (when the file does not declare one)."
)
@click.option(
    "--progress/--no-progress", default=None, help="Progress bar (default: on a terminal)."
)
def import_(kind: str, file: Path, crs: str | None, progress: bool | None) -> None:
    """Import FILE (CSV, GeoJSON or GeoPackage) as KIND; all rows or none.

    KIND `households` is another name for `residents` (one row per resident, with the
    household's columns). See docs/import_formats.md.
    """
    from geo.db import session_scope
    from geo.importers import ImportValidationError, import_file
    from geo.settings import load_rrn_key, load_settings
    from geo.visit_scores import refresh_unreachable

    settings = load_settings()
    kind = "residents" if kind == "households" else kind
    try:
        with session_scope(_engine(settings)) as session:
            result = import_file(
                session,
                kind,
                file,
                crs=crs,
                rrn_key=load_rrn_key(settings),
                progress=progress,
                label=str(file),
            )
            changed = None
            if kind == "visits":  # imported visits count towards the unreachable mark
                changed = refresh_unreachable(session, after=settings.unreachable_after)
    except ImportValidationError as exc:
        for problem in exc.problems:
            click.echo(str(problem), err=True)
        click.echo(f"{len(exc.problems)} problem(s); nothing was imported.", err=True)
        sys.exit(1)
    click.echo(str(result))
    if changed is not None:
        click.echo(f"unreachable marks set or cleared: {changed}")


@main.group()
def demo() -> None:
    """Generate and load the synthetic Seodaemun-gu demo."""


def _parse_date(ctx, param, value):
    return dt.date.fromisoformat(value) if value else None


@demo.command("generate")
@click.option("--out", "out_dir", required=True, type=click.Path(path_type=Path))
@click.option("--seed", default=0, show_default=True, type=int)
@click.option(
    "--scale",
    default=20_000,
    show_default=True,
    type=int,
    help="Number of residents (up to 10,000,000; above 1,000,000 in blocks of whole dongs).",
)
@click.option(
    "--region",
    default="auto",
    show_default=True,
    type=click.Choice(["auto", "seodaemun", "seoul"]),
    help="auto: Seodaemun-gu up to 100,000 residents, else all of Seoul.",
)
@click.option("--as-of", callback=_parse_date, help="Reference date (default: today in Seoul).")
def demo_generate(out_dir: Path, seed: int, scale: int, region: str, as_of) -> None:
    """Write synthetic residents and their records as importable files."""
    from geo.demo import DemoError, generate_demo

    try:
        summary = generate_demo(
            out_dir,
            seed=seed,
            scale=scale,
            region=region,
            as_of=as_of,
            progress=sys.stderr.isatty(),
        )
    except DemoError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"wrote {out_dir} ({summary.region}, seed {summary.seed}, as of {summary.as_of})")
    for name, count in summary.counts.items():
        click.echo(f"  {name}: {count}")


@demo.command("load")
@click.option(
    "--dir", "demo_dir", default="var/demo", show_default=True, type=click.Path(path_type=Path)
)
@click.option("--seed", default=0, show_default=True, type=int)
@click.option("--scale", default=20_000, show_default=True, type=int)
@click.option(
    "--region", default="auto", show_default=True, type=click.Choice(["auto", "seodaemun", "seoul"])
)
def demo_load(demo_dir: Path, seed: int, scale: int, region: str) -> None:
    """Generate the demo into DIR unless it is there already, then import everything.

    Reuses an existing DIR generated by this version of the generator with the same seed and
    scale (and region, unless auto); importing again changes nothing.
    """
    from geo.demo import GENERATOR_VERSION, DemoError, generate_demo
    from geo.demo_load import load_demo, read_manifest
    from geo.settings import load_rrn_key, load_settings

    settings = load_settings()
    manifest = read_manifest(demo_dir)
    if (
        manifest is None
        or manifest.get("generator_version") != GENERATOR_VERSION
        or manifest.get("seed") != seed
        or manifest.get("scale") != scale
        or (region != "auto" and manifest.get("region") != region)
    ):
        click.echo(f"generating the demo into {demo_dir} ...")
        try:
            generate_demo(
                demo_dir, seed=seed, scale=scale, region=region, progress=sys.stderr.isatty()
            )
        except DemoError as exc:
            raise click.ClickException(str(exc)) from exc
    else:
        click.echo(f"reusing {demo_dir} (generated as of {manifest.get('as_of')})")
    load_demo(
        _engine(settings),
        demo_dir,
        rrn_key=load_rrn_key(settings),
        report=lambda result: click.echo(f"  {result}"),
        unreachable_after=settings.unreachable_after,
    )


@main.command()
@click.option(
    "--method",
    default="additive",
    show_default=True,
    type=click.Choice(["additive", "weighted", "rules", "model"]),
    help="additive: the published default (docs/scoring.md); weighted: the weighted index.",
)
@click.option(
    "--config",
    "config_path",
    type=click.Path(exists=True, path_type=Path),
    help="Scoring configuration (default: scoring/configs/weighted_v1.toml).",
)
@click.option("--as-of", callback=_parse_date, help="Reference date (default: today in Seoul).")
@click.option("--by", "created_by", default=None, help="Who runs it (default: $USER).")
@click.option("--progress/--no-progress", default=None)
@click.option(
    "--unless-scored",
    is_flag=True,
    help="Do nothing if a score run exists already (for make demo); with --publish, publish "
    "the newest run if none is published.",
)
@click.option(
    "--publish",
    is_flag=True,
    help="Publish the run: the map, the planner and the field pages use it (docs/publishing.md).",
)
@click.option(
    "--chunk-rows",
    default=1_000_000,
    show_default=True,
    type=click.IntRange(min=1),
    help="Residents read, scored and written at a time: the rescore's memory is bounded by it "
    "(issue 15); any size stores the same run.",
)
def score(
    method, config_path, as_of, created_by, progress, unless_scored, publish, chunk_rows
) -> None:
    """Score every active resident, store the run, print per tier the count and overdue.

    The run is a draft unless --publish is given (``visitmap runs publish ID`` later).
    """
    import getpass

    from tqdm import tqdm

    from geo.db import session_scope
    from geo.scope import Scope
    from geo.score_runs import latest_run_id, published_run_id
    from geo.settings import load_settings, today_in_seoul
    from scoring.config import ScoringConfigError, default_config, load_config
    from visitmap.usecases.scoring_runs import publish_score_run, score_residents, tier_lines

    try:
        config = load_config(config_path) if config_path else default_config()
    except ScoringConfigError as exc:
        raise click.ClickException(str(exc)) from exc
    settings = load_settings()
    as_of = as_of or today_in_seoul()
    if unless_scored:
        with session_scope(_engine(settings)) as session:
            existing, published = latest_run_id(session), published_run_id(session)
            if existing is not None and publish and published is None:
                publish_score_run(
                    session, existing, by=created_by or getpass.getuser(),
                    follow_up=settings.follow_up(),
                )  # fmt: skip
                published = existing
        if existing is not None:
            click.echo(f"score run {existing} exists; not scoring again")
            if published is not None:
                click.echo(f"  published run: {published}")
            return
    with (
        session_scope(_engine(settings)) as session,
        tqdm(
            desc="storing scores",
            unit="resident",
            disable=None if progress is None else not progress,
            leave=False,
        ) as bar,
    ):
        try:
            result = score_residents(
                session,
                Scope.everything(),
                method=method,
                config=config,
                as_of=as_of,
                created_by=created_by or getpass.getuser(),
                follow_up=settings.follow_up(),
                progress=bar,
                publish=publish,
                chunk_rows=chunk_rows,
            )
        except VisitmapError as exc:
            raise click.ClickException(str(exc)) from exc
    run = result.stored
    click.echo(
        f"score run {run.run_id} ({method}, as of {as_of}): "
        f"{sum(run.tier_counts.values())} residents"
    )
    for line in tier_lines(run.tier_counts, result.overdue_counts):
        click.echo(line)
    if run.previous_run_id is not None:
        click.echo(f"  {result.moved_into_high} moved into high since run {run.previous_run_id}")
    if result.published:
        click.echo(f"  published: the map, the planner and the field pages use run {run.run_id}")
    else:
        click.echo(f"  a draft: publish it with `visitmap runs publish {run.run_id}`")


WEB_USER = "visitmap-web"


def _url_with_password(database_url: str) -> str:
    """Return ``database_url`` with the password libpq finds for it (the password file).

    With it, the server can still connect after it has dropped the privileges that let it
    read that file. The password stays in memory: it is in no URL printed, no command line, no
    environment. A URL that holds a password already, or one for which libpq finds none, is
    returned as it is.
    """
    import psycopg

    from geo.db import project_pgpassfile_for

    url = make_url(database_url)
    if url.password is not None:
        return database_url
    extra = {}
    passfile = project_pgpassfile_for(database_url)
    if passfile is not None:
        extra["passfile"] = str(passfile)
    conninfo = url.set(drivername="postgresql").render_as_string(hide_password=False)
    try:
        with psycopg.connect(conninfo, connect_timeout=10, **extra) as conn:
            password = conn.info.password
    except psycopg.Error as exc:
        raise click.ClickException(f"cannot connect to the database: {exc}") from exc
    if not password:
        return database_url
    return url.set(password=password).render_as_string(hide_password=False)


def _web_account(name: str):
    import pwd

    try:
        return pwd.getpwnam(name)
    except KeyError:
        raise click.ClickException(
            f"serve was started as root and drops to the user {name!r}, which does not exist; "
            "create it with `scripts/system-deps.sh demo` (useradd --system --no-create-home "
            "--shell /usr/sbin/nologin visitmap-web), or start serve as an unprivileged user"
        ) from None


#: Imported by the web service's handlers at run time (inside functions), loaded before
#: privileges are dropped: the interpreter and its standard library may live where the web
#: user cannot read (e.g. a pyenv under /root).
LAZY_IMPORTS = ("sklearn.metrics", "pyarrow.csv", "psycopg.copy", "babel.messages.mofile")


def _preload_program() -> None:
    """Import every module of the packages the web service uses, while still root.

    Also imports :data:`LAZY_IMPORTS`, which those modules import inside functions.
    """
    import importlib
    import pkgutil

    for name in ("webmap", "geo", "scoring", "routing"):
        package = importlib.import_module(name)
        for info in pkgutil.walk_packages(package.__path__, prefix=f"{name}."):
            if ".migrations" not in info.name:
                importlib.import_module(info.name)
    for name in LAZY_IMPORTS:
        importlib.import_module(name)


def _check_web_user_can_read_pages() -> None:
    """Check, after dropping privileges, that the web user can read the web package's files.

    The templates, translations and static files must still be readable, or pages would fail
    one by one later; say so now, with the reason.
    """
    import webmap

    directory = Path(webmap.__file__).parent
    try:
        for path in directory.rglob("*"):
            if path.is_file() and path.suffix != ".pyc":
                path.read_bytes()
    except OSError as exc:
        raise click.ClickException(
            f"the web user cannot read the program ({exc}); serve, started as root, runs as "
            f"an unprivileged user: put the checkout where it can read it (every parent "
            f"directory needs o+x; e.g. /srv or /opt, not /root), or start serve as an "
            f"unprivileged user"
        ) from exc


def _drop_privileges(account) -> None:
    os.setgroups([])
    os.setgid(account.pw_gid)
    os.setuid(account.pw_uid)  # glibc applies it to every thread of the process
    os.environ.update(HOME="/", USER=account.pw_name, LOGNAME=account.pw_name)
    sys.dont_write_bytecode = True


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, type=int)
@click.option("--threads", default=8, show_default=True, type=int)
@click.option(
    "--user",
    "web_user",
    default=WEB_USER,
    show_default=True,
    help="When started as root: the unprivileged user to serve as.",
)
@click.option(
    "--workers",
    default=2,
    show_default=True,
    type=click.IntRange(1, 64),
    help="Processes, each with --threads threads (one per CPU core is a good start).",
)
def serve(host: str, port: int, threads: int, web_user: str, workers: int) -> None:
    """Serve the web map with waitress (a production WSGI server).

    With --workers above 1, the port is bound once and that many processes, each a waitress
    server with --threads threads, take its connections: Python runs one thread at a time per
    process, so one process uses one core (issue 15, docs/tiles.md). Each has its own tile cache,
    kept in step through the database.

    Settings: VISITMAP_DATABASE_URL, VISITMAP_BASEMAP_URL (base map tiles; empty for none),
    VISITMAP_BASEMAP_ATTRIBUTION. The registration-number key is never read here, and serve
    refuses to start with VISITMAP_RRN_HMAC_KEY in its environment. Started as root, it binds
    the port, reads the database password, then runs as --user, which cannot read the key file
    or the password file (docs/deploy.md).
    """
    from waitress import create_server

    from geo.settings import load_settings
    from webmap import create_app

    if "VISITMAP_RRN_HMAC_KEY" in os.environ:
        raise click.ClickException(
            "VISITMAP_RRN_HMAC_KEY is set: the web service must not hold the registration-number "
            "key (only `visitmap import` and `visitmap demo load` use it); unset it for serve"
        )
    settings = load_settings()
    account = None
    overrides = None
    if os.geteuid() == 0:
        account = _web_account(web_user)
        if account.pw_uid == 0:
            raise click.ClickException(f"--user {web_user} is root; name an unprivileged user")
        overrides = {"DATABASE_URL": _url_with_password(settings.database_url)}
    app = create_app(overrides)
    listener = socket.create_server((host, port), backlog=1024)
    if account is not None:
        _preload_program()
        _drop_privileges(account)
        _check_web_user_can_read_pages()
        key_file = settings.rrn_key_file or settings.var_dir / "rrn_hmac.key"
        if os.access(key_file, os.R_OK):
            raise click.ClickException(
                f"{key_file} is readable by {web_user}: make it owned by root, mode 0600"
            )
        click.echo(f"running as {web_user} (uid {account.pw_uid})")
    click.echo(f"serving on http://{host}:{port} with {workers} process(es)  (Ctrl-C stops)")
    _run_workers(workers, lambda: create_server(app, sockets=[listener], threads=threads).run())


def _run_workers(workers: int, run) -> None:
    """Run ``run`` in ``workers`` forked processes (or here, for one) until stopped.

    The parent waits; SIGINT or SIGTERM to it stops them all, and when one ends the others are
    stopped too. Each child makes its own server (and, on its first request, its own database
    engine) after the fork, so no socket, pipe or connection is shared but the listening socket.
    """
    import signal

    if workers == 1:
        run()
        return
    children = []
    for _ in range(workers):
        pid = os.fork()
        if pid == 0:
            signal.signal(signal.SIGINT, signal.SIG_DFL)
            signal.signal(signal.SIGTERM, signal.SIG_DFL)
            try:
                run()
            finally:
                os._exit(0)
        children.append(pid)

    def stop(*_args) -> None:
        for child in children:
            with contextlib.suppress(ProcessLookupError):
                os.kill(child, signal.SIGTERM)

    signal.signal(signal.SIGTERM, lambda *a: (stop(), sys.exit(0)))
    try:
        os.wait()  # the first child to end (a crash) stops the rest
    except KeyboardInterrupt:
        pass
    finally:
        stop()
        for child in children:
            with contextlib.suppress(ChildProcessError):
                os.waitpid(child, 0)


from visitmap.solve_cli import solve  # noqa: E402

main.add_command(solve)

from visitmap.teams_cli import routes, teams  # noqa: E402

main.add_command(teams)
main.add_command(routes)

from visitmap.visits_cli import visits  # noqa: E402

main.add_command(visits)


from visitmap.users_cli import tokens, users  # noqa: E402

main.add_command(users)
main.add_command(tokens)

from visitmap.audit_cli import audit  # noqa: E402

main.add_command(audit)


from visitmap.analyst_cli import export  # noqa: E402

main.add_command(export)

from visitmap.runs_cli import runs  # noqa: E402

main.add_command(runs)

# detect (issue 13): the shared support warnings
from visitmap.support_cli import support  # noqa: E402

main.add_command(support)

# issue 14: benefit pre-screening
from visitmap.eligibility_cli import eligibility  # noqa: E402

main.add_command(eligibility)

# issue 14: hot spots and the blind-spot list
from visitmap.blindspots_cli import blindspots  # noqa: E402

main.add_command(blindspots)

# issue 14: every scorer on a time split
from visitmap.evaluate_cli import evaluate_scorers  # noqa: E402

main.add_command(evaluate_scorers)

if __name__ == "__main__":
    main()
