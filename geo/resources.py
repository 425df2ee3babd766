"""Resources of the community centres: donors, donations, stock, sponsorships, the report.

A centre's stock is never stored as a count: it is the signed sum of its stock movements per
lot, a lot being (centre, minor category, item, unit, expiry). A donation of goods writes a
``received`` movement; a transfer writes two rows (``transferred_out`` at the sender,
``transferred_in`` at the receiver, each naming the other centre); a discard writes an
``expired`` row. Every write checks its fields first and raises :class:`ResourceError` naming
each bad field, so nothing is written on bad input. Which centres a caller may read or change
is a :class:`CentreScope` (:func:`centre_scope`). Rules and sources: docs/resources.md.

Length: over 400 lines because the centre scope, the field checks (shared with
:mod:`geo.sponsorships`), the stock arithmetic and the writes that move stock all use the
same lot key; the report and suggestions live in :mod:`geo.resource_report`.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import text
from sqlalchemy.orm import Session

from geo.accounts import Account
from sharing.config import load_warning_config
from visitmap.errors import FieldError
from visitmap.vocab import DONOR_KINDS, SUPPORT_MINOR

#: The sign of each movement kind in the stock sum (``adjusted`` carries its own sign).
SIGNED_QUANTITY_SQL = """CASE m.kind WHEN 'received' THEN m.quantity
    WHEN 'transferred_in' THEN m.quantity WHEN 'adjusted' THEN m.quantity
    ELSE -m.quantity END"""
#: Radius (metres) of the "nearby dongs" whose support by agencies a suggestion counts.
NEARBY_METRES = 3000
#: How far back (days) an agency's support counts for a suggestion.
AGENCY_LOOKBACK_DAYS = 365
TEXT_MAX = 200
#: Largest amount in won a form accepts (guards typing slips: 1,000억).
AMOUNT_MAX = 100_000_000_000
QUANTITY_MAX = 1_000_000


class ResourceError(FieldError):
    """Invalid resource input: ``problems`` lists (field, reason) for every bad field."""

    def __init__(self, problems: list[tuple[str, str]]):
        super().__init__("; ".join(f"{f}: {r}" for f, r in problems), field=problems[0][0])
        self.problems = problems


@dataclass(frozen=True)
class CentreScope:
    """The centres (providers) a caller may read, and whether they may change their resources.

    Attributes
    ----------
    centre_ids : frozenset of int or None
        Database ids of the providers whose stock, donations and sponsorships the caller
        sees; None means every provider (admin).
    can_write : bool
        True for community-centre staff, leaders and admin; False for agency staff, who read
        their own provider's donations and stock only.
    area_codes : frozenset of str or None
        The dongs whose households the caller may match to a sponsor (None: all).
    """

    centre_ids: frozenset[int] | None
    can_write: bool
    area_codes: frozenset[str] | None

    def sql(self, column: str) -> tuple[str, dict]:
        """Return `` AND column = ANY(:centres)`` and its parameters (empty for all)."""
        if self.centre_ids is None:
            return "", {}
        return f" AND {column} = ANY(:centres)", {"centres": sorted(self.centre_ids)}

    def allows(self, centre_id: int | None) -> bool:
        """Return whether the caller may read the provider with database id ``centre_id``."""
        return centre_id is not None and (self.centre_ids is None or centre_id in self.centre_ids)


def centre_scope(session: Session, account: Account | None) -> CentreScope:
    """Return the centres ``account`` may read and whether it may change them.

    - admin: every provider, writes;
    - leader: the community centres of their dongs (every one when district-wide) and their
      own provider, writes;
    - visitor whose provider is a community centre (community-centre staff): that centre,
      writes;
    - agency: their own provider, read only;
    - anyone else (analyst, nobody signed in): nothing.
    """
    if account is None or account.disabled:
        return CentreScope(frozenset(), False, frozenset())
    if account.has("admin"):
        return CentreScope(None, True, None)
    own = {account.provider_db_id} if account.provider_db_id is not None else set()
    if account.has("leader"):
        codes = None if account.all_areas else sorted(account.area_codes)
        where = "" if codes is None else " AND a.code = ANY(:codes)"
        ids = session.execute(
            text(
                "SELECT p.id FROM providers p JOIN areas a ON a.id = p.area_id "
                f"WHERE p.kind = 'community_centre'{where}"
            ),
            {} if codes is None else {"codes": codes},
        ).scalars()
        area_codes = None if codes is None else frozenset(codes)
        return CentreScope(frozenset(ids) | own, True, area_codes)
    if account.has("visitor") and own:
        row = session.execute(
            text("""SELECT p.kind, a.code FROM providers p LEFT JOIN areas a ON a.id = p.area_id
                WHERE p.id = :p"""),
            {"p": account.provider_db_id},
        ).one()
        if row.kind == "community_centre":
            return CentreScope(frozenset(own), True, frozenset([row.code] if row.code else []))
    if account.has("agency") and own:
        return CentreScope(frozenset(own), False, frozenset())
    return CentreScope(frozenset(), False, frozenset())


# --- reading -----------------------------------------------------------------------------


def centres(session: Session, scope: CentreScope, *, community_only: bool = False) -> list[dict]:
    """Return the providers in ``scope`` (external id, name, kind, dong), by name."""
    where, params = scope.sql("p.id")
    if community_only:
        where += " AND p.kind = 'community_centre'"
    rows = session.execute(
        text(f"""SELECT p.id, p.external_id, p.name, p.kind, a.code AS area_code,
            a.name AS area_name FROM providers p LEFT JOIN areas a ON a.id = p.area_id
            WHERE true{where} ORDER BY p.name, p.external_id"""),
        params,
    ).mappings()
    return [dict(r) for r in rows]


def all_community_centres(session: Session) -> list[dict]:
    """Return every community centre (the receivers a transfer may go to), by name."""
    return centres(session, CentreScope(None, False, None), community_only=True)


def donors(session: Session) -> list[dict]:
    """Return every donor (external id, name, kind, dong), by name."""
    rows = session.execute(
        text("""SELECT d.id, d.external_id, d.name, d.kind, a.code AS area_code,
            a.name AS area_name FROM donors d LEFT JOIN areas a ON a.id = d.area_id
            ORDER BY d.name, d.external_id""")
    ).mappings()
    return [dict(r) for r in rows]


def stock(
    session: Session, scope: CentreScope, *, today: dt.date, expiring_days: int | None = None
) -> list[dict]:
    """Return the stock of the centres in ``scope``: one row per lot with a non-zero balance.

    Each row: ``centre_id`` (external), ``centre_name``, ``minor_category``, ``item``,
    ``unit``, ``expires_on``, ``quantity`` (the signed sum), ``lot`` (the key a form sends
    back) and ``state``: ``expired`` (before ``today``), ``expiring`` (within
    ``expiring_days``, by default the warnings config's ``stock_expiring_days``) or ``ok``.
    Sorted by centre, then expiry (soonest first), category and item.
    """
    if expiring_days is None:
        expiring_days = load_warning_config().omissions["stock_expiring_days"]
    where, params = scope.sql("m.centre_id")
    rows = session.execute(
        text(f"""SELECT p.external_id AS centre_id, p.name AS centre_name, m.minor_category,
            m.item, m.unit, m.expires_on, SUM({SIGNED_QUANTITY_SQL}) AS quantity
            FROM stock_movements m JOIN providers p ON p.id = m.centre_id
            WHERE true{where}
            GROUP BY p.external_id, p.name, m.minor_category, m.item, m.unit, m.expires_on
            HAVING abs(SUM({SIGNED_QUANTITY_SQL})) > 1e-9
            ORDER BY p.name, p.external_id, m.expires_on NULLS LAST, m.minor_category, m.item,
                m.unit"""),
        params,
    ).mappings()
    out = []
    for r in rows:
        row = dict(r)
        row["quantity"] = round(row["quantity"], 6)
        row["lot"] = lot_key(
            row["centre_id"], row["minor_category"], row["item"], row["unit"], row["expires_on"]
        )
        expires = row["expires_on"]
        if expires is not None and expires < today:
            row["state"] = "expired"
        elif expires is not None and (expires - today).days <= expiring_days:
            row["state"] = "expiring"
        else:
            row["state"] = "ok"
        out.append(row)
    return out


def lot_key(centre: str, minor: str, item: str, unit: str, expires_on: dt.date | None) -> str:
    """Return the lot's key as forms send it: ``centre|minor|item|unit|expiry``.

    The expiry is empty for goods that do not expire.
    """
    return "|".join([centre, minor, item, unit, expires_on.isoformat() if expires_on else ""])


def donations(session: Session, scope: CentreScope, *, limit: int = 200) -> list[dict]:
    """Return the latest donations to the centres in ``scope``, newest first."""
    where, params = scope.sql("dn.centre_id")
    rows = session.execute(
        text(f"""SELECT dn.external_id, dn.received_on, d.external_id AS donor_id,
            d.name AS donor_name, p.external_id AS centre_id, p.name AS centre_name,
            dn.minor_category, dn.item, dn.quantity, dn.unit, dn.amount_krw, dn.expires_on,
            dn.entered_by
            FROM donations dn JOIN donors d ON d.id = dn.donor_id
            JOIN providers p ON p.id = dn.centre_id
            WHERE true{where} ORDER BY dn.received_on DESC, dn.id DESC LIMIT :limit"""),
        params | {"limit": limit},
    ).mappings()
    return [dict(r) for r in rows]


# --- checks ------------------------------------------------------------------------------


def date_field(problems, values, field, *, required=True) -> dt.date | None:
    """Parse the date ``values[field]`` (YYYY-MM-DD); note a problem and return None if bad."""
    raw = (values.get(field) or "").strip()
    if not raw:
        if required:
            problems.append((field, "required"))
        return None
    try:
        return dt.date.fromisoformat(raw)
    except ValueError:
        problems.append((field, "not a date (YYYY-MM-DD)"))
        return None


def text_field(problems, values, field, *, required=True) -> str | None:
    """Return the stripped text ``values[field]``; note a problem if missing or too long."""
    raw = (values.get(field) or "").strip()
    if not raw:
        if required:
            problems.append((field, "required"))
        return None
    if len(raw) > TEXT_MAX or "\x00" in raw:
        problems.append((field, f"at most {TEXT_MAX} characters"))
        return None
    return raw


def number_field(problems, values, field, *, required=False, integer=False, upper=QUANTITY_MAX):
    """Parse a positive number (commas allowed) up to ``upper``; None if absent or bad."""
    raw = (values.get(field) or "").strip().replace(",", "")
    if not raw:
        if required:
            problems.append((field, "required"))
        return None
    try:
        value = int(raw) if integer else float(raw)
    except ValueError:
        problems.append((field, "not a whole number" if integer else "not a number"))
        return None
    if not (0 < value <= upper) or value != value:
        problems.append((field, f"must be more than 0 and at most {upper:,}"))
        return None
    return value


def _minor(problems, values, field="minor_category") -> str | None:
    """Parse a positive number (thousands commas allowed) up to ``upper``; None if absent or bad."""
    raw = (values.get(field) or "").strip()
    if raw not in SUPPORT_MINOR:
        problems.append((field, "choose one of the minor categories"))
        return None
    return raw


def lookup_field(session, problems, table, field, external_id) -> int | None:
    """Return the database id of ``external_id`` in ``table``; note a problem if unknown."""
    if not external_id:
        problems.append((field, "required"))
        return None
    found = session.execute(
        text(f"SELECT id FROM {table} WHERE external_id = :x"), {"x": external_id}
    ).scalar()
    if found is None:
        problems.append((field, "unknown"))
    return found


def centre_field(session, problems, scope: CentreScope, field, external_id) -> int | None:
    """Return the id of a provider the caller may change; note a problem otherwise."""
    centre_id = lookup_field(session, problems, "providers", field, external_id)
    if centre_id is not None and not (scope.can_write and scope.allows(centre_id)):
        problems.append((field, "not a centre you manage"))
        return None
    return centre_id


def raise_problems(problems) -> None:
    """Raise :class:`ResourceError` if ``problems`` is not empty."""
    if problems:
        raise ResourceError(problems)


def next_external_id(session, table: str, prefix: str) -> str:
    """Return the next free external id ``prefix`` + 6 digits in ``table``."""
    count = session.execute(text(f"SELECT count(*) FROM {table}")).scalar()
    number = count + 1
    while session.execute(
        text(f"SELECT 1 FROM {table} WHERE external_id = :x"), {"x": f"{prefix}{number:06d}"}
    ).first():
        number += 1
    return f"{prefix}{number:06d}"


# --- writes ------------------------------------------------------------------------------


def add_donor(session: Session, scope: CentreScope, values, *, user: str) -> str:
    """Add a donor from ``values`` (``name``, ``kind``, optional ``area`` code); return its id."""
    problems = []
    if not scope.can_write:
        problems.append(("name", "you may not add donors"))
    name = text_field(problems, values, "name")
    kind = (values.get("kind") or "").strip()
    if kind not in DONOR_KINDS:
        problems.append(("kind", "choose one of the donor kinds"))
    area = (values.get("area") or "").strip()
    area_id = None
    if area:
        area_id = session.execute(
            text("SELECT id FROM areas WHERE code = :c"), {"c": area}
        ).scalar()
        if area_id is None:
            problems.append(("area", "unknown dong"))
    raise_problems(problems)
    external_id = next_external_id(session, "donors", "DN-W")
    session.execute(
        text("""INSERT INTO donors (external_id, name, kind, area_id, entered_by)
            VALUES (:x, :name, :kind, :area, :user)"""),
        {"x": external_id, "name": name, "kind": kind, "area": area_id, "user": user},
    )
    return external_id


def record_donation(
    session: Session, scope: CentreScope, values, *, user: str, today: dt.date
) -> str:
    """Record a donation and, for goods, its ``received`` stock movement; return its id.

    ``values``: ``donor``, ``centre`` (external ids), ``received_on``, ``minor_category``,
    ``item``, ``quantity`` + ``unit`` (goods) and/or ``amount_krw`` (money), ``expires_on``.
    """
    problems = []
    donor_id = lookup_field(
        session, problems, "donors", "donor", (values.get("donor") or "").strip()
    )
    centre_id = centre_field(
        session, problems, scope, "centre", (values.get("centre") or "").strip()
    )
    received_on = date_field(problems, values, "received_on")
    if received_on is not None and received_on > today:
        problems.append(("received_on", "in the future"))
    minor = _minor(problems, values)
    item = text_field(problems, values, "item")
    quantity = number_field(problems, values, "quantity")
    unit = text_field(problems, values, "unit", required=quantity is not None)
    amount = number_field(problems, values, "amount_krw", integer=True, upper=AMOUNT_MAX)
    if (
        quantity is None
        and amount is None
        and not any(f in ("quantity", "amount_krw") for f, _ in problems)
    ):
        problems.append(("quantity", "enter a quantity or an amount"))
    expires_on = date_field(problems, values, "expires_on", required=False)
    if expires_on is not None and received_on is not None and expires_on < received_on:
        problems.append(("expires_on", "before the day received"))
    raise_problems(problems)
    external_id = next_external_id(session, "donations", "DO-W")
    donation_id = session.execute(
        text("""INSERT INTO donations (external_id, donor_id, centre_id, received_on,
            minor_category, item, quantity, unit, amount_krw, expires_on, entered_by)
            VALUES (:x, :donor, :centre, :on, :minor, :item, :q, :unit, :amount, :exp, :user)
            RETURNING id"""),
        {
            "x": external_id,
            "donor": donor_id,
            "centre": centre_id,
            "on": received_on,
            "minor": minor,
            "item": item,
            "q": quantity,
            "unit": unit,
            "amount": amount,
            "exp": expires_on,
            "user": user,
        },
    ).scalar()
    if quantity is not None:
        _move(
            session,
            centre_id,
            "received",
            received_on,
            minor,
            item,
            unit,
            quantity,
            expires_on,
            user,
            donation_id=donation_id,
        )
    return external_id


def _move(
    session,
    centre_id,
    kind,
    moved_on,
    minor,
    item,
    unit,
    quantity,
    expires_on,
    user,
    *,
    donation_id=None,
    counterpart=None,
) -> None:
    session.execute(
        text("""INSERT INTO stock_movements (centre_id, kind, moved_on, minor_category, item,
            unit, quantity, expires_on, donation_id, counterpart_centre_id, entered_by)
            VALUES (:c, :kind, :on, :minor, :item, :unit, :q, :exp, :donation, :other, :user)"""),
        {
            "c": centre_id,
            "kind": kind,
            "on": moved_on,
            "minor": minor,
            "item": item,
            "unit": unit,
            "q": quantity,
            "exp": expires_on,
            "donation": donation_id,
            "other": counterpart,
            "user": user,
        },
    )


def _lot(session, problems, scope: CentreScope, raw: str | None):
    """Parse and lock a lot key; return (centre db id, minor, item, unit, expiry, balance)."""
    parts = (raw or "").split("|")
    if len(parts) != 5:
        problems.append(("lot", "choose a lot from the stock"))
        return None
    centre, minor, item, unit, expires = parts
    try:
        expires_on = dt.date.fromisoformat(expires) if expires else None
    except ValueError:
        problems.append(("lot", "choose a lot from the stock"))
        return None
    centre_id = centre_field(session, problems, scope, "lot", centre)
    if centre_id is None:
        return None
    # one writer at a time per centre: a second transfer waits and sees the first one's rows
    session.execute(text("SELECT id FROM providers WHERE id = :c FOR UPDATE"), {"c": centre_id})
    balance = session.execute(
        text(f"""SELECT COALESCE(SUM({SIGNED_QUANTITY_SQL}), 0) FROM stock_movements m
            WHERE m.centre_id = :c AND m.minor_category = :minor AND m.item = :item
              AND m.unit = :unit AND m.expires_on IS NOT DISTINCT FROM :exp"""),
        {"c": centre_id, "minor": minor, "item": item, "unit": unit, "exp": expires_on},
    ).scalar()
    if balance <= 0:
        problems.append(("lot", "nothing left in this lot"))
        return None
    return centre_id, minor, item, unit, expires_on, balance


def transfer(session: Session, scope: CentreScope, values, *, user: str, today: dt.date) -> None:
    """Move ``quantity`` of a lot from its centre to ``to_centre``: two rows, one per side.

    ``values``: ``lot`` (a key from :func:`stock`), ``to_centre`` (any community centre),
    ``quantity`` (at most the lot's balance), ``moved_on``.
    """
    problems = []
    lot = _lot(session, problems, scope, values.get("lot"))
    target = (values.get("to_centre") or "").strip()
    to_id = None
    if not target:
        problems.append(("to_centre", "required"))
    else:
        to_id = session.execute(
            text("SELECT id FROM providers WHERE external_id = :x AND kind = 'community_centre'"),
            {"x": target},
        ).scalar()
        if to_id is None:
            problems.append(("to_centre", "not a community centre"))
        elif lot is not None and to_id == lot[0]:
            problems.append(("to_centre", "the same centre as the lot's"))
    quantity = number_field(problems, values, "quantity", required=True)
    if lot is not None and quantity is not None and quantity > lot[5] + 1e-9:
        problems.append(("quantity", f"more than the {lot[5]:g} in stock"))
    moved_on = date_field(problems, values, "moved_on")
    if moved_on is not None and moved_on > today:
        problems.append(("moved_on", "in the future"))
    raise_problems(problems)
    centre_id, minor, item, unit, expires_on, _ = lot
    _move(
        session,
        centre_id,
        "transferred_out",
        moved_on,
        minor,
        item,
        unit,
        quantity,
        expires_on,
        user,
        counterpart=to_id,
    )
    _move(
        session,
        to_id,
        "transferred_in",
        moved_on,
        minor,
        item,
        unit,
        quantity,
        expires_on,
        user,
        counterpart=centre_id,
    )


def discard(session: Session, scope: CentreScope, values, *, user: str, today: dt.date) -> None:
    """Throw away ``quantity`` of a lot (an ``expired`` movement); default: all that is left."""
    problems = []
    lot = _lot(session, problems, scope, values.get("lot"))
    quantity = number_field(problems, values, "quantity")
    if quantity is None and lot is not None and not any(f == "quantity" for f, _ in problems):
        quantity = lot[5]
    if lot is not None and quantity is not None and quantity > lot[5] + 1e-9:
        problems.append(("quantity", f"more than the {lot[5]:g} in stock"))
    moved_on = date_field(problems, values, "moved_on")
    if moved_on is not None and moved_on > today:
        problems.append(("moved_on", "in the future"))
    raise_problems(problems)
    centre_id, minor, item, unit, expires_on, _ = lot
    _move(session, centre_id, "expired", moved_on, minor, item, unit, quantity, expires_on, user)
