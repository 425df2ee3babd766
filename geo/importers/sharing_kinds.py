"""Import kinds of shared support (issue 13): donors, donations, stock, sponsorships, consents.

Each kind is all-or-nothing like the others (:func:`geo.importers.import_file`): every bad
cell is reported with its file, row and column before anything is written, and importing the
same file twice changes nothing. The formats are in ``docs/import_formats.md``.

- ``donors``: 후원처, upserted on ``donor_id``.
- ``donations``: a donation to a centre; one with a quantity and unit also writes the
  centre's ``received`` stock movement (external id ``<donation_id>/received``).
- ``stock-movements``: issued, transferred (each side its own row), expired, adjusted.
- ``sponsorships``: a donor's monthly sponsorship of a household ("100가정 보듬기"), with its
  successor (which may be a later row of the same file).
- ``sponsorship-payments``: one row per sponsorship and month (``YYYY-MM``).
- ``consents``: a resident's consent to share support records between agencies; the current
  state in ``sharing_consents`` and, when it changes, one row in the log ``consent_events``.

Length: six small kinds, each a field list, a check and a writer, kept together so that their
shared rules (who entered a row, references, one consent log) read side by side.
"""

from __future__ import annotations

from pathlib import PurePath

import numpy as np
import pandas as pd
from sqlalchemy import text

from geo.importers.base import (
    Batch,
    ImportSpec,
    WriteResult,
    _id,
    _kinds,
    _stage,
)
from geo.importers.fields import Field
from geo.importers.problems import Problem
from geo.importers.staging import missing_reference_problems, problems_from_query, upsert
from visitmap.vocab import DONOR_KINDS, STOCK_MOVEMENTS, SUPPORT_MINOR

__all__ = ["SHARING_SPECS", "entered_by_sql"]

TRANSFERS = ("transferred_out", "transferred_in")


def entered_by_sql(batch: Batch, column: str = "s.entered_by") -> str:
    """Return SQL for who entered a row: the file's ``entered_by``, else ``import <file>``."""
    name = PurePath(batch.label).name.replace("'", "''")
    return f"COALESCE({column}, 'import {name}')"


def _stage_all(batch: Batch, stage: str, fields: tuple[Field, ...]) -> None:
    names = [f.name for f in fields]
    _stage(batch, stage, batch.frame.reindex(columns=names), _kinds(fields, *names))


def _refs(batch: Batch, stage: str, references) -> list[Problem]:
    problems = []
    for column, table, what, *key in references:
        problems += missing_reference_problems(
            batch.session, stage, column, table, batch.label, what, *key
        )
    return problems


def _present(value) -> bool:
    return value is not None and not pd.isna(value)


def _order_problems(parsed, first: str, second: str, label: str, reason: str) -> list[Problem]:
    """Rows whose ``second`` date lies before their ``first`` date."""
    a, b = parsed[first], parsed[second]
    return [
        Problem(label, parsed.index[i], second, reason)
        for i in range(len(parsed))
        if _present(a.iat[i]) and _present(b.iat[i]) and b.iat[i] < a.iat[i]
    ]


def _amount_or_quantity(raw, parsed, label) -> list[Problem]:
    neither = (parsed["amount_krw"].isna() & parsed["quantity"].isna()).to_numpy()
    blank = np.ones(len(raw), dtype=bool)
    for column in ("amount_krw", "quantity"):
        if column in raw:
            blank &= (raw[column] == "").to_numpy()
    return [
        Problem(label, r, "amount_krw", "give amount_krw or quantity (or both)")
        for r in parsed.index[neither & blank]
    ]


# --------------------------------------------------------------------------- donors

DONOR_FIELDS = (
    _id("donor_id"),
    Field("name", max_length=200),
    Field("kind", "choice", choices=tuple(DONOR_KINDS)),
    Field("area", required=False, pattern=r"[0-9]{10}", describe="the donor's dong, adm_cd2"),
    Field("entered_by", required=False, max_length=200),
)


def _write_donors(batch: Batch, check_only: bool) -> WriteResult:
    _stage_all(batch, "stage_donors", DONOR_FIELDS)
    problems = _refs(batch, "stage_donors", [("area", "areas", "area", "code")])
    if problems or check_only:
        return WriteResult(problems=problems)
    inserted, updated = upsert(
        batch.session,
        target="donors",
        key=["external_id"],
        columns=["name", "kind", "area_id", "entered_by"],
        select_sql=f"""SELECT s.donor_id, s.name, s.kind, a.id, {entered_by_sql(batch)}
                      FROM stage_donors s LEFT JOIN areas a ON a.code = s.area
                      ORDER BY s.row_no""",
    )
    return WriteResult(inserted, updated)


# --------------------------------------------------------------------------- donations

DONATION_FIELDS = (
    _id("donation_id"),
    _id("donor_id"),
    _id("centre_id"),
    Field("received_on", "date"),
    Field("minor_category", "choice", choices=tuple(SUPPORT_MINOR)),
    Field("item", max_length=200),
    Field("quantity", "float", required=False, minimum=1e-9, maximum=1e7),
    Field("unit", required=False, max_length=50),
    Field("amount_krw", "int", required=False, minimum=0, maximum=10**11),
    Field("expires_on", "date", required=False),
    Field("entered_by", required=False, max_length=200),
)


def _check_donations(raw, parsed, bad, label) -> list[Problem]:
    problems = _amount_or_quantity(raw, parsed, label)
    problems += _order_problems(parsed, "received_on", "expires_on", label, "is before received_on")
    quantity, unit = parsed["quantity"], parsed["unit"]
    problems += [
        Problem(label, parsed.index[i], "unit", "give the unit of the quantity")
        for i in range(len(parsed))
        if _present(quantity.iat[i]) and not _present(unit.iat[i])
    ]
    return problems


def _write_donations(batch: Batch, check_only: bool) -> WriteResult:
    session = batch.session
    _stage_all(batch, "stage_donations", DONATION_FIELDS)
    problems = _refs(
        batch,
        "stage_donations",
        [("donor_id", "donors", "donor"), ("centre_id", "providers", "centre (provider)")],
    )
    if problems or check_only:
        return WriteResult(problems=problems)
    who = entered_by_sql(batch)
    inserted, updated = upsert(
        session,
        target="donations",
        key=["external_id"],
        columns=[
            "donor_id",
            "centre_id",
            "received_on",
            "minor_category",
            "item",
            "quantity",
            "unit",
            "amount_krw",
            "expires_on",
            "entered_by",
        ],
        select_sql=f"""SELECT s.donation_id, d.id, p.id, s.received_on, s.minor_category,
                      s.item, s.quantity, s.unit, s.amount_krw, s.expires_on, {who}
                      FROM stage_donations s JOIN donors d ON d.external_id = s.donor_id
                      JOIN providers p ON p.external_id = s.centre_id ORDER BY s.row_no""",
    )
    moved, _ = upsert(
        session,
        target="stock_movements",
        key=["external_id"],
        columns=[
            "centre_id",
            "kind",
            "moved_on",
            "minor_category",
            "item",
            "unit",
            "quantity",
            "expires_on",
            "donation_id",
            "entered_by",
        ],
        select_sql=f"""SELECT s.donation_id || '/received', p.id, 'received', s.received_on,
                      s.minor_category, s.item, s.unit, s.quantity, s.expires_on, dn.id, {who}
                      FROM stage_donations s JOIN providers p ON p.external_id = s.centre_id
                      JOIN donations dn ON dn.external_id = s.donation_id
                      WHERE s.quantity IS NOT NULL ORDER BY s.row_no""",
        conflict="external_id",
    )
    return WriteResult(inserted, updated, extra={"stock received": moved})


# --------------------------------------------------------------------------- stock movements

STOCK_FIELDS = (
    _id("movement_id"),
    _id("centre_id"),
    Field("kind", "choice", choices=tuple(STOCK_MOVEMENTS)),
    Field("moved_on", "date"),
    Field("minor_category", "choice", choices=tuple(SUPPORT_MINOR)),
    Field("item", max_length=200),
    Field("unit", max_length=50),
    Field("quantity", "float", minimum=-1e7, maximum=1e7),
    Field("expires_on", "date", required=False),
    _id("donation_id", required=False),
    _id("support_id", required=False),
    _id("counterpart_centre_id", required=False),
    Field("entered_by", required=False, max_length=200),
)


def _check_stock(raw, parsed, bad, label) -> list[Problem]:
    problems = []
    for i in range(len(parsed)):
        row = parsed.index[i]
        kind, quantity = parsed["kind"].iat[i], parsed["quantity"].iat[i]
        counterpart = parsed["counterpart_centre_id"].iat[i]
        if _present(kind) and kind != "adjusted" and _present(quantity) and quantity <= 0:
            problems.append(
                Problem(
                    label,
                    row,
                    "quantity",
                    f"must be more than 0 for {kind} (only an adjusted movement is signed)",
                )  # fmt: skip
            )
        if _present(kind) and kind in TRANSFERS and not _present(counterpart):
            problems.append(Problem(label, row, "counterpart_centre_id", f"required for {kind}"))
        if _present(kind) and kind not in TRANSFERS and _present(counterpart):
            problems.append(
                Problem(label, row, "counterpart_centre_id", "only for transferred_out/_in")
            )
        if _present(counterpart) and counterpart == parsed["centre_id"].iat[i]:
            problems.append(Problem(label, row, "counterpart_centre_id", "is the centre itself"))
    return problems


def _write_stock(batch: Batch, check_only: bool) -> WriteResult:
    _stage_all(batch, "stage_stock", STOCK_FIELDS)
    problems = _refs(
        batch,
        "stage_stock",
        [
            ("centre_id", "providers", "centre (provider)"),
            ("counterpart_centre_id", "providers", "centre (provider)"),
            ("donation_id", "donations", "donation"),
            ("support_id", "support_records", "support record"),
        ],
    )
    if problems or check_only:
        return WriteResult(problems=problems)
    inserted, updated = upsert(
        batch.session,
        target="stock_movements",
        key=["external_id"],
        columns=[
            "centre_id",
            "kind",
            "moved_on",
            "minor_category",
            "item",
            "unit",
            "quantity",
            "expires_on",
            "donation_id",
            "support_record_id",
            "counterpart_centre_id",
            "entered_by",
        ],
        select_sql=f"""SELECT s.movement_id, p.id, s.kind, s.moved_on, s.minor_category,
                      s.item, s.unit, s.quantity, s.expires_on, dn.id, sr.id, c.id,
                      {entered_by_sql(batch)}
                      FROM stage_stock s JOIN providers p ON p.external_id = s.centre_id
                      LEFT JOIN providers c ON c.external_id = s.counterpart_centre_id
                      LEFT JOIN donations dn ON dn.external_id = s.donation_id
                      LEFT JOIN support_records sr ON sr.external_id = s.support_id
                      ORDER BY s.row_no""",
        conflict="external_id",
    )
    return WriteResult(inserted, updated)


# --------------------------------------------------------------------------- sponsorships

SPONSORSHIP_FIELDS = (
    _id("sponsorship_id"),
    _id("donor_id"),
    _id("household_id"),
    _id("centre_id"),
    Field("programme", max_length=200),
    Field("starts_on", "date"),
    Field("ends_on", "date"),
    Field("monthly_amount_krw", "int", minimum=1, maximum=10**9),
    _id("successor_id", required=False),
    Field("entered_by", required=False, max_length=200),
)


def _check_sponsorships(raw, parsed, bad, label) -> list[Problem]:
    problems = _order_problems(parsed, "starts_on", "ends_on", label, "is before starts_on")
    same = parsed["successor_id"].notna() & (parsed["successor_id"] == parsed["sponsorship_id"])
    problems += [
        Problem(label, r, "successor_id", "is the sponsorship itself")
        for r in parsed.index[same.fillna(False).to_numpy(dtype=bool)]
    ]
    return problems


def _write_sponsorships(batch: Batch, check_only: bool) -> WriteResult:
    session = batch.session
    _stage_all(batch, "stage_sponsorships", SPONSORSHIP_FIELDS)
    problems = _refs(
        batch,
        "stage_sponsorships",
        [
            ("donor_id", "donors", "donor"),
            ("household_id", "households", "household"),
            ("centre_id", "providers", "centre (provider)"),
        ],
    )
    # the successor may be stored already or be another row of this file (when the file
    # has bad rows already, a successor among them is not reported as unknown too)
    problems += (
        []
        if check_only
        else problems_from_query(
            session,
            """SELECT s.row_no, s.successor_id FROM stage_sponsorships s
           WHERE s.successor_id IS NOT NULL
             AND NOT EXISTS (SELECT 1 FROM sponsorships t WHERE t.external_id = s.successor_id)
             AND NOT EXISTS (SELECT 1 FROM stage_sponsorships o
                             WHERE o.sponsorship_id = s.successor_id)
           ORDER BY s.row_no""",
            batch.label,
            "successor_id",
            "unknown sponsorship {value!r}",
        )
    )
    if problems or check_only:
        return WriteResult(problems=problems)
    columns = [
        "donor_id",
        "household_id",
        "centre_id",
        "programme",
        "starts_on",
        "ends_on",
        "monthly_amount_krw",
        "entered_by",
    ]
    inserted_ids, updated_ids = upsert(
        session,
        target="sponsorships",
        key=["external_id"],
        columns=columns,
        select_sql=f"""SELECT s.sponsorship_id, d.id, h.id, p.id, s.programme, s.starts_on,
                      s.ends_on, s.monthly_amount_krw, {entered_by_sql(batch)}
                      FROM stage_sponsorships s JOIN donors d ON d.external_id = s.donor_id
                      JOIN households h ON h.external_id = s.household_id
                      JOIN providers p ON p.external_id = s.centre_id ORDER BY s.row_no""",
        return_keys=True,
    )
    relinked = session.execute(
        text("""UPDATE sponsorships t SET successor_id = n.id
                FROM stage_sponsorships s LEFT JOIN sponsorships n
                     ON n.external_id = s.successor_id
                WHERE t.external_id = s.sponsorship_id
                  AND t.successor_id IS DISTINCT FROM n.id
                RETURNING t.external_id""")
    ).scalars()
    updated = (set(updated_ids) | set(relinked)) - set(inserted_ids)
    return WriteResult(len(inserted_ids), len(updated))


# --------------------------------------------------------------------------- payments

PAYMENT_FIELDS = (
    _id("sponsorship_id"),
    Field("month", pattern=r"[0-9]{4}-(0[1-9]|1[0-2])", describe="YYYY-MM", max_length=7),
    Field("amount_krw", "int", minimum=0, maximum=10**9),
    Field("received_on", "date"),
    Field("entered_by", required=False, max_length=200),
)


def _check_payments(raw, parsed, bad, label) -> list[Problem]:
    key = parsed["sponsorship_id"].astype(str) + "|" + parsed["month"].astype(str)
    first: dict[str, int] = {}
    problems = []
    for row, value, ok in zip(parsed.index, key, parsed["month"].notna(), strict=True):
        if not ok:
            continue
        if value in first:
            problems.append(
                Problem(
                    label,
                    row,
                    "month",
                    f"this sponsorship's month is listed twice (first on row {first[value]})",
                )  # fmt: skip
            )
        else:
            first[value] = row
    return problems


def _write_payments(batch: Batch, check_only: bool) -> WriteResult:
    _stage_all(batch, "stage_payments", PAYMENT_FIELDS)
    problems = _refs(batch, "stage_payments", [("sponsorship_id", "sponsorships", "sponsorship")])
    problems += problems_from_query(
        batch.session,
        """SELECT s.row_no, s.month FROM stage_payments s
           JOIN sponsorships t ON t.external_id = s.sponsorship_id
           WHERE to_date(s.month || '-01', 'YYYY-MM-DD')
                 NOT BETWEEN date_trunc('month', t.starts_on)::date AND t.ends_on
           ORDER BY s.row_no""",
        batch.label,
        "month",
        "{value} lies outside the sponsorship's months",
    )
    if problems or check_only:
        return WriteResult(problems=problems)
    inserted, updated = upsert(
        batch.session,
        target="sponsorship_payments",
        key=["sponsorship_id", "month"],
        columns=["amount_krw", "received_on", "entered_by"],
        select_sql=f"""SELECT t.id, to_date(s.month || '-01', 'YYYY-MM-DD'), s.amount_krw,
                      s.received_on, {entered_by_sql(batch)}
                      FROM stage_payments s
                      JOIN sponsorships t ON t.external_id = s.sponsorship_id
                      ORDER BY s.row_no""",
    )
    return WriteResult(inserted, updated)


# --------------------------------------------------------------------------- consents

CONSENT_FIELDS = (
    _id("resident_id"),
    Field("consented", "bool"),
    Field("decided_on", "date"),
    Field("recorded_by", required=False, max_length=200),
    Field("source", required=False, max_length=200),
)


def _write_consents(batch: Batch, check_only: bool) -> WriteResult:
    session = batch.session
    _stage_all(batch, "stage_consents", CONSENT_FIELDS)
    problems = _refs(batch, "stage_consents", [("resident_id", "residents", "resident")])
    if problems or check_only:
        return WriteResult(problems=problems)
    who = entered_by_sql(batch, "s.recorded_by")
    # the log first: one event per resident whose consent is new or changes
    events = session.execute(
        text(f"""INSERT INTO consent_events (resident_id, consented, decided_on, recorded_by,
                                            source)
                SELECT r.id, s.consented, s.decided_on, {who},
                       {entered_by_sql(batch, "s.source")}
                FROM stage_consents s JOIN residents r ON r.external_id = s.resident_id
                LEFT JOIN sharing_consents c ON c.resident_id = r.id
                WHERE c.resident_id IS NULL OR c.consented <> s.consented
                   OR c.decided_on <> s.decided_on
                ORDER BY s.row_no""")
    ).rowcount
    inserted, updated = upsert(
        session,
        target="sharing_consents",
        key=["resident_id"],
        columns=["consented", "decided_on", "recorded_by"],
        select_sql=f"""SELECT r.id, s.consented, s.decided_on, {who}
                      FROM stage_consents s JOIN residents r ON r.external_id = s.resident_id
                      ORDER BY s.row_no""",
    )
    return WriteResult(inserted, updated, extra={"consent events": int(events)})


SHARING_SPECS = (
    ImportSpec("donors", DONOR_FIELDS, "donor_id", None, _write_donors, table="donors"),
    ImportSpec(
        "donations",
        DONATION_FIELDS,
        "donation_id",
        None,
        _write_donations,
        check=_check_donations,
        table="donations",
    ),
    ImportSpec(
        "stock-movements",
        STOCK_FIELDS,
        "movement_id",
        None,
        _write_stock,
        check=_check_stock,
        table="stock_movements",
    ),
    ImportSpec(
        "sponsorships",
        SPONSORSHIP_FIELDS,
        "sponsorship_id",
        None,
        _write_sponsorships,
        check=_check_sponsorships,
        table="sponsorships",
    ),
    ImportSpec(
        "sponsorship-payments",
        PAYMENT_FIELDS,
        None,
        None,
        _write_payments,
        check=_check_payments,
        table="sponsorship_payments",
    ),
    ImportSpec(
        "consents",
        CONSENT_FIELDS,
        "resident_id",
        None,
        _write_consents,
        table="sharing_consents",
    ),
)
