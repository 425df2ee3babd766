"""The dashboard (종합현황판) of the shared support records: counts and drill-down.

It reads the warnings as stored in ``support_warnings`` (written by
``geo.support_warnings``); it computes none. Per dong and per agency it counts:

- **red** (경고): warnings of level red (a duplicate or an omission now);
- **yellow** (주의): warnings of level yellow (about to lapse, or a near-duplicate);
- **blue** (정상): residents with a support record in the last :data:`BLUE_DAYS` days and no
  warning at all (neither red nor yellow). Per agency, the residents that agency supported
  in those days with no warning. Warnings stored with level blue are counted as blue too.

A warning counts for every provider in its ``provider_ids`` (a duplicate between two
agencies counts once for each). Warnings about stock name no resident; they count for their
dong and their centre.

Who sees which counts: a viewer of kind ``full`` (:mod:`geo.support_visibility`) the dongs
of their scope; agency staff the warnings that involve their provider or a resident their
provider supported. The drill-down (:func:`list_warnings`) returns each warning with its
person and records, shaped by :func:`geo.support_visibility.visible_records`.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import text
from sqlalchemy.orm import Session

from geo.support_visibility import Viewer, consent_given, visible_records
from sharing.config import WarningConfig
from visitmap.errors import FieldError
from visitmap.vocab import WARNING_KINDS, WARNING_LEVELS

#: Days back in which a supported resident without warning counts as blue (정상).
BLUE_DAYS = 90


#: Warnings about a person that no provider's record explains (an unmet need, a crisis with no
#: help): agency staff see them for the residents they support, whoever else is involved.
PERSON_KINDS = ("open_need", "need_due_soon", "unserved_crisis")


class DashboardFilterError(FieldError):
    """A bad filter of the dashboard; ``field`` names the parameter."""


@dataclass(frozen=True)
class WarningFilters:
    """Filters of the warnings: dong code, level, kind, provider external id (None: any)."""

    area: str | None = None
    level: str | None = None
    kind: str | None = None
    provider: str | None = None


def check_filters(session: Session, filters: WarningFilters) -> dict:
    """Check ``filters`` and return them as SQL parameters (area and provider as ids).

    Raises
    ------
    DashboardFilterError
        Naming ``area``, ``level``, ``kind`` or ``provider``: an unknown value.
    """
    params: dict = {"area": None, "level": None, "kind": None, "provider": None}
    if filters.level is not None:
        if filters.level not in WARNING_LEVELS:
            raise DashboardFilterError(
                f"level must be one of {', '.join(WARNING_LEVELS)}, not {filters.level!r}",
                field="level",
            )
        params["level"] = filters.level
    if filters.kind is not None:
        if filters.kind not in WARNING_KINDS:
            raise DashboardFilterError(f"unknown warning kind {filters.kind!r}", field="kind")
        params["kind"] = filters.kind
    if filters.area is not None:
        area = session.execute(
            text("SELECT id FROM areas WHERE code = :c"), {"c": filters.area}
        ).scalar()
        if area is None:
            raise DashboardFilterError(f"no dong has code {filters.area!r}", field="area")
        params["area"] = area
    if filters.provider is not None:
        provider = session.execute(
            text("SELECT id FROM providers WHERE external_id = :p"), {"p": filters.provider}
        ).scalar()
        if provider is None:
            raise DashboardFilterError(f"no provider has id {filters.provider!r}", field="provider")
        params["provider"] = provider
    return params


def _viewer_sql(viewer: Viewer) -> tuple[str, dict]:
    """Return the SQL condition on warnings ``w`` (joined to ``areas a``) for ``viewer``."""
    if viewer.kind == "none":
        return "false", {}
    if viewer.kind == "full":
        if viewer.area_codes is None:
            return "true", {}
        return "a.code = ANY(:viewer_areas)", {"viewer_areas": sorted(viewer.area_codes)}
    return (
        """(:viewer_provider = ANY(w.provider_ids) OR (w.kind = ANY(:person_kinds)
            AND w.resident_id IN (
            SELECT resident_id FROM support_records WHERE provider_id = :viewer_provider)))""",
        {"viewer_provider": viewer.provider_id, "person_kinds": list(PERSON_KINDS)},
    )


_FILTER_SQL = """
    (CAST(:area AS int) IS NULL OR w.area_id = :area)
    AND (CAST(:level AS text) IS NULL OR w.level = :level)
    AND (CAST(:kind AS text) IS NULL OR w.kind = :kind)
    AND (CAST(:provider AS int) IS NULL OR :provider = ANY(w.provider_ids))"""


def summary(
    session: Session,
    viewer: Viewer,
    *,
    today: dt.date,
    filters: WarningFilters = WarningFilters(),
) -> dict:
    """Return the counts per dong and per agency, and their totals.

    Returns
    -------
    dict
        ``areas``: list of {code, name, red, yellow, blue}; ``providers``: list of
        {provider_id, name, kind, red, yellow, blue}; ``totals``: {red, yellow, blue};
        ``computed_at``: when the warnings were last computed (ISO), or None;
        ``blue_days``. Only dongs and providers with a non-zero count are listed.
    """
    params = check_filters(session, filters)
    cond, extra = _viewer_sql(viewer)
    params |= extra | {"since": today - dt.timedelta(days=BLUE_DAYS), "today": today}
    warned = f"""
        SELECT w.* FROM support_warnings w JOIN areas a ON a.id = w.area_id
        WHERE {cond} AND {_FILTER_SQL}"""
    # blue: supported recently, no warning; the viewer's own limits apply alike
    if viewer.kind == "agency":
        blue_cond = "s.provider_id = :viewer_provider"
    elif viewer.kind == "full" and viewer.area_codes is not None:
        blue_cond = "a.code = ANY(:viewer_areas)"
    elif viewer.kind == "full":
        blue_cond = "true"
    else:
        blue_cond = "false"
    blue_rows = f"""
        SELECT DISTINCT s.resident_id, s.provider_id, h.area_id
        FROM support_records s JOIN residents r ON r.id = s.resident_id
        JOIN households h ON h.id = r.household_id JOIN areas a ON a.id = h.area_id
        WHERE s.provided_on > :since AND s.provided_on <= :today AND {blue_cond}
          AND (CAST(:area AS int) IS NULL OR h.area_id = :area)
          AND (CAST(:provider AS int) IS NULL OR s.provider_id = :provider)
          AND (CAST(:level AS text) IS NULL OR :level = 'blue')
          AND CAST(:kind AS text) IS NULL
          AND NOT EXISTS (SELECT 1 FROM support_warnings x WHERE x.resident_id = s.resident_id
                          AND x.level IN ('red', 'yellow'))"""
    areas = session.execute(
        text(f"""
        WITH warned AS ({warned}), blue AS ({blue_rows}),
        counts AS (
            SELECT area_id, count(*) FILTER (WHERE level = 'red') AS red,
                   count(*) FILTER (WHERE level = 'yellow') AS yellow,
                   count(DISTINCT coalesce(resident_id, -id)) FILTER (WHERE level = 'blue')
                       AS blue_stored
            FROM warned GROUP BY area_id),
        blues AS (SELECT area_id, count(DISTINCT resident_id) AS blue FROM blue GROUP BY area_id)
        SELECT a.code, a.name, coalesce(c.red, 0) AS red, coalesce(c.yellow, 0) AS yellow,
               coalesce(b.blue, 0) + coalesce(c.blue_stored, 0) AS blue
        FROM areas a LEFT JOIN counts c ON c.area_id = a.id LEFT JOIN blues b ON b.area_id = a.id
        WHERE c.area_id IS NOT NULL OR b.area_id IS NOT NULL
        ORDER BY coalesce(c.red, 0) DESC, coalesce(c.yellow, 0) DESC, a.code"""),
        params,
    ).mappings()
    providers = session.execute(
        text(f"""
        WITH warned AS ({warned}), blue AS ({blue_rows}),
        counts AS (
            SELECT p AS provider_id, count(*) FILTER (WHERE level = 'red') AS red,
                   count(*) FILTER (WHERE level = 'yellow') AS yellow,
                   count(*) FILTER (WHERE level = 'blue') AS blue_stored
            FROM warned, unnest(provider_ids) AS p GROUP BY p),
        blues AS (SELECT provider_id, count(DISTINCT resident_id) AS blue FROM blue
                  GROUP BY provider_id)
        SELECT p.external_id AS provider_id, p.name, p.kind,
               coalesce(c.red, 0) AS red, coalesce(c.yellow, 0) AS yellow,
               coalesce(b.blue, 0) + coalesce(c.blue_stored, 0) AS blue
        FROM providers p LEFT JOIN counts c ON c.provider_id = p.id
        LEFT JOIN blues b ON b.provider_id = p.id
        WHERE (c.provider_id IS NOT NULL OR b.provider_id IS NOT NULL)
          AND (CAST(:viewer_only AS int) IS NULL OR p.id = :viewer_only)
        ORDER BY coalesce(c.red, 0) DESC, coalesce(c.yellow, 0) DESC, p.external_id"""),
        params | {"viewer_only": viewer.provider_id if viewer.kind == "agency" else None},
    ).mappings()
    area_rows = [dict(r) for r in areas]
    computed_at = session.execute(text("SELECT max(computed_at) FROM support_warnings")).scalar()
    return {
        "areas": area_rows,
        "providers": [dict(r) for r in providers],
        "totals": {level: sum(r[level] for r in area_rows) for level in ("red", "yellow", "blue")},
        "computed_at": computed_at.isoformat() if computed_at else None,
        "blue_days": BLUE_DAYS,
        "counted_on": today.isoformat(),
    }


def list_warnings(
    session: Session,
    viewer: Viewer,
    *,
    config: WarningConfig,
    filters: WarningFilters = WarningFilters(),
    limit: int = 50,
    offset: int = 0,
    with_records: bool = True,
) -> dict:
    """Return the warnings the viewer may see, red first, each with its person and records.

    Returns
    -------
    dict
        ``warnings``: list of dicts (level, kind, label, resident_id, name (only for a
        ``full`` viewer), dong, providers, since, minor_category, need_id, sponsorship_id,
        detail, records shaped by visibility); ``total``; ``limit``; ``offset``.
    """
    params = check_filters(session, filters)
    cond, extra = _viewer_sql(viewer)
    params |= extra | {"limit": limit, "offset": offset}
    base = f"""FROM support_warnings w JOIN areas a ON a.id = w.area_id
        LEFT JOIN residents r ON r.id = w.resident_id
        LEFT JOIN needs n ON n.id = w.need_id
        LEFT JOIN sponsorships sp ON sp.id = w.sponsorship_id
        WHERE {cond} AND {_FILTER_SQL}"""
    total = session.execute(text(f"SELECT count(*) {base}"), params).scalar_one()
    rows = session.execute(
        text(f"""
        SELECT w.id, w.level, w.kind, w.resident_id AS rid, r.external_id AS resident,
               r.name, a.code AS area_code, a.name AS area_name, w.record_ids,
               w.minor_category, w.since, w.detail, n.external_id AS need,
               sp.external_id AS sponsorship,
               (SELECT coalesce(array_agg(p.name ORDER BY p.name), '{{}}') FROM providers p
                WHERE p.id = ANY(w.provider_ids)) AS provider_names,
               (SELECT coalesce(array_agg(p.external_id ORDER BY p.name), '{{}}')
                FROM providers p WHERE p.id = ANY(w.provider_ids)) AS provider_ext,
               (SELECT coalesce(array_agg(p.id ORDER BY p.name), '{{}}')
                FROM providers p WHERE p.id = ANY(w.provider_ids)) AS provider_ids_int
        {base}
        ORDER BY CASE w.level WHEN 'red' THEN 0 WHEN 'yellow' THEN 1 ELSE 2 END,
                 w.since DESC NULLS LAST, w.id
        LIMIT :limit OFFSET :offset"""),
        params,
    ).mappings()
    out = []
    for row in rows:
        level, label_ko, label_en = WARNING_KINDS[row["kind"]]
        item = {
            "level": row["level"],
            "kind": row["kind"],
            "label": label_ko,
            "label_en": label_en,
            "resident_id": row["resident"],
            "name": row["name"] if viewer.kind == "full" else None,
            "area_code": row["area_code"],
            "area_name": row["area_name"],
            "providers": list(row["provider_names"]),
            "provider_ids": list(row["provider_ext"]),
            "other_providers": 0,
            "minor_category": row["minor_category"],
            "since": row["since"].isoformat() if row["since"] else None,
            "need_id": row["need"],
            "sponsorship_id": row["sponsorship"],
            "detail": row["detail"] or {},
            "record_count": len(row["record_ids"]),
            "records": [],
        }
        if viewer.kind == "agency" and not (
            row["rid"] is not None and consent_given(session, row["rid"])
        ):
            # without consent an agency learns only that others are involved, not who
            keep = [pid == viewer.provider_id for pid in row["provider_ids_int"]]
            item["providers"] = [n for n, k in zip(row["provider_names"], keep, strict=True) if k]
            item["provider_ids"] = [e for e, k in zip(row["provider_ext"], keep, strict=True) if k]
            item["other_providers"] = keep.count(False)
        if with_records and row["rid"] is not None:
            records = visible_records(session, viewer, row["rid"], row["area_code"], config=config)
            wanted = set(row["record_ids"])
            ext = _record_external_ids(session, wanted)
            item["records"] = (
                [r for r in records if r["shape"] != "full" or r["record_id"] in ext]
                if wanted
                else records
            )
        out.append(item)
    return {"warnings": out, "total": total, "limit": limit, "offset": offset}


def _record_external_ids(session: Session, ids: set[int]) -> set[str]:
    if not ids:
        return set()
    return set(
        session.execute(
            text("SELECT external_id FROM support_records WHERE id = ANY(:ids)"),
            {"ids": sorted(ids)},
        ).scalars()
    )


def resident_warnings(session: Session, resident_id: int) -> list[dict]:
    """Return the stored warnings of one resident (and their linked ids), red first."""
    rows = session.execute(
        text("""
        SELECT w.level, w.kind, w.minor_category, w.since, w.detail
        FROM support_warnings w
        WHERE w.resident_id = :r OR w.resident_id IN (
            SELECT l2.resident_id FROM resident_links l1
            JOIN resident_links l2 ON l2.person_id = l1.person_id WHERE l1.resident_id = :r)
        ORDER BY CASE w.level WHEN 'red' THEN 0 WHEN 'yellow' THEN 1 ELSE 2 END, w.kind"""),
        {"r": resident_id},
    ).mappings()
    out = []
    for row in rows:
        _, label_ko, label_en = WARNING_KINDS[row["kind"]]
        out.append(
            {
                "level": row["level"],
                "kind": row["kind"],
                "label": label_ko,
                "label_en": label_en,
                "minor_category": row["minor_category"],
                "since": row["since"].isoformat() if row["since"] else None,
                "detail": row["detail"] or {},
            }
        )
    return out


def find_resident(session: Session, external_id: str) -> tuple[int, str] | None:
    """Return (database id, dong code) of the resident ``external_id``, or None."""
    row = session.execute(
        text("""SELECT r.id, a.code FROM residents r JOIN households h ON h.id = r.household_id
            JOIN areas a ON a.id = h.area_id WHERE r.external_id = :e"""),
        {"e": external_id},
    ).one_or_none()
    return None if row is None else (row[0], row[1])


def area_levels(session: Session, viewer: Viewer) -> dict[str, dict]:
    """Return per dong code the red/yellow counts and a level (the map layer's colours).

    ``level`` is red if the dong has a red warning, else yellow if it has a yellow one,
    else blue.
    """
    cond, params = _viewer_sql(viewer)
    rows = session.execute(
        text(f"""
        SELECT a.code, count(*) FILTER (WHERE w.level = 'red') AS red,
               count(*) FILTER (WHERE w.level = 'yellow') AS yellow
        FROM support_warnings w JOIN areas a ON a.id = w.area_id
        WHERE {cond} GROUP BY a.code"""),
        params,
    ).all()
    return {
        code: {
            "red": red,
            "yellow": yellow,
            "level": "red" if red else "yellow" if yellow else "blue",
        }
        for code, red, yellow in rows
    }


def filter_dongs(session: Session, viewer: Viewer) -> list[tuple[str, str]]:
    """Return (code, name) of the dongs the page's filter offers: the viewer's, or all."""
    rows = session.execute(text("SELECT code, name FROM areas ORDER BY name")).all()
    if viewer.kind == "full" and viewer.area_codes is not None:
        rows = [r for r in rows if r[0] in viewer.area_codes]
    return [(r[0], r[1]) for r in rows]
