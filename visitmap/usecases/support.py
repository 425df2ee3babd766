"""Record support, needs and consent to sharing: who may, for whom, and parsing what came.

The form (``webmap.support_forms``) and the API send the same values; this module parses
them (:func:`support_input_from_mapping`, ...), decides who writes for which residents
(:func:`writer_for`), writes through :mod:`geo.support_records` in the caller's transaction
and then calls :func:`after_write` with the residents written for. Rules:
docs/support_records.md.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping

from sqlalchemy.orm import Session

from geo.accounts import Account
from geo.blind_spots import contact_made
from geo.scope import Scope
from geo.support_records import (
    COMMUNITY_CENTRE,
    NeedInput,
    SupportError,
    SupportInput,
    Writer,
    centre_area_code,
    insert_need,
    insert_support,
    provider_row,
)
from geo.support_records import set_consent as write_consent
from geo.support_warnings import refresh_for_residents
from visitmap.errors import Forbidden


def after_write(session: Session, resident_ids, today: dt.date) -> None:
    """Run after every support, need or consent write, in the same transaction.

    Recomputes the stored warnings (``support_warnings``) of the persons written for, with
    :func:`geo.support_warnings.refresh_for_residents`, so the overview, the map layer and the
    resident panel show the write at once (a new duplicate turns red; a need met by the new
    record stops being an omission).

    Parameters
    ----------
    session : Session
        The writing transaction.
    resident_ids : iterable of int
        Database ids of the residents written for.
    today : datetime.date
        The day the windows are counted to.
    """
    resident_ids = list(resident_ids)
    refresh_for_residents(session, resident_ids, today)
    contact_made(session, resident_ids)  # issue 14: support reached them (docs/blind_spots.md)


def is_centre_staff(session: Session, account: Account) -> bool:
    """Return whether ``account`` is community-centre staff (docs/accounts.md).

    A leader or visitor whose organisation is a community centre.
    """
    if not account.has("leader", "visitor") or account.provider_id is None:
        return False
    provider = provider_row(session, account.provider_id)
    return provider is not None and provider["kind"] == COMMUNITY_CENTRE


def _centre_scope(session: Session, account: Account) -> Scope:
    """Return the dongs of a leader, or of a community-centre visitor's centre."""
    if account.has("leader"):
        return Scope.everything() if account.all_areas else Scope.of_areas(account.area_codes)
    codes = set(account.area_codes)
    centre = centre_area_code(session, account.provider_id)
    if centre is not None:
        codes.add(centre)
    return Scope.of_areas(codes)


def may_record_support(session: Session, account: Account) -> bool:
    """Return whether ``account`` may record support at all (for showing the form's link)."""
    try:
        writer_for(session, account)
    except Forbidden:
        return False
    return True


def writer_for(session: Session, account: Account, *, consent: bool = False) -> Writer:
    """Return who writes, for which residents, of which provider (docs/support_records.md).

    - admin: every resident; may name any provider;
    - agency staff: every resident of the district (found by id or by exact name and birth
      year), support of their own provider only;
    - leaders: the residents of their dongs (all with ``all_areas``); a district-wide leader,
      or one without an organisation, may name the provider, else it is their own;
    - community-centre visitors: the residents of their centre's dong, their centre only.

    ``consent=True``: consent may be set by community-centre staff, leaders and admins only.

    Raises
    ------
    Forbidden
        The account may not write these records.
    """
    if account.disabled:
        raise Forbidden("this account is disabled")
    if account.has("admin"):
        return Writer(account.username, Scope.everything(), account.provider_id, True)
    if account.has("agency") and not account.has("leader") and not consent:
        if account.provider_id is None:
            raise Forbidden("your agency account has no organisation; ask an administrator")
        return Writer(account.username, Scope.everything(), account.provider_id, False)
    if account.has("leader"):
        choose = account.all_areas or account.provider_id is None
        return Writer(
            account.username, _centre_scope(session, account), account.provider_id, choose
        )
    if account.has("visitor") and is_centre_staff(session, account):
        return Writer(account.username, _centre_scope(session, account), account.provider_id, False)
    what = "consent to sharing" if consent else "support"
    raise Forbidden(f"only community-centre staff, leaders and agencies record {what}")


# ----------------------------------------------------------------------------- parsing


def _text(value) -> str | None:
    if value is None:
        return None
    value = value.strip()
    return value or None


def _strings(data: Mapping, fields, problems) -> dict:
    raw = {}
    for field in fields:
        value = data.get(field)
        if value is not None and not isinstance(value, str):
            problems.append((field, f"must be a string, got {type(value).__name__}"))
        elif value is not None and "\x00" in value:
            problems.append((field, "must not contain NUL characters"))
        else:
            raw[field] = _text(value)
    return raw


def _date(raw: dict, field: str, problems) -> dt.date | None:
    value = raw.get(field)
    if value is None:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        problems.append((field, f"not a date (YYYY-MM-DD): {value!r}"))
        return None


def _bool(data: Mapping, field: str, problems) -> bool:
    value = data.get(field)
    if value is None or value is False or value == "":
        return False
    if value is True or value in ("on", "true", "1", "yes"):
        return True
    problems.append((field, f"must be true or false, got {value!r}"))
    return False


def _number(data: Mapping, field: str, problems, *, integer: bool):
    value = data.get(field)
    if isinstance(value, str):
        value = _text(value.replace(",", ""))
    if value is None:
        return None
    if isinstance(value, bool):
        problems.append((field, "must be a number"))
        return None
    if isinstance(value, int | float):
        number = value
    else:
        try:
            number = int(value) if integer else float(value)
        except ValueError:
            problems.append((field, f"not a {'whole ' if integer else ''}number: {value!r}"))
            return None
    if integer and (isinstance(number, float) and not number.is_integer()):
        problems.append((field, f"must be a whole number of won, got {value!r}"))
        return None
    return int(number) if integer else float(number)


#: The text fields of a support record, as the form names them.
SUPPORT_TEXT = (
    "record_id",
    "resident",
    "minor_category",
    "item",
    "funding",
    "provided_on",
    "unit",
    "recurring_period",
    "expires_on",
    "need",
    "provider",
)


def support_input_from_mapping(data: Mapping) -> SupportInput:
    """Parse submitted values (form fields or JSON) into a :class:`SupportInput`.

    Only the shape is checked here (strings, dates ``YYYY-MM-DD``, numbers, booleans);
    whether the resident, category, provider, need and stock are right is checked when the
    record is written. ``quantity`` and ``amount_krw`` may be numbers or text ("1,000").

    Raises
    ------
    SupportError
        Naming every malformed field.
    """
    problems: list[tuple[str, str]] = []
    raw = _strings(data, SUPPORT_TEXT, problems)
    provided_on = _date(raw, "provided_on", problems)
    expires_on = _date(raw, "expires_on", problems)
    quantity = _number(data, "quantity", problems, integer=False)
    amount = _number(data, "amount_krw", problems, integer=True)
    from_stock = _bool(data, "from_stock", problems)
    need_met = _bool(data, "need_met", problems)
    if problems:
        raise SupportError(problems)
    return SupportInput(
        record_id=raw.get("record_id") or "",
        resident_id=raw.get("resident") or "",
        minor_category=raw.get("minor_category") or "",
        item=raw.get("item") or "",
        funding=raw.get("funding") or "",
        provided_on=provided_on,
        quantity=quantity,
        unit=raw.get("unit"),
        amount_krw=amount,
        recurring_period=raw.get("recurring_period"),
        expires_on=expires_on,
        need_id=raw.get("need"),
        need_met=need_met,
        provider_id=raw.get("provider"),
        from_stock=from_stock,
    )


def need_input_from_mapping(data: Mapping) -> NeedInput:
    """Parse submitted values into a :class:`NeedInput` (shape only; see above)."""
    problems: list[tuple[str, str]] = []
    raw = _strings(data, ("need_id", "resident", "category", "identified_on", "status"), problems)
    identified_on = _date(raw, "identified_on", problems)
    if problems:
        raise SupportError(problems)
    return NeedInput(
        need_id=raw.get("need_id") or "",
        resident_id=raw.get("resident") or "",
        category=raw.get("category") or "",
        identified_on=identified_on,
        status=raw.get("status") or "open",
    )


def consent_from_mapping(data: Mapping) -> tuple[bool | None, dt.date | None]:
    """Parse ``consented`` (true/false, or the form's "yes"/"no") and ``decided_on``."""
    problems: list[tuple[str, str]] = []
    value = data.get("consented")
    consented = None
    if value in (True, "yes", "true"):
        consented = True
    elif value in (False, "no", "false"):
        consented = False
    elif value not in (None, ""):
        problems.append(("consented", f"must be true or false, got {value!r}"))
    raw = _strings(data, ("decided_on",), problems)
    decided_on = _date(raw, "decided_on", problems)
    if problems:
        raise SupportError(problems)
    return consented, decided_on


# ----------------------------------------------------------------------------- writes


def record_support(session: Session, account: Account, data: Mapping, *, today: dt.date) -> dict:
    """Parse, check and write one support record for ``account``; then :func:`after_write`.

    Returns :func:`geo.support_records.support_summary` with ``replayed``. Raises
    :class:`~geo.support_records.SupportError` (400, every bad field),
    :class:`~geo.support_records.RecordIdConflict` (409) or Forbidden (403).
    """
    writer = writer_for(session, account)
    record = support_input_from_mapping(data)
    summary, resident_db_id = insert_support(session, writer, record, today=today)
    if not summary["replayed"]:
        after_write(session, [resident_db_id], today)
    return summary


def record_need(
    session: Session, account: Account, data: Mapping, *, today: dt.date, source: str
) -> dict:
    """Parse, check and write one need for ``account``; then :func:`after_write`."""
    writer = writer_for(session, account)
    need = need_input_from_mapping(data)
    summary, resident_db_id = insert_need(session, writer, need, today=today, source=source)
    if not summary["replayed"]:
        after_write(session, [resident_db_id], today)
    return summary


def set_consent(
    session: Session,
    account: Account,
    resident_id: str,
    data: Mapping,
    *,
    today: dt.date,
    source: str,
) -> dict:
    """Set or withdraw a resident's consent for ``account``; then :func:`after_write`.

    Only community-centre staff, leaders and admins (:func:`writer_for` with
    ``consent=True``), for residents of their dongs.
    """
    writer = writer_for(session, account, consent=True)
    consented, decided_on = consent_from_mapping(data)
    state, resident_db_id = write_consent(
        session, writer, resident_id, consented, decided_on, today=today, source=source
    )
    if state["changed"]:
        after_write(session, [resident_db_id], today)
    return state


__all__ = [
    "SupportError",
    "after_write",
    "record_need",
    "may_record_support",
    "record_support",
    "set_consent",
    "writer_for",
]
