"""The demo's accounts: one per role, for ``make demo`` only.

Their passwords are printed on the demo's login page and in the README. They exist so that a
new user can try every role in two commands; ``visitmap users create-demo`` makes them, and
nothing else does. Never use them with real data.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from geo.accounts import create_user, get_account

#: 천연동: its dong leader and visit team
DEMO_DONG = "1141052000"


@dataclass(frozen=True)
class DemoAccount:
    """One demo sign-in account.

    Attributes
    ----------
    username, password
        The sign-in (the password is public: printed on the demo's login page).
    display_name
        The name the pages show.
    roles
        The account's roles (``leader``, ``visitor``, ``agency``, ``analyst``, ``admin``).
    description
        What the account is for, in English.
    areas
        Codes (``adm_cd2``) of the dongs the account may see.
    all_areas
        The account may see every dong.
    team
        External id of the account's visit team, or None.
    org
        External id of the account's provider (organisation), or None.
    """

    username: str
    password: str
    display_name: str
    roles: tuple[str, ...]
    #: English; the login page shows the Korean
    description: str
    areas: tuple[str, ...] = ()
    all_areas: bool = False
    team: str | None = None
    org: str | None = None


DEMO_ACCOUNTS = (
    DemoAccount(
        "demo.leader",
        "leader-pass-2026",
        "구청 복지정책과 (데모)",
        ("leader",),
        "District welfare official: all dongs",
        all_areas=True,
        org="P-GU-11410",
    ),
    DemoAccount(
        "demo.dong",
        "dong-pass-2026",
        "천연동 맞춤형복지팀 (데모)",
        ("leader",),
        "Dong welfare official: 천연동",
        areas=(DEMO_DONG,),
        org=f"P-CC-{DEMO_DONG}",
    ),
    DemoAccount(
        "demo.visitor",
        "visitor-pass-2026",
        "천연동 방문팀원 (데모)",
        ("visitor",),
        "Visit team member: 천연동 team",
        team=f"T-{DEMO_DONG}",
        org=f"P-CC-{DEMO_DONG}",
    ),
    DemoAccount(
        "demo.agency",
        "agency-pass-2026",
        "푸드뱅크 직원 (데모)",
        ("agency",),
        "Agency staff: 서대문나눔푸드뱅크",
        org="P-FOODBANK",
    ),
    DemoAccount(
        "demo.analyst",
        "analyst-pass-2026",
        "분석 담당 (데모)",
        ("analyst",),
        "Analyst: aggregates and pseudonymised exports",
    ),
    DemoAccount(
        "demo.admin",
        "admin-pass-2026",
        "시스템 관리자 (데모)",
        ("admin",),
        "Administrator: accounts and teams",
        org="P-GU-11410",
    ),
)


def create_demo_accounts(session: Session) -> list[str]:
    """Create the demo accounts that do not exist yet; the caller commits.

    Running it again creates nothing.

    Returns
    -------
    list of str
        The user names created.
    """
    created = []
    for a in DEMO_ACCOUNTS:
        if get_account(session, username=a.username) is not None:
            continue
        create_user(
            session,
            a.username,
            display_name=a.display_name,
            roles=a.roles,
            password=a.password,
            area_codes=a.areas,
            all_areas=a.all_areas,
            team=a.team,
            org=a.org,
        )
        created.append(a.username)
    return created
