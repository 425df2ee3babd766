"""Who sees what of the shared support records (issue 13, point 7): the consent rules per role.

A :class:`Viewer` says how a caller reads support records:

- ``full`` (leaders in their dongs, admins everywhere): every record in full;
- ``agency`` (agency staff, with their provider): their own provider's records in full;
  another provider's record of a resident who consented to sharing (``sharing_consents``
  with ``consented``) as provider, category (major and minor) and date only; without
  consent, only that another record *exists* in the same minor category within that
  category's window (:mod:`sharing.config`) of one of the agency's own records of the
  person, with whom to ask at the resident's community centre (the provider of kind
  ``community_centre`` whose ``area_id`` is the resident's dong: its name, and the address
  of its facility when stored; no phone number is stored);
- ``none``: nothing.

A person recorded under several resident ids (``resident_links``) is one person here: the
records of all their ids are read together.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import text
from sqlalchemy.orm import Session

from geo.accounts import Account
from sharing.config import WarningConfig
from visitmap.vocab import SUPPORT_MAJOR, SUPPORT_MINOR

#: The shapes a record takes: in full, shared (provider, category, date), or only its existence.
FULL, SHARED, EXISTS = "full", "shared", "exists"


@dataclass(frozen=True)
class Viewer:
    """How a caller reads support records.

    Attributes
    ----------
    kind : str
        ``full``, ``agency`` or ``none``.
    area_codes : frozenset of str or None
        For ``full``: the dongs seen (None: all).
    provider_id : int or None
        For ``agency``: the caller's provider (database id).
    """

    kind: str
    area_codes: frozenset[str] | None = None
    provider_id: int | None = None

    @classmethod
    def of(cls, account: Account | None) -> Viewer:
        """Return the viewer of ``account``: admin, then leader, then agency staff."""
        if account is None or account.disabled:
            return cls("none")
        if account.has("admin") or (account.has("leader") and account.all_areas):
            return cls("full")
        if account.has("leader"):
            return cls("full", frozenset(account.area_codes))
        if account.has("agency") and account.provider_db_id is not None:
            return cls("agency", provider_id=account.provider_db_id)
        return cls("none")

    def sees_area(self, area_code: str) -> bool:
        """Return whether records of residents of ``area_code`` are seen in full."""
        return self.kind == "full" and (self.area_codes is None or area_code in self.area_codes)


def person_ids(session: Session, resident_ids: Iterable[int]) -> dict[int, list[int]]:
    """Return, per resident id, the ids of all rows of the same person (itself included)."""
    ids = sorted({int(i) for i in resident_ids})
    if not ids:
        return {}
    rows = session.execute(
        text("""
        SELECT r.id AS rid, l2.resident_id AS other
        FROM unnest(CAST(:ids AS int[])) AS r(id)
        JOIN resident_links l1 ON l1.resident_id = r.id
        JOIN resident_links l2 ON l2.person_id = l1.person_id"""),
        {"ids": ids},
    ).all()
    out = {i: [i] for i in ids}
    for rid, other in rows:
        if other not in out[rid]:
            out[rid].append(other)
    return {k: sorted(v) for k, v in out.items()}


def centre_contact(session: Session, resident_id: int) -> dict | None:
    """Return whom to ask at ``resident_id``'s community centre, or None if none is stored.

    The centre is the provider of kind ``community_centre`` serving the resident's dong
    (``providers.area_id``); ``address`` is its facility's, when it has one.
    """
    row = session.execute(
        text("""
        SELECT p.external_id, p.name, f.address
        FROM residents r JOIN households h ON h.id = r.household_id
        JOIN providers p ON p.area_id = h.area_id AND p.kind = 'community_centre'
        LEFT JOIN facilities f ON f.id = p.facility_id
        WHERE r.id = :r ORDER BY p.id LIMIT 1"""),
        {"r": resident_id},
    ).one_or_none()
    if row is None:
        return None
    return {"provider_id": row.external_id, "name": row.name, "address": row.address}


def _consented(session: Session, resident_ids: list[int]) -> set[int]:
    return set(
        session.execute(
            text("""SELECT resident_id FROM sharing_consents
                WHERE consented AND resident_id = ANY(:ids)"""),
            {"ids": resident_ids},
        ).scalars()
    )


def _records(session: Session, resident_ids: list[int]) -> list[dict]:
    rows = session.execute(
        text("""
        SELECT s.id, s.external_id, s.resident_id, r.external_id AS resident,
               s.provider_id, p.external_id AS provider_ext, p.name AS provider_name,
               s.minor_category, s.item, s.quantity, s.unit, s.amount_krw, s.provided_on,
               s.recurring_period, s.funding, s.expires_on, s.entered_by,
               n.external_id AS need
        FROM support_records s
        JOIN residents r ON r.id = s.resident_id
        JOIN providers p ON p.id = s.provider_id
        LEFT JOIN needs n ON n.id = s.need_id
        WHERE s.resident_id = ANY(:ids)
        ORDER BY s.provided_on DESC, s.id DESC"""),
        {"ids": resident_ids},
    ).mappings()
    return [dict(row) for row in rows]


def _category(minor: str) -> dict:
    major = SUPPORT_MINOR[minor][0]
    return {
        "major_category": major,
        "major_label": SUPPORT_MAJOR[major][0],
        "minor_category": minor,
        "minor_label": SUPPORT_MINOR[minor][1],
    }


def _full(row: dict) -> dict:
    return {
        "shape": FULL,
        "record_id": row["external_id"],
        "resident_id": row["resident"],
        "provider_id": row["provider_ext"],
        "provider": row["provider_name"],
        **_category(row["minor_category"]),
        "item": row["item"],
        "quantity": row["quantity"],
        "unit": row["unit"],
        "amount_krw": row["amount_krw"],
        "provided_on": row["provided_on"].isoformat(),
        "recurring_period": row["recurring_period"],
        "funding": row["funding"],
        "expires_on": row["expires_on"].isoformat() if row["expires_on"] else None,
        "need_id": row["need"],
        "entered_by": row["entered_by"],
    }


def _shared(row: dict) -> dict:
    return {
        "shape": SHARED,
        "provider_id": row["provider_ext"],
        "provider": row["provider_name"],
        **_category(row["minor_category"]),
        "provided_on": row["provided_on"].isoformat(),
    }


def visible_records(
    session: Session,
    viewer: Viewer,
    resident_id: int,
    area_code: str,
    *,
    config: WarningConfig,
) -> list[dict]:
    """Return the support records of ``resident_id`` (and their person's other ids) as seen.

    Each is a dict with ``shape`` (``full``, ``shared`` or ``exists``); see the module
    docstring. ``exists`` entries carry ``minor_category`` (and labels), ``near`` (the date
    of the agency's own record it is within the window of), ``window_days`` and ``ask`` (the
    community centre to ask, or None). Newest first; one ``exists`` entry per minor
    category and own record.
    """
    if viewer.kind == "none":
        return []
    ids = person_ids(session, [resident_id])[resident_id]
    rows = _records(session, ids)
    if viewer.kind == "full":
        return [_full(r) for r in rows] if viewer.sees_area(area_code) else []
    own = [r for r in rows if r["provider_id"] == viewer.provider_id]
    others = [r for r in rows if r["provider_id"] != viewer.provider_id]
    if _consented(session, ids):
        return [_full(r) if r in own else _shared(r) for r in rows]
    shown = [_full(r) for r in own]
    ask = centre_contact(session, resident_id) if others else None
    seen: set[tuple[str, str]] = set()
    for other in others:
        minor = other["minor_category"]
        window = config.window_days(minor)
        for mine in own:
            if mine["minor_category"] != minor:
                continue
            if abs((other["provided_on"] - mine["provided_on"]).days) <= window:
                key = (minor, mine["external_id"])
                if key not in seen:
                    seen.add(key)
                    shown.append(
                        {
                            "shape": EXISTS,
                            **_category(minor),
                            "near": mine["provided_on"].isoformat(),
                            "window_days": window,
                            "ask": ask,
                        }
                    )
                break
    return shown


def consent_of(session: Session, resident_ids: list[int]) -> dict | None:
    """Return the current consent of a person (any of their ids): consented and since when."""
    row = session.execute(
        text("""SELECT bool_or(consented) AS consented, max(decided_on) AS decided_on
            FROM sharing_consents WHERE resident_id = ANY(:ids)"""),
        {"ids": resident_ids},
    ).one()
    if row.consented is None:
        return None
    return {"consented": bool(row.consented), "decided_on": row.decided_on.isoformat()}


def consent_given(session: Session, resident_id: int) -> bool:
    """Return whether the person of ``resident_id`` (any of their ids) consented to sharing."""
    return bool(_consented(session, person_ids(session, [resident_id])[resident_id]))
