"""``visitmap users`` and ``visitmap tokens``: accounts and API tokens (docs/accounts.md).

Passwords are read from standard input (``--password-stdin``), never from the command line
(where ``ps`` and the shell history would show them). A token is printed once, when created.
"""

from __future__ import annotations

import json
import sys
from contextlib import contextmanager

import click

from visitmap.db_session import cli_session


@contextmanager
def _account_errors():

    from geo.accounts import AccountError

    try:
        yield
    except AccountError as exc:
        raise click.ClickException(f"--{exc.field}: {exc.message}") from None


def _read_password(prompt: bool) -> str:
    """Return the password from standard input: its first line, without the line end.

    With ``prompt`` and a terminal on standard input, ask for it twice, hidden, instead.
    """
    if prompt and sys.stdin.isatty():
        return click.prompt("password", hide_input=True, confirmation_prompt=True)
    line = sys.stdin.readline()
    if not line:
        raise click.ClickException("--password-stdin: no password on standard input")
    return line.rstrip("\r\n")


def _describe(a) -> dict:
    return {
        "username": a.username,
        "display_name": a.display_name,
        "roles": list(a.roles),
        "areas": "all" if a.all_areas else list(a.area_codes),
        "team": a.team_id,
        "org": a.provider_id,
        "disabled": a.disabled,
        "locked_until": a.locked_until.isoformat() if a.locked_until else None,
        "last_login_at": a.last_login_at.isoformat() if a.last_login_at else None,
    }


@click.group()
def users() -> None:
    """Manage accounts: create, list, disable, enable, set a password or areas."""


@users.command("create")
@click.argument("username")
@click.option(
    "--role",
    "roles",
    multiple=True,
    required=True,
    help="admin, leader, visitor, agency or analyst (repeatable).",
)
@click.option("--name", "display_name", help="Display name (default: the user name).")
@click.option("--area", "areas", multiple=True, help="Dong code the user works in (repeatable).")
@click.option("--all-areas", is_flag=True, help="Every dong (a district-wide official).")
@click.option("--team", help="Visit team id (a visitor's team).")
@click.option("--org", help="Provider id of the user's organisation (public office or agency).")
@click.option(
    "--password-stdin", is_flag=True, help="Read the password from standard input (first line)."
)
def create(username, roles, display_name, areas, all_areas, team, org, password_stdin) -> None:
    """Create the account USERNAME."""
    from geo.accounts import create_user

    password = _read_password(prompt=True) if password_stdin else None
    with _account_errors(), cli_session() as session:
        account = create_user(
            session,
            username,
            display_name=display_name or username,
            roles=roles,
            password=password,
            area_codes=areas,
            all_areas=all_areas,
            team=team,
            org=org,
        )
    note = "" if password else " (no password: it cannot sign in until set-password)"
    click.echo(f"created {account.username}: {', '.join(account.roles)}{note}")


@users.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
def list_(as_json: bool) -> None:
    """List the accounts."""
    from geo.accounts import list_accounts

    with cli_session() as session:
        rows = [_describe(a) for a in list_accounts(session)]
    if as_json:
        click.echo(json.dumps(rows, ensure_ascii=False, indent=2))
        return
    for r in rows:
        areas = r["areas"] if r["areas"] == "all" else ",".join(r["areas"]) or "-"
        state = "disabled" if r["disabled"] else ("locked" if r["locked_until"] else "active")
        click.echo(
            f"{r['username']:<20} {','.join(r['roles']):<16} {state:<8} areas={areas} "
            f"team={r['team'] or '-'} org={r['org'] or '-'}  {r['display_name']}"
        )
    click.echo(f"{len(rows)} account(s)")


@users.command("disable")
@click.argument("username")
def disable(username: str) -> None:
    """Disable USERNAME: its sessions end and its tokens stop working at once."""
    from geo.accounts import set_disabled

    with _account_errors(), cli_session() as session:
        set_disabled(session, username, True)
    click.echo(f"disabled {username}")


@users.command("enable")
@click.argument("username")
def enable(username: str) -> None:
    """Enable USERNAME again."""
    from geo.accounts import set_disabled

    with _account_errors(), cli_session() as session:
        set_disabled(session, username, False)
    click.echo(f"enabled {username}")


@users.command("set-password")
@click.argument("username")
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input.")
def set_password_(username: str, password_stdin: bool) -> None:
    """Set USERNAME's password (its sessions end; a lock-out is lifted)."""
    from geo.accounts import set_password

    password = _read_password(prompt=not password_stdin)
    with _account_errors(), cli_session() as session:
        set_password(session, username, password)
    click.echo(f"password set for {username}")


@users.command("set-areas")
@click.argument("username")
@click.argument("codes", nargs=-1)
@click.option("--all-areas", is_flag=True, help="Every dong.")
def set_areas_(username: str, codes: tuple[str, ...], all_areas: bool) -> None:
    """Set the dongs USERNAME works in (replacing the old ones)."""
    from geo.accounts import set_areas

    with _account_errors(), cli_session() as session:
        account = set_areas(session, username, codes, all_areas=all_areas)
    click.echo(f"{username}: areas {'all' if account.all_areas else ', '.join(account.area_codes)}")


@users.command("create-demo")
def create_demo() -> None:
    """Create the demo's accounts (one per role; demo passwords, see README). Idempotent."""
    from geo.demo.accounts import DEMO_ACCOUNTS, create_demo_accounts

    with _account_errors(), cli_session() as session:
        created = create_demo_accounts(session)
    click.echo(
        f"demo accounts: {len(created)} created, {len(DEMO_ACCOUNTS) - len(created)} existed"
    )


@click.group()
def tokens() -> None:
    """Manage API tokens for machine clients (sent as 'Authorization: Bearer TOKEN')."""


@tokens.command("create")
@click.argument("name")
@click.option("--user", "username", required=True, help="The user whose role and scope it has.")
def token_create(name: str, username: str) -> None:
    """Create a token NAME for --user and print it (once: only its hash is kept)."""
    from geo.accounts import create_token

    with _account_errors(), cli_session() as session:
        token, info = create_token(session, username, name)
    click.echo(f"token {info.id} '{info.name}' for {info.username} (shown once):", err=True)
    click.echo(token)


@tokens.command("list")
@click.option("--user", "username", help="Only this user's tokens.")
def token_list(username: str | None) -> None:
    """List tokens: id, user, name, prefix, created, last used, revoked."""
    from geo.accounts import list_tokens

    with cli_session() as session:
        rows = list_tokens(session, username)
    for t in rows:
        state = f"revoked {t.revoked_at:%Y-%m-%d %H:%M}" if t.revoked_at else "live"
        used = f"{t.last_used_at:%Y-%m-%d %H:%M}" if t.last_used_at else "never"
        click.echo(
            f"{t.id:>5} {t.username:<20} {t.name:<20} {t.prefix}…  "
            f"created {t.created_at:%Y-%m-%d}  used {used}  {state}"
        )
    click.echo(f"{len(rows)} token(s)")


@tokens.command("revoke")
@click.argument("token_id", type=int)
def token_revoke(token_id: int) -> None:
    """Revoke token TOKEN_ID (see `tokens list`); it stops working at once."""
    from geo.accounts import revoke_token

    with _account_errors(), cli_session() as session:
        info = revoke_token(session, token_id)
    click.echo(f"revoked token {info.id} '{info.name}' of {info.username}")
