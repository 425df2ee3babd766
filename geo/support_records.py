"""Support records, needs and sharing consent in PostGIS: check, write and read back.

Check and write a support record (:func:`insert_support`) or a need (:func:`insert_need`)
with who entered it; a record given from a community centre's stock also writes its
``issued`` stock movement, and one that meets a need moves the need on. Set or withdraw a
resident's consent to sharing (:func:`set_consent`), which appends to ``consent_events``.
Every check names its field; nothing is written when one fails. A retried write with the
same record id writes nothing new; the same id with different values is refused.
Who may write for which residents is decided by the caller (``visitmap.usecases.support``)
and arrives here as a :class:`~geo.scope.Scope` and a provider. Rules: docs/support_records.md.

Length: one module because the checks of a support record, of a need and of a consent read
the same rows (resident, provider, needs, stock) and share the problem list and the replay
rule; split, each part would import the others.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from dataclasses import dataclass

from sqlalchemy import text
from sqlalchemy.orm import Session

from geo.scope import Scope
from geo.visits import IdempotencyConflict, VisitError, resident_row
from visitmap.vocab import (
    NEED_CATEGORIES,
    SUPPORT_FUNDING,
    SUPPORT_MAJOR,
    SUPPORT_MINOR,
    SUPPORT_PERIODS,
)

#: Longest item name, characters.
ITEM_MAX_CHARS = 200
#: Longest unit, characters.
UNIT_MAX_CHARS = 20
#: Largest quantity of one record.
QUANTITY_MAX = 1_000_000
#: Largest amount of one record, won.
AMOUNT_MAX_KRW = 10_000_000_000
#: Earliest date accepted (older dates are typing mistakes).
EARLIEST_DAY = dt.date(2000, 1, 1)
#: How long after the day given an expiry date may lie, days.
EXPIRY_MAX_DAYS = 10 * 366
#: A record or need id: what an agency's own system or the form (``S-<uuid>``) makes.
RECORD_ID_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,79}$")
#: Need statuses a new need may have; a need a support record may meet.
NEW_NEED_STATUSES = ("open", "in_progress")
#: ``providers.kind`` of a community centre, whose stock the records may draw on.
COMMUNITY_CENTRE = "community_centre"


class SupportError(VisitError):
    """The record, need or consent cannot be written; nothing was written.

    ``problems`` lists (field, message); ``field`` is the first problem's field. The same
    shape as a visit's error, so the API lists every problem (``webmap.errors``).
    """


class RecordIdConflict(IdempotencyConflict, SupportError):
    """The record id was used before for a different record (HTTP 409)."""


@dataclass(frozen=True)
class SupportInput:
    """One support record as submitted (ids are external ids; dates None mean today)."""

    record_id: str
    resident_id: str
    minor_category: str
    item: str
    funding: str
    provided_on: dt.date | None = None
    quantity: float | None = None
    unit: str | None = None
    amount_krw: int | None = None
    recurring_period: str | None = None
    expires_on: dt.date | None = None
    need_id: str | None = None
    need_met: bool = False
    provider_id: str | None = None
    from_stock: bool = False


@dataclass(frozen=True)
class NeedInput:
    """One need as submitted."""

    need_id: str
    resident_id: str
    category: str
    identified_on: dt.date | None = None
    status: str = "open"


@dataclass(frozen=True)
class Writer:
    """Who writes, as the checks need it.

    Attributes
    ----------
    username : str
        Stored as ``entered_by`` / ``recorded_by``.
    scope : Scope
        The residents the writer may write for.
    provider_id : str or None
        The writer's organisation (external id), the default provider.
    may_choose_provider : bool
        True when the writer may record support of another provider.
    """

    username: str
    scope: Scope
    provider_id: str | None
    may_choose_provider: bool


def provider_row(session: Session, external_id: str) -> dict | None:
    """Return the provider ``external_id`` (id, external_id, name, kind, area_id) or None."""
    if "\x00" in external_id:
        return None
    row = (
        session.execute(
            text("""SELECT id, external_id, name, kind, sector, area_id FROM providers
                WHERE external_id = :p"""),
            {"p": external_id},
        )
        .mappings()
        .one_or_none()
    )
    return None if row is None else dict(row)


def centre_area_code(session: Session, provider_external_id: str | None) -> str | None:
    """Return the 행정동 code of the dong a provider serves (``providers.area_id``), or None."""
    if provider_external_id is None:
        return None
    return session.execute(
        text("""SELECT a.code FROM providers p JOIN areas a ON a.id = p.area_id
            WHERE p.external_id = :p"""),
        {"p": provider_external_id},
    ).scalar_one_or_none()


def providers(session: Session) -> list[dict]:
    """Return every provider (external_id, name, kind), community centres first, by name."""
    rows = session.execute(
        text(f"""SELECT external_id, name, kind FROM providers
            ORDER BY kind IS DISTINCT FROM '{COMMUNITY_CENTRE}', name, external_id""")
    ).mappings()
    return [dict(r) for r in rows]


def open_needs(session: Session, resident_db_id: int) -> list[dict]:
    """Return the resident's needs that are open or in progress, oldest first.

    Each a dict of ``need_id`` (external id), ``category``, ``status``, ``identified_on``.
    """
    rows = session.execute(
        text("""SELECT external_id AS need_id, category, status, identified_on FROM needs
            WHERE resident_id = :r AND status IN ('open', 'in_progress')
            ORDER BY identified_on, external_id"""),
        {"r": resident_db_id},
    ).mappings()
    return [dict(r) for r in rows]


def stock_lots(session: Session, centre_db_id: int) -> list[dict]:
    """Return the centre's stock on hand: the lots with a positive signed sum of movements.

    Each a dict of ``minor_category``, ``item``, ``unit``, ``expires_on``, ``quantity``;
    ordered by minor category, item, expiry (soonest first).
    """
    rows = session.execute(
        text(f"""SELECT minor_category, item, unit, expires_on, {_SIGNED_SUM} AS quantity
            FROM stock_movements WHERE centre_id = :c
            GROUP BY minor_category, item, unit, expires_on HAVING {_SIGNED_SUM} > 0
            ORDER BY minor_category, item, expires_on NULLS LAST, unit"""),
        {"c": centre_db_id},
    ).mappings()
    return [dict(r) for r in rows]


#: The signed quantity of stock movements (models.StockMovement gives the signs).
_SIGNED_SUM = """coalesce(sum(CASE WHEN kind IN ('received', 'transferred_in', 'adjusted')
    THEN quantity ELSE -quantity END), 0)"""


def stock_on_hand(
    session: Session, centre_db_id: int, minor: str, item: str, unit: str, expires_on
) -> float:
    """Return the centre's stock of one lot (centre, minor category, item, unit, expiry)."""
    return float(
        session.execute(
            text(f"""SELECT {_SIGNED_SUM} FROM stock_movements
                WHERE centre_id = :c AND minor_category = :m AND item = :i AND unit = :u
                  AND expires_on IS NOT DISTINCT FROM CAST(:e AS date)"""),
            {"c": centre_db_id, "m": minor, "i": item, "u": unit, "e": expires_on},
        ).scalar()
    )


def _check_id(problems: list, field: str, value: str) -> None:
    if not RECORD_ID_PATTERN.match(value or ""):
        problems.append(
            (field, "must be 1-80 letters, digits or . _ : - (the form makes one; reload it)")
        )


def _check_day(problems: list, field: str, day: dt.date | None, today: dt.date) -> None:
    if day is not None and day > today:
        problems.append((field, f"is in the future (today is {today.isoformat()})"))
    elif day is not None and day < EARLIEST_DAY:
        problems.append((field, f"before {EARLIEST_DAY.isoformat()}"))


def _resolve_provider(session: Session, writer: Writer, chosen: str | None, problems: list):
    """Return the provider row the record is of, or None after adding a problem."""
    if chosen is not None and chosen != writer.provider_id and not writer.may_choose_provider:
        problems.append(("provider", "you record support of your own organisation only"))
        return None
    wanted = chosen or writer.provider_id
    if wanted is None:
        problems.append(("provider", "choose the provider that gave the support"))
        return None
    row = provider_row(session, wanted)
    if row is None:
        problems.append(("provider", f"no provider {wanted!r}"))
    return row


def _check_support(session: Session, writer: Writer, rec: SupportInput, today: dt.date):
    """Return (problems, resident, provider, need, provided_on) of ``rec``."""
    problems: list[tuple[str, str]] = []
    _check_id(problems, "record_id", rec.record_id)
    resident = (
        resident_row(session, writer.scope, rec.resident_id, lock=True) if rec.resident_id else None
    )
    if resident is None:
        problems.append(("resident", f"no resident {rec.resident_id!r} you may record for"))
    provider = _resolve_provider(session, writer, rec.provider_id, problems)
    if rec.minor_category not in SUPPORT_MINOR:
        problems.append(
            ("minor_category", f"unknown minor category {rec.minor_category!r} (see the list)")
        )
    if not rec.item:
        problems.append(("item", "enter what was given"))
    elif len(rec.item) > ITEM_MAX_CHARS:
        problems.append(("item", f"too long: {len(rec.item)} characters (at most 200)"))
    provided_on = rec.provided_on or today
    _check_day(problems, "provided_on", rec.provided_on, today)
    if rec.quantity is None and rec.amount_krw is None:
        problems.append(("quantity", "enter a quantity (with its unit) or an amount in won"))
    if rec.quantity is not None and not (
        math.isfinite(rec.quantity) and 0 < rec.quantity <= QUANTITY_MAX
    ):
        problems.append(("quantity", f"must be more than 0 and at most {QUANTITY_MAX:,}"))
    if rec.quantity is not None and not rec.unit:
        problems.append(("unit", "enter the unit of the quantity (개, kg, 박스, ...)"))
    if rec.unit is not None and len(rec.unit) > UNIT_MAX_CHARS:
        problems.append(("unit", f"too long (at most {UNIT_MAX_CHARS} characters)"))
    if rec.amount_krw is not None and not 0 <= rec.amount_krw <= AMOUNT_MAX_KRW:
        problems.append(("amount_krw", f"must be 0 to {AMOUNT_MAX_KRW:,} won"))
    if rec.recurring_period is not None and rec.recurring_period not in SUPPORT_PERIODS:
        problems.append(
            (
                "recurring_period",
                f"unknown period {rec.recurring_period!r} (one of {', '.join(SUPPORT_PERIODS)})",
            )
        )
    if rec.funding not in SUPPORT_FUNDING:
        problems.append(("funding", f"choose one of {', '.join(SUPPORT_FUNDING)}"))
    if rec.expires_on is not None and rec.expires_on < provided_on:
        problems.append(("expires_on", f"is before the day given ({provided_on.isoformat()})"))
    elif rec.expires_on is not None and (rec.expires_on - provided_on).days > EXPIRY_MAX_DAYS:
        problems.append(("expires_on", f"more than {EXPIRY_MAX_DAYS} days after the day given"))
    need = None
    if rec.need_id is not None and resident is not None:
        need = (
            session.execute(
                text("""SELECT id, external_id, status, identified_on FROM needs
                    WHERE external_id = :n AND resident_id = :r FOR UPDATE"""),
                {"n": rec.need_id, "r": resident["id"]},
            )
            .mappings()
            .one_or_none()
        )
        if need is None:
            problems.append(("need", f"no need {rec.need_id!r} of this resident"))
        elif need["status"] not in NEW_NEED_STATUSES:
            problems.append(("need", f"need {rec.need_id!r} is already {need['status']}"))
        elif need["identified_on"] > provided_on:
            problems.append(("need", "the need was found after the day given"))
    if rec.need_met and rec.need_id is None:
        problems.append(("need_met", "choose the need this support meets"))
    if rec.from_stock and provider is not None:
        if provider["kind"] != COMMUNITY_CENTRE:
            problems.append(("from_stock", "only a community centre gives from its stock"))
        elif rec.quantity is not None and rec.unit and rec.minor_category in SUPPORT_MINOR:
            session.execute(  # one stock check at a time per centre
                text("SELECT 1 FROM providers WHERE id = :c FOR UPDATE"), {"c": provider["id"]}
            )
            have = stock_on_hand(
                session, provider["id"], rec.minor_category, rec.item, rec.unit, rec.expires_on
            )
            if have < rec.quantity:
                problems.append(
                    (
                        "quantity",
                        f"only {have:g} {rec.unit} of {rec.item!r} in the centre's stock"
                        + (f" expiring {rec.expires_on.isoformat()}" if rec.expires_on else ""),
                    )
                )
    return problems, resident, provider, need, provided_on


def _same(existing: dict, wanted: dict) -> bool:
    return all(existing[key] == value for key, value in wanted.items())


def insert_support(
    session: Session, writer: Writer, rec: SupportInput, *, today: dt.date
) -> tuple[dict, int]:
    """Check and write one support record (and its stock issue and need change).

    Parameters
    ----------
    session : Session
        The caller's transaction (it commits or rolls back).
    writer : Writer
        Who writes: scope, organisation, whether another provider may be named.
    rec : SupportInput
        The record.
    today : date
        Today in Korea (dates after it are refused).

    Returns
    -------
    summary : dict
        :func:`support_summary` of the record, with ``replayed`` True when the record id had
        recorded this very record before (nothing new was written).
    resident_db_id : int
        The resident's database id.

    Raises
    ------
    SupportError
        Naming every bad field; nothing was written.
    RecordIdConflict
        The record id names a different stored record.
    """
    problems, resident, provider, need, provided_on = _check_support(session, writer, rec, today)
    existing = None
    if not any(field == "record_id" for field, _ in problems):
        existing = (
            session.execute(
                text("""SELECT s.*, n.external_id AS need_external_id,
                        EXISTS (SELECT 1 FROM stock_movements m
                                WHERE m.support_record_id = s.id) AS from_stock
                    FROM support_records s LEFT JOIN needs n ON n.id = s.need_id
                    WHERE s.external_id = :x"""),
                {"x": rec.record_id},
            )
            .mappings()
            .one_or_none()
        )
    if existing is not None:
        wanted = {
            "resident_id": None if resident is None else resident["id"],
            "provider_id": None if provider is None else provider["id"],
            "minor_category": rec.minor_category,
            "item": rec.item,
            "quantity": rec.quantity,
            "unit": rec.unit,
            "amount_krw": rec.amount_krw,
            "provided_on": provided_on,
            "recurring_period": rec.recurring_period,
            "funding": rec.funding,
            "expires_on": rec.expires_on,
            "need_external_id": rec.need_id,
            "from_stock": rec.from_stock,
        }
        if not _same(dict(existing), wanted):
            raise RecordIdConflict([("record_id", f"{rec.record_id!r} names another record")])
        return support_summary(session, existing["id"]) | {"replayed": True}, existing["id"]
    if problems:
        raise SupportError(problems)
    major = SUPPORT_MINOR[rec.minor_category][0]
    assert major in SUPPORT_MAJOR
    record_db_id = session.execute(
        text("""INSERT INTO support_records (external_id, resident_id, provider_id, category,
                item, amount_krw, quantity, unit, provided_on, minor_category,
                recurring_period, funding, expires_on, need_id, entered_by)
            VALUES (:x, :r, :p, :cat, :item, :amount, :qty, :unit, :on, :minor, :period,
                :funding, :exp, :need, :by) RETURNING id"""),
        {
            "x": rec.record_id,
            "r": resident["id"],
            "p": provider["id"],
            "cat": SUPPORT_MINOR[rec.minor_category][3],
            "item": rec.item,
            "amount": rec.amount_krw,
            "qty": rec.quantity,
            "unit": rec.unit,
            "on": provided_on,
            "minor": rec.minor_category,
            "period": rec.recurring_period,
            "funding": rec.funding,
            "exp": rec.expires_on,
            "need": None if need is None else need["id"],
            "by": writer.username,
        },
    ).scalar_one()
    if rec.from_stock:
        session.execute(
            text("""INSERT INTO stock_movements (centre_id, kind, moved_on, minor_category,
                    item, unit, quantity, expires_on, support_record_id, entered_by)
                VALUES (:c, 'issued', :on, :minor, :item, :unit, :qty, :exp, :s, :by)"""),
            {
                "c": provider["id"],
                "on": provided_on,
                "minor": rec.minor_category,
                "item": rec.item,
                "unit": rec.unit,
                "qty": rec.quantity,
                "exp": rec.expires_on,
                "s": record_db_id,
                "by": writer.username,
            },
        )
    if need is not None:
        session.execute(
            text("""UPDATE needs SET status = :status,
                    resolved_on = CASE WHEN :met THEN CAST(:on AS date) END
                WHERE id = :n"""),
            {
                "status": "met" if rec.need_met else "in_progress",
                "met": rec.need_met,
                "on": provided_on,
                "n": need["id"],
            },
        )
    return support_summary(session, record_db_id) | {"replayed": False}, resident["id"]


def support_summary(session: Session, record_db_id: int) -> dict:
    """Return a stored support record as the form's confirmation and the API show it."""
    row = (
        session.execute(
            text("""SELECT s.external_id AS record_id, r.external_id AS resident_id,
                    p.external_id AS provider_id, p.name AS provider_name, s.minor_category,
                    s.category, s.item, s.quantity, s.unit, s.amount_krw, s.provided_on,
                    s.recurring_period, s.funding, s.expires_on, n.external_id AS need_id,
                    n.status AS need_status, s.entered_by, s.entered_at,
                    EXISTS (SELECT 1 FROM stock_movements m WHERE m.support_record_id = s.id
                            AND m.kind = 'issued') AS from_stock
                FROM support_records s JOIN residents r ON r.id = s.resident_id
                JOIN providers p ON p.id = s.provider_id
                LEFT JOIN needs n ON n.id = s.need_id WHERE s.id = :id"""),
            {"id": record_db_id},
        )
        .mappings()
        .one()
    )
    out = dict(row)
    out["major_category"] = SUPPORT_MINOR[out["minor_category"]][0]
    for key in ("provided_on", "expires_on"):
        out[key] = None if out[key] is None else out[key].isoformat()
    out["entered_at"] = out["entered_at"].isoformat(timespec="seconds")
    return out


def support_of_resident(session: Session, record_id: str, resident_id: str) -> dict | None:
    """Return :func:`support_summary` of record ``record_id`` if it is of ``resident_id``."""
    db_id = session.execute(
        text("""SELECT s.id FROM support_records s JOIN residents r ON r.id = s.resident_id
            WHERE s.external_id = :x AND r.external_id = :r"""),
        {"x": record_id, "r": resident_id},
    ).scalar_one_or_none()
    return None if db_id is None else support_summary(session, db_id)


def insert_need(
    session: Session, writer: Writer, need: NeedInput, *, today: dt.date, source: str
) -> tuple[dict, int]:
    """Check and write one need; return (:func:`need_summary` with ``replayed``, resident id).

    ``source`` is stored in ``needs.source`` ("support form" or "api"). A retry with the same
    need id and values writes nothing; with other values it is a :class:`RecordIdConflict`.
    Every bad field is named in one :class:`SupportError`; nothing is written then.
    """
    problems: list[tuple[str, str]] = []
    _check_id(problems, "need_id", need.need_id)
    resident = (
        resident_row(session, writer.scope, need.resident_id, lock=True)
        if need.resident_id
        else None
    )
    if resident is None:
        problems.append(("resident", f"no resident {need.resident_id!r} you may record for"))
    if need.category not in NEED_CATEGORIES:
        problems.append(("category", f"unknown need domain {need.category!r} (see the list)"))
    if need.status not in NEW_NEED_STATUSES:
        problems.append(("status", f"a new need is {' or '.join(NEW_NEED_STATUSES)}"))
    _check_day(problems, "identified_on", need.identified_on, today)
    identified_on = need.identified_on or today
    existing = None
    if not any(field == "need_id" for field, _ in problems):
        existing = (
            session.execute(text("SELECT * FROM needs WHERE external_id = :x"), {"x": need.need_id})
            .mappings()
            .one_or_none()
        )
    if existing is not None:
        wanted = {
            "resident_id": None if resident is None else resident["id"],
            "category": need.category,
            "identified_on": identified_on,
        }
        if not _same(dict(existing), wanted):
            raise RecordIdConflict([("need_id", f"{need.need_id!r} names another need")])
        return need_summary(session, existing["id"]) | {"replayed": True}, existing["id"]
    if problems:
        raise SupportError(problems)
    need_db_id = session.execute(
        text("""INSERT INTO needs (external_id, resident_id, category, status, identified_on,
                source, entered_by)
            VALUES (:x, :r, :c, :s, :on, :src, :by) RETURNING id"""),
        {
            "x": need.need_id,
            "r": resident["id"],
            "c": need.category,
            "s": need.status,
            "on": identified_on,
            "src": source,
            "by": writer.username,
        },
    ).scalar_one()
    return need_summary(session, need_db_id) | {"replayed": False}, resident["id"]


def need_summary(session: Session, need_db_id: int) -> dict:
    """Return a stored need: need_id, resident_id, category, status, dates, who entered it."""
    row = (
        session.execute(
            text("""SELECT n.external_id AS need_id, r.external_id AS resident_id, n.category,
                    n.status, n.identified_on, n.resolved_on, n.source, n.entered_by,
                    n.entered_at
                FROM needs n JOIN residents r ON r.id = n.resident_id WHERE n.id = :id"""),
            {"id": need_db_id},
        )
        .mappings()
        .one()
    )
    out = dict(row)
    for key in ("identified_on", "resolved_on"):
        out[key] = None if out[key] is None else out[key].isoformat()
    out["entered_at"] = out["entered_at"].isoformat(timespec="seconds")
    return out


def consent_state(session: Session, resident_db_id: int) -> dict:
    """Return the resident's consent and its log, newest change first.

    ``consented`` is None when it was never recorded (no consent); ``events`` lists
    ``consented``, ``decided_on``, ``recorded_by``, ``recorded_at``, ``source``.
    """
    current = (
        session.execute(
            text("""SELECT consented, decided_on, recorded_by FROM sharing_consents
                WHERE resident_id = :r"""),
            {"r": resident_db_id},
        )
        .mappings()
        .one_or_none()
    )
    events = session.execute(
        text("""SELECT consented, decided_on, recorded_by, recorded_at, source
            FROM consent_events WHERE resident_id = :r ORDER BY recorded_at DESC, id DESC"""),
        {"r": resident_db_id},
    ).mappings()
    return {
        "consented": None if current is None else current["consented"],
        "decided_on": None if current is None else current["decided_on"].isoformat(),
        "recorded_by": None if current is None else current["recorded_by"],
        "events": [
            dict(e)
            | {
                "decided_on": e["decided_on"].isoformat(),
                "recorded_at": e["recorded_at"].isoformat(timespec="seconds"),
            }
            for e in events
        ],
    }


def set_consent(
    session: Session,
    writer: Writer,
    resident_id: str,
    consented: bool | None,
    decided_on: dt.date | None,
    *,
    today: dt.date,
    source: str,
) -> tuple[dict, int]:
    """Set or withdraw a resident's consent to sharing, and log the change.

    The current state goes to ``sharing_consents``; each change is appended to
    ``consent_events`` (``source``: "form" or "api"). Setting the state it already has, on
    the same day, logs nothing (a retry). Returns (:func:`consent_state` with ``resident_id``
    and ``changed``, the resident's database id).

    Raises
    ------
    SupportError
        Naming the resident, ``consented`` or ``decided_on``; nothing was written.
    """
    problems: list[tuple[str, str]] = []
    resident = resident_row(session, writer.scope, resident_id, lock=True) if resident_id else None
    if resident is None:
        problems.append(("resident", f"no resident {resident_id!r} in your areas"))
    if consented is None:
        problems.append(("consented", "choose whether the resident consents"))
    _check_day(problems, "decided_on", decided_on, today)
    if problems:
        raise SupportError(problems)
    decided_on = decided_on or today
    before = consent_state(session, resident["id"])
    changed = not (before["consented"] == consented and before["decided_on"] == str(decided_on))
    if changed:
        params = {
            "r": resident["id"],
            "c": consented,
            "on": decided_on,
            "by": writer.username,
            "src": source,
        }
        session.execute(
            text("""INSERT INTO sharing_consents (resident_id, consented, decided_on, recorded_by)
                VALUES (:r, :c, :on, :by)
                ON CONFLICT (resident_id) DO UPDATE SET consented = excluded.consented,
                    decided_on = excluded.decided_on, recorded_by = excluded.recorded_by,
                    recorded_at = now()"""),
            params,
        )
        session.execute(
            text("""INSERT INTO consent_events (resident_id, consented, decided_on, recorded_by,
                    source) VALUES (:r, :c, :on, :by, :src)"""),
            params,
        )
    state = consent_state(session, resident["id"])
    return state | {"resident_id": resident["external_id"], "changed": changed}, resident["id"]


def mask_name(name: str | None) -> str | None:
    """Return ``name`` masked for a caller who may not see it: 김*수, 이*, first letter kept."""
    if not name:
        return name
    if len(name) <= 2:
        return name[0] + "*"
    return name[0] + "*" * (len(name) - 2) + name[-1]


def lookup_residents(
    session: Session, scope: Scope, name: str, birth_year: int, *, limit: int = 20
) -> list[dict]:
    """Return the active residents in ``scope`` with exactly this name and birth year.

    Each a dict of ``id`` (database id), ``resident_id``, ``name``, ``birth_year``,
    ``area_code``, ``area_name``; the caller masks what it may not show.
    """
    scope_sql, params = scope.sql()
    rows = session.execute(
        text(f"""SELECT r.id, r.external_id AS resident_id, r.name, r.birth_year,
                a.code AS area_code, a.name AS area_name
            FROM residents r JOIN households h ON h.id = r.household_id
            JOIN areas a ON a.id = h.area_id
            WHERE r.name = :name AND r.birth_year = :year AND r.status = 'active'{scope_sql}
            ORDER BY r.external_id LIMIT :limit"""),
        params | {"name": name, "year": birth_year, "limit": limit},
    ).mappings()
    return [dict(r) for r in rows]
