"""A stored day plan (:func:`geo.route_plans.load_plan`) as JSON-ready data, CSV and GPX 1.1.

Pure functions of the loaded plan: the plan is already limited to the caller's scope.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
import xml.etree.ElementTree as ET

GPX_NS = "http://www.topografix.com/GPX/1/1"
GPX_SCHEMA = "http://www.topografix.com/GPX/1/1/gpx.xsd"
XSI_NS = "http://www.w3.org/2001/XMLSchema-instance"

CSV_COLUMNS = (
    "plan_id",
    "plan_date",
    "visitor",
    "member_id",
    "order",
    "arrival",
    "start",
    "departure",
    "resident_id",
    "name",
    "address",
    "area_code",
    "tier",
    "days_overdue",
    "state",
    "state_ko",
    "state_en",
    "visit_outcome",
    "plan_progress",
    "travel_metres",
    "lon",
    "lat",
    "reasons_ko",
)


def progress_words(plan: dict) -> tuple[str, str]:
    """Return the plan's progress in words (한국어, English): "40곳 중 3곳 완료", "3 of 40 done"."""
    progress = plan["progress"]
    done, planned = progress["done"], progress["planned"]
    return f"{planned}곳 중 {done}곳 완료", f"{done} of {planned} done"


#: Characters XML 1.0 does not allow (C0 controls but tab, newline and carriage return,
#: surrogates, U+FFFE and U+FFFF); ElementTree writes them as they are, making invalid XML.
_NOT_XML = re.compile("[^\t\n\r\u0020-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def xml_text(value) -> str:
    """Return ``value`` as text safe in an XML 1.0 document.

    Characters XML does not allow are replaced with U+FFFD (names come from imported files
    and may hold stray control characters).
    """
    return _NOT_XML.sub("\ufffd", str(value))


def _plain(value):
    """Return dates and date-times in ISO 8601, times as HH:MM, anything else unchanged."""
    if isinstance(value, dt.datetime):
        return value.isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, dt.time):
        return value.strftime("%H:%M")
    return value


def plan_json(plan: dict) -> dict:
    """Return the loaded plan with dates and times as strings (JSON has neither)."""

    def convert(item):
        if isinstance(item, dict):
            return {k: convert(v) for k, v in item.items()}
        if isinstance(item, list):
            return [convert(v) for v in item]
        return _plain(item)

    return convert(plan)


def _cell(value) -> str:
    """Return ``value`` as a CSV cell that a spreadsheet will not run as a formula.

    Free text may start with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return: such a
    cell gets a leading ``'``. None is an empty cell; dates and times as :func:`_plain`.
    """
    text = "" if value is None else str(_plain(value))
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def plan_csv(plan: dict) -> str:
    """One row per stop in visiting order, visitor by visitor (UTF-8 with BOM, for Excel).

    Each row has the stop's state on the plan's day (code and words, the day's visit outcome)
    and the plan's progress as ``done/planned``.
    """
    out = io.StringIO()
    out.write("\ufeff")
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    progress = f"{plan['progress']['done']}/{plan['progress']['planned']}"
    for route in plan["routes"]:
        for stop in route["stops"]:
            row = {
                "plan_id": plan["plan_id"],
                "plan_date": plan["plan_date"],
                "visitor": route["visitor"],
                "member_id": route["member_id"],
                **stop,
                "plan_progress": progress,
                "reasons_ko": " / ".join(stop.get("reasons_ko", [])),
            }
            writer.writerow([_cell(row.get(column)) for column in CSV_COLUMNS])
    return out.getvalue()


def plan_gpx(plan: dict) -> bytes:
    """Return the plan as a GPX 1.1 document, UTF-8 with its XML declaration.

    The base is a ``<wpt>``, and each visitor has one ``<rte>`` from the base through the
    stops in order back to the base. A stop's ``<rtept>`` is named by its order and resident
    id and described by its arrival and departure times; the base's by the times the
    visitor leaves and is back. Residents appear by their pseudonymous id only: GPX files
    end up on devices. The progress (stops done of planned) describes the document and each
    route, the state each stop. Every text goes through :func:`xml_text`.
    """
    ET.register_namespace("", GPX_NS)
    ET.register_namespace("xsi", XSI_NS)
    gpx = ET.Element(
        f"{{{GPX_NS}}}gpx",
        {
            "version": "1.1",
            "creator": "visitmap (복지방문지도)",
            f"{{{XSI_NS}}}schemaLocation": f"{GPX_NS} {GPX_SCHEMA}",
        },
    )
    metadata = ET.SubElement(gpx, f"{{{GPX_NS}}}metadata")
    ET.SubElement(metadata, f"{{{GPX_NS}}}name").text = xml_text(
        f"{plan['team_name']} {_plain(plan['plan_date'])} (plan {plan['plan_id']})"
    )
    ET.SubElement(metadata, f"{{{GPX_NS}}}desc").text = " / ".join(progress_words(plan))
    base = (plan["base_lat"], plan["base_lon"])

    def point(tag: str, parent, lat: float, lon: float, name: str, desc: str | None = None):
        element = ET.SubElement(
            parent, f"{{{GPX_NS}}}{tag}", {"lat": f"{lat:.7f}", "lon": f"{lon:.7f}"}
        )
        ET.SubElement(element, f"{{{GPX_NS}}}name").text = xml_text(name)
        if desc:
            ET.SubElement(element, f"{{{GPX_NS}}}desc").text = xml_text(desc)
        return element

    base_name = plan["base_name"] or "base"
    point("wpt", gpx, *base, base_name)
    for route in plan["routes"]:
        rte = ET.SubElement(gpx, f"{{{GPX_NS}}}rte")
        ET.SubElement(rte, f"{{{GPX_NS}}}name").text = xml_text(
            f"{route['visitor']} ({route['member_id']})"
        )
        ET.SubElement(rte, f"{{{GPX_NS}}}desc").text = (
            f"{len(route['stops'])}곳 중 {route['done']}곳 완료 / "
            f"{route['done']} of {len(route['stops'])} done"
        )
        ET.SubElement(rte, f"{{{GPX_NS}}}number").text = str(plan["routes"].index(route) + 1)
        point("rtept", rte, *base, base_name, f"{_plain(route['leave_base'])}")
        for stop in route["stops"]:
            point(
                "rtept",
                rte,
                stop["lat"],
                stop["lon"],
                f"{stop['order']}. {stop['resident_id']}",
                f"{_plain(stop['arrival'])}-{_plain(stop['departure'])} · "
                f"{stop['state_ko']} / {stop['state_en']}",
            )
        point("rtept", rte, *base, base_name, f"{_plain(route['back_at_base'])}")
    return ET.tostring(gpx, encoding="utf-8", xml_declaration=True)
