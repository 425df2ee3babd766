"""Reading import files (CSV, GeoJSON, GeoPackage) into strings plus geometries in lon/lat.

Length: every way a file can be malformed before its rows are checked (bytes, encoding,
header, CSV quoting, GeoJSON structure, CRS), each with a FILE:ROW:COLUMN message; one
reader per format would repeat the line-numbering helpers they share.
"""

from __future__ import annotations

import csv as _csv
import gc
import io
import json
import operator
import re
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pa_csv
import pyogrio
import shapely
from pyproj import CRS

from geo.importers.problems import Problem
from visitmap.crs import WGS84, CRSError, crs_label, in_korea, parse_crs, same_crs

CSV_SUFFIXES = {".csv"}
GEO_SUFFIXES = {".geojson", ".json", ".gpkg"}


@dataclass
class SourceTable:
    """The rows of one input file.

    Attributes
    ----------
    label
        The file name as it appears in messages.
    frame
        Attribute columns as stripped strings; ``""`` is a missing value.
    row_numbers
        For each row, the number reported in messages (see :class:`Problem`).
    geometry
        Shapely geometries in EPSG:4326 (None where missing), or None for non-spatial kinds.
    """

    label: str
    frame: pd.DataFrame
    row_numbers: np.ndarray
    geometry: np.ndarray | None = None

    def __len__(self) -> int:
        """Return the number of rows."""
        return len(self.frame)


def _strings(frame: pd.DataFrame) -> pd.DataFrame:
    """Convert the attributes of a GeoJSON/GeoPackage to stripped strings (missing: ``""``)."""
    out = {}
    for column in frame.columns:
        series = frame[column]
        missing = series.isna().to_numpy()
        if pd.api.types.is_float_dtype(series):
            # 3.0 from a GeoJSON number is the integer 3
            values = series.to_numpy(dtype=float, na_value=np.nan)
            integral = ~missing & np.isfinite(values) & (values == np.round(values))
            text = series.astype(str).to_numpy(dtype=object)
            text[integral] = values[integral].astype(np.int64).astype(str)
        elif pd.api.types.is_bool_dtype(series):
            text = np.where(series.to_numpy(dtype=bool, na_value=False), "true", "false")
            text = text.astype(object)
        elif pd.api.types.is_string_dtype(series) and not pd.api.types.is_object_dtype(series):
            out[str(column)] = series.fillna("").str.strip()
            continue
        else:
            text = series.astype(str).to_numpy(dtype=object)
        text[missing] = ""
        out[str(column)] = pd.Series(text, index=frame.index, dtype="str").str.strip()
    return pd.DataFrame(out, index=frame.index)


def _read_csv(path: Path, label: str) -> tuple[pd.DataFrame, np.ndarray, list[Problem]]:
    """Read a CSV as stripped strings; also return each record's line number (header = 1).

    The bytes are checked first: text that is not UTF-8 is refused naming its first bad row,
    NUL bytes naming each row and column, duplicated column names naming them. Arrow's reader
    is then tried (fast); files it refuses (blank lines, ...) go through pandas, whose errors
    name the problem. Blank lines are skipped but counted, so numbers stay the ones an editor
    shows.
    """
    data = path.read_bytes()
    problems = byte_problems(data, label)
    if problems:
        return pd.DataFrame(), np.array([]), problems
    header = header_names(data)
    problems = header_name_problems(header, label)
    if problems:
        return pd.DataFrame(), np.array([]), problems
    try:
        return _read_csv_arrow(data, header)
    except (pa.ArrowInvalid, UnicodeDecodeError):
        pass
    try:
        frame = pd.read_csv(
            io.BytesIO(data),
            dtype=str,
            keep_default_na=False,
            encoding="utf-8-sig",
            skip_blank_lines=False,
        )
    except pd.errors.EmptyDataError:
        return pd.DataFrame(), np.array([]), [Problem(label, 0, "-", "the file is empty")]
    except pd.errors.ParserError as exc:
        problem = Problem(label, _parser_error_line(str(exc)), "-", f"not a readable CSV: {exc}")
        return pd.DataFrame(), np.array([]), [problem]
    frame.columns = [str(c).strip() for c in frame.columns]
    frame = frame.fillna("").apply(lambda s: s.str.strip())
    return _number_lines(data, frame)


def _parser_error_line(message: str) -> int:
    """Return the line pandas names in ``Expected 3 fields in line 7, saw 4`` (0 if none)."""
    found = re.search(r"\bline (\d+)", message)
    return int(found.group(1)) if found else 0


def _read_csv_arrow(data: bytes, names: list[str]) -> tuple[pd.DataFrame, np.ndarray, list]:
    if not names:
        raise pa.ArrowInvalid("no header")
    table = pa_csv.read_csv(
        pa.BufferReader(data),
        read_options=pa_csv.ReadOptions(column_names=names, skip_rows=1),
        parse_options=pa_csv.ParseOptions(ignore_empty_lines=False),
        convert_options=pa_csv.ConvertOptions(
            column_types={n: pa.string() for n in names},
            strings_can_be_null=False,
            quoted_strings_can_be_null=False,
        ),
    )
    frame = pa.table(
        {n: pc.utf8_trim_whitespace(table.column(i)) for i, n in enumerate(names)}
    ).to_pandas()
    return _number_lines(data, frame)


def header_names(data: bytes) -> list[str]:
    """Return the column names of a CSV's first line (stripped, without a byte-order mark)."""
    text = data[:1_000_000].decode("utf-8-sig", errors="replace")
    first = re.split(r"\r\n|\r|\n", text, maxsplit=1)[0]
    names = next(_csv.reader([first]), None) or []
    return [n.strip() for n in names]


def shown(name: str) -> str:
    """Return a column name as printed in messages, control characters (NUL, ...) escaped.

    An empty name is shown as ``(empty)``.
    """
    return CONTROL.sub(lambda m: f"\\x{ord(m.group()):02x}", name) or "(empty)"


CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def header_name_problems(names: list[str], label: str, row: int = 1) -> list[Problem]:
    """Return problems for duplicated column names and names holding control characters.

    ``row`` is the row the problems name: 1, the header of a CSV; 0, the file as a whole.
    Unnamed columns (trailing commas of a spreadsheet export) may repeat.
    """
    problems = []
    first: dict[str, int] = {}
    for position, name in enumerate(names, start=1):
        if CONTROL.search(name):
            problems.append(
                Problem(
                    label,
                    row,
                    shown(name),
                    f"column {position} of the header holds a control character "
                    "(NUL byte or similar); column names must be plain text",
                )
            )
        if not name:
            continue  # unnamed columns (trailing commas of a spreadsheet export) are ignored
        if name in first:
            problems.append(
                Problem(
                    label,
                    row,
                    shown(name),
                    f"column name {shown(name)!r} appears twice in the header "
                    f"(columns {first[name]} and {position}); each column must be named once",
                )
            )
        else:
            first[name] = position
    return problems


def _utf8_guess(data: bytes) -> str:
    for encoding, described in (("cp949", "cp949/EUC-KR"), ("utf-16", "UTF-16")):
        try:
            data.decode(encoding)
        except UnicodeDecodeError:
            continue
        return f"; it looks like {described}: save it as UTF-8"
    return "; save it as UTF-8"


def byte_problems(data: bytes, label: str) -> list[Problem]:
    """Return problems for text that is not UTF-8 and for NUL bytes in a CSV's records.

    Text that is not UTF-8 is one problem naming its first bad line; NUL bytes are a problem
    for each line holding one (naming its column; at most 100), except the header's, which
    :func:`header_name_problems` checks.
    """
    body = data[3:] if data.startswith(b"\xef\xbb\xbf") else data
    try:
        body.decode("utf-8")
    except UnicodeDecodeError as exc:
        line_no = body.count(b"\n", 0, exc.start) + 1
        lines = body.split(b"\n")
        bad_lines = sum(1 for line in lines if not _decodes(line))
        more = f" ({bad_lines - 1} more lines like it)" if bad_lines > 1 else ""
        column = _column_at(lines, line_no, exc.start - _line_start(body, exc.start))
        reason = (
            f"not UTF-8 text (byte 0x{body[exc.start]:02x}); the file must be UTF-8"
            f"{_utf8_guess(body)}{more}"
        )
        return [Problem(label, line_no, column, reason)]
    if b"\x00" not in body:
        return []
    lines = body.split(b"\n")
    problems = []
    for index, line in enumerate(lines):
        offset = line.find(b"\x00")
        if offset < 0:
            continue
        if index == 0:
            continue  # the header is checked by header_name_problems
        problems.append(
            Problem(
                label,
                index + 1,
                _column_at(lines, index + 1, offset),
                "holds a NUL byte (\\x00); values must be plain text",
            )
        )
        if len(problems) >= 100:
            break
    return problems


def _decodes(line: bytes) -> bool:
    try:
        line.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def _line_start(data: bytes, offset: int) -> int:
    return data.rfind(b"\n", 0, offset) + 1


def _column_at(lines: list[bytes], line_no: int, offset: int) -> str:
    """Return the header name of the cell holding byte ``offset`` of line ``line_no``.

    ``line_no`` is 1-based; ``-`` when the cell lies beyond the header's columns.
    """
    header = header_names(lines[0]) if lines else []
    before = lines[line_no - 1][:offset].decode("utf-8", errors="replace")
    before = before.replace("\x00", " ").replace("\r", " ")
    position = len(next(_csv.reader([before]), [""])) - 1 if before else 0
    return shown(header[position]) if position < len(header) else "-"


def _number_lines(data: bytes, frame: pd.DataFrame) -> tuple[pd.DataFrame, np.ndarray, list]:
    lines = np.arange(len(frame)) + 2
    if frame.apply(lambda s: s.str.contains("\n", regex=False)).to_numpy().any():
        lines = _record_lines(data)
    keep = ~(frame == "").all(axis=1).to_numpy()
    return frame.loc[keep].reset_index(drop=True), lines[keep], []


def _record_lines(data: bytes) -> np.ndarray:
    """Return the first line number of every record (for line breaks inside quoted cells)."""
    starts = []
    with io.StringIO(data.decode("utf-8-sig"), newline="") as f:
        reader = _csv.reader(f)
        next(reader, None)
        line = reader.line_num
        for _ in reader:
            starts.append(line + 1)
            line = reader.line_num
    return np.array(starts)


def read_table(
    path: str | Path, *, geometry: str | None, crs: str | None = None, label: str | None = None
) -> tuple[SourceTable | None, list[Problem]]:
    """Read ``path`` into a :class:`SourceTable`.

    Parameters
    ----------
    path
        A ``.csv``, ``.geojson`` / ``.json`` or ``.gpkg`` file.
    geometry
        ``"point"``, ``"polygon"`` or None (no geometry expected).
    crs
        The CRS given on the command line (``--crs``), if any.
    label
        The file's name in messages (default: the file name of ``path``).

    Returns
    -------
    table : SourceTable or None
        The rows, or None when the file as a whole cannot be used.
    problems : list of Problem
        Why the file cannot be used, or the problems of single rows' coordinates and
        geometries.
    """
    path = Path(path)
    label = label or path.name
    if not path.exists():
        return None, [Problem(label, 0, "-", "file not found")]
    suffix = path.suffix.lower()
    try:
        given_crs = parse_crs(crs) if crs else None
    except CRSError as exc:
        return None, [Problem(label, 0, "--crs", str(exc))]

    if suffix in CSV_SUFFIXES:
        frame, rows, problems = _read_csv(path, label)
        if problems:
            return None, problems
        table = SourceTable(label, frame, rows)
        if geometry is not None:
            problems += _csv_geometry(table, geometry, given_crs)
            if table.geometry is None:  # a problem with the file as a whole
                return None, problems
        return table, problems
    if suffix in GEO_SUFFIXES:
        return _read_geo(path, label, geometry, given_crs)
    return None, [
        Problem(label, 0, "-", f"unsupported file type {suffix!r} (use .csv, .geojson or .gpkg)")
    ]


def _read_geo(
    path: Path,
    label: str,
    geometry: str | None,
    given_crs: CRS | None,
    *,
    allow_plain: bool = True,
) -> tuple[SourceTable | None, list[Problem]]:
    """Read a GeoJSON or GeoPackage; ``allow_plain=False`` reads a plain GeoJSON with GDAL too."""
    declared = None
    if path.suffix.lower() in (".geojson", ".json"):
        data = path.read_bytes()
        problems = _geojson_text_problems(data, label)
        if problems:
            return None, problems
        declared, problems = _geojson_declared_crs(data, label)
        if problems:
            return None, problems
    geojson = path.suffix.lower() in (".geojson", ".json")
    plain = _plain_geojson(data) if geojson and allow_plain else None
    if plain is not None:
        attributes, geoms = plain
        gdf = gpd_crs = None
    else:
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                gdf = pyogrio.read_dataframe(path, datetime_as_string=True, use_arrow=True)
        except Exception as exc:  # pyogrio raises several error classes for unreadable files
            return None, [Problem(label, 0, "-", f"not a readable {path.suffix} file: {exc}")]
        attributes = gdf.drop(columns=[gdf.geometry.name]) if "geometry" in gdf else gdf
        gpd_crs = gdf.crs
        geoms = np.asarray(gdf.geometry.values, dtype=object) if "geometry" in gdf else None
    problems = header_name_problems([str(c) for c in attributes.columns], label, row=0)
    if problems:
        return None, problems
    table = SourceTable(
        label,
        _strings(pd.DataFrame(attributes)).reset_index(drop=True),
        np.arange(len(attributes)) + 1,
    )
    problems = _nul_problems(table)
    if problems:
        return None, problems
    if geometry is None:
        return table, []
    file_crs = (WGS84 if gdf is None else gpd_crs) if declared is None else declared
    if path.suffix.lower() in (".geojson", ".json") and declared is None:
        # RFC 7946: no "crs" member means lon/lat, unless the user says otherwise with --crs
        file_crs = None if given_crs is not None else file_crs
    if file_crs is not None and given_crs is not None and not same_crs(file_crs, given_crs):
        return None, [
            Problem(
                label,
                0,
                "--crs",
                f"--crs {crs_label(given_crs)} contradicts the "
                f"file's declared CRS {crs_label(file_crs)}",
            )
        ]
    source_crs = file_crs or given_crs
    if source_crs is None:
        return None, [Problem(label, 0, "geometry", "the file declares no CRS; give --crs")]
    problems = _finish_geometry(table, geoms, geometry, parse_crs(source_crs), "geometry")
    return table, problems


#: The members a feature may have for :func:`_plain_geojson`.
PLAIN_FEATURE_KEYS = {"type", "properties", "geometry"}


def _plain_geojson(data: bytes) -> tuple[pd.DataFrame, np.ndarray] | None:
    """Read a plain GeoJSON FeatureCollection without GDAL: attributes and point geometries.

    Plain: features with only ``type``, ``properties`` and ``geometry``; properties whose
    values in a column are all text or all numbers (or null); geometries that are null or
    2-D points. Parsing with the standard library takes about half of GDAL's time and the
    text comes out as written. Returns None for anything else (other geometries, booleans,
    nested values, feature ids, a file that is not JSON ...), which GDAL then reads, with
    its messages. The garbage collector pauses meanwhile: the millions of objects of the
    parsed document would otherwise be traversed again and again (about half the time).
    """
    collecting = gc.isenabled()
    gc.disable()
    try:
        return _plain_features(data)
    finally:
        if collecting:
            gc.enable()


def _plain_features(data: bytes) -> tuple[pd.DataFrame, np.ndarray] | None:
    try:
        doc = json.loads(data)
    except (ValueError, RecursionError):
        return None
    if not isinstance(doc, dict) or doc.get("type") != "FeatureCollection":
        return None
    features = doc.get("features")
    if not isinstance(features, list) or not features:
        return None
    # each test runs over all features at once (set comprehensions), not feature by feature
    if {type(f) for f in features} != {dict} or {f.get("type") for f in features} != {"Feature"}:
        return None
    if not set().union(*{tuple(f) for f in features}) <= PLAIN_FEATURE_KEYS:
        return None
    props = [f.get("properties") for f in features]
    props = [{} if values is None else values for values in props]
    if {type(values) for values in props} != {dict}:
        return None
    geometries = [f.get("geometry") for f in features]
    present = np.array([g is not None for g in geometries], dtype=bool)
    points = [g for g in geometries if g is not None]
    if points:
        if {type(g) for g in points} != {dict} or {frozenset(g) for g in points} != {
            frozenset(("type", "coordinates"))
        }:
            return None
        if {g["type"] for g in points} != {"Point"}:
            return None
        coords = [g["coordinates"] for g in points]
        if {type(c) for c in coords} != {list} or {len(c) for c in coords} != {2}:
            return None
        if not {type(v) for c in coords for v in c} <= {int, float}:
            return None
    xy = np.full((len(features), 2), np.nan)
    if points:
        xy[present] = np.asarray(coords, dtype=float)
    orders = {tuple(values) for values in props}
    same_keys = len(orders) == 1
    names = dict.fromkeys(props[0])
    if not same_keys:  # the union of the keys, in the order they first appear
        for values in props:
            if values.keys() != names.keys():
                names.update(dict.fromkeys(values))
    if not names:
        return None
    if same_keys and len(names) > 1:  # the usual file: one C loop instead of one per column
        cell_lists = zip(*map(operator.itemgetter(*names), props), strict=True)
    else:
        cell_lists = ([values.get(name) for values in props] for name in names)
    columns = {}
    for name, cells in zip(names, cell_lists, strict=True):
        kinds = set(map(type, cells)) - {type(None)}
        if kinds <= {str}:
            text = pa.array(cells, type=pa.string())
            if _gdal_would_convert(text):
                return None
            columns[name] = pd.Series(text, dtype="str")
        elif kinds <= {int, float} and all(
            type(v) is not int or abs(v) < 2**53 for v in cells if v is not None
        ):
            columns[name] = pd.Series(cells, dtype="float64")  # 3 and 3.0 both read "3"
        else:
            return None
    geoms = np.full(len(features), None, dtype=object)
    geoms[present] = shapely.points(xy[present])
    return pd.DataFrame(columns), geoms


#: Text that GDAL's GeoJSON reader may take for a date, time or date-time and rewrite
#: (``2015/07/01`` -> ``2015-07-01``, ``9:00`` -> ``09:00:00``); ``YYYY-MM-DD`` it keeps as is.
DATE_LIKE = r"^\s*(?:\d{1,4}[-/]\d{1,2}[-/]\d{1,4}(?:[ T].*)?|\d{1,2}:\d{2}.*)\s*$"
ISO_DATE = r"^\d{4}-\d{2}-\d{2}$"


def _gdal_would_convert(text: pa.Array) -> bool:
    """Whether GDAL might read some of ``text`` as a date or time and write it otherwise.

    Such a file is read by GDAL, so that its values come out as before this fast path.
    GDAL types a property as a date or time only when all its values look like one, so a
    column whose first value does not (most columns) needs no look at the others.
    """
    values = text.filter(pc.not_equal(text, ""))  # nulls dropped too
    if len(values) == 0 or not re.match(DATE_LIKE, values[0].as_py()):
        return False
    suspect = pc.and_kleene(
        pc.match_substring_regex(text, DATE_LIKE),
        pc.invert(pc.match_substring_regex(text, ISO_DATE)),
    )
    return bool(pc.any(suspect).as_py())


def _nul_problems(table: SourceTable) -> list[Problem]:
    """Return a problem for each cell holding a NUL character (at most 100 per column)."""
    problems = []
    for column in table.frame.columns:
        hit = table.frame[column].str.contains("\x00", regex=False).to_numpy(dtype=bool)
        problems += [
            Problem(
                table.label,
                int(table.row_numbers[i]),
                shown(column),
                "holds a NUL character (\\u0000); values must be plain text",
            )
            for i in np.flatnonzero(hit)[:100]
        ]
    return problems


def _geojson_text_problems(data: bytes, label: str) -> list[Problem]:
    """Return a problem for GeoJSON text that is not UTF-8 (RFC 8259) or holds a NUL character.

    Either is one problem, naming the first feature and property that hold the bad text when
    the file can be read at all.
    """
    body = data[3:] if data.startswith(b"\xef\xbb\xbf") else data
    try:
        body.decode("utf-8")
    except UnicodeDecodeError as exc:
        line_no = body.count(b"\n", 0, exc.start) + 1
        reason = (
            f"not UTF-8 text (byte 0x{body[exc.start]:02x} on line {line_no}); GeoJSON must be "
            f"UTF-8{_utf8_guess(body)}"
        )
        where = _feature_holding(body.decode("utf-8", errors="replace"), "\ufffd")
        return [Problem(label, *(where or (0, "-")), reason)]
    if b"\\u0000" in body.lower() or b"\x00" in body:
        # GDAL would cut the text at the NUL and keep the rest silently
        where = _feature_holding(body.decode("utf-8"), "\x00")
        reason = "holds a NUL character (\\u0000); values must be plain text"
        return [Problem(label, *(where or (0, "-")), reason)]
    return []


def _feature_holding(text: str, char: str) -> tuple[int, str] | None:
    """Return (feature number, property) of the first property holding ``char``, if any."""
    try:
        features = json.loads(text).get("features") or []
    except (ValueError, AttributeError, RecursionError):
        return None
    if not isinstance(features, list):
        return None
    for number, feature in enumerate(features, start=1):
        props = feature.get("properties") if isinstance(feature, dict) else None
        if not isinstance(props, dict):
            continue
        for key, value in props.items():
            if char in str(key) or char in str(value):
                return number, shown(str(key))
    return None


CRS_MEMBER = re.compile(r'"crs"\s*:\s*(\{(?:[^{}]|\{[^{}]*\})*\})')


def _geojson_declared_crs(data: bytes, label: str) -> tuple[CRS | None, list[Problem]]:
    """Return the CRS a GeoJSON declares in a (legacy) top-level ``crs`` member, or None.

    The second item lists the problem of a member that names no CRS or an unknown one. The
    member may come before or after ``features``, so both ends of the file are searched.
    A declared CRS that pyproj does not know is an error (never silently read as lon/lat).
    """
    head = data[:65536].decode("utf-8", errors="replace").split('"features"', 1)[0]
    tail = data[-65536:].decode("utf-8", errors="replace").rsplit("]", 1)[-1]
    found = CRS_MEMBER.search(head) or CRS_MEMBER.search(tail)
    if not found:
        return None, []
    try:
        name = json.loads(found.group(1))["properties"]["name"]
    except (ValueError, KeyError, TypeError):
        name = None
    if not isinstance(name, str):
        return None, [
            Problem(
                label,
                0,
                "crs",
                "the file's crs member is not a named CRS "
                '({"type": "name", "properties": {"name": "EPSG:5179"}}); '
                "name the CRS, or remove the member for lon/lat",
            )
        ]
    try:
        return parse_crs(name), []
    except CRSError:
        return None, [
            Problem(
                label,
                0,
                "crs",
                f"the file declares an unknown CRS {shown(name[:100])!r}; "
                "name a known one (e.g. EPSG:5179), or remove the crs member for lon/lat",
            )
        ]


def _csv_geometry(table: SourceTable, geometry: str, given_crs: CRS | None) -> list[Problem]:
    columns = set(table.frame.columns)
    label = table.label
    if geometry == "point" and {"lon", "lat"} <= columns:
        if given_crs is not None and not given_crs.is_geographic:
            return [
                Problem(
                    label,
                    0,
                    "lon",
                    f"lon/lat columns hold degrees but --crs "
                    f"{crs_label(given_crs)} is projected; name the columns x,y",
                )
            ]
        return _xy_columns(table, "lon", "lat", given_crs or parse_crs(WGS84))
    if geometry == "point" and {"x", "y"} <= columns:
        if given_crs is None:
            return [
                Problem(
                    label, 0, "x", "projected x,y coordinates need --crs (e.g. --crs EPSG:5179)"
                )
            ]
        return _xy_columns(table, "x", "y", given_crs)
    if "wkt" in columns:
        if given_crs is None:
            return [Problem(label, 0, "wkt", "a wkt column needs --crs (e.g. --crs EPSG:4326)")]
        text = table.frame["wkt"]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            geoms = shapely.from_wkt(
                text.where(text != "", None).to_numpy(dtype=object), on_invalid="ignore"
            )
        problems = [
            Problem(label, int(table.row_numbers[i]), "wkt", "not valid WKT")
            for i in np.flatnonzero((text != "").to_numpy() & shapely.is_missing(geoms))
        ]
        return problems + _finish_geometry(table, geoms, geometry, given_crs, "wkt")
    wanted = "lon,lat or x,y or wkt" if geometry == "point" else "wkt"
    return [Problem(label, 0, "-", f"no coordinate columns (expected {wanted})")]


def _xy_columns(table: SourceTable, xcol: str, ycol: str, crs: CRS) -> list[Problem]:
    problems = []
    coords = {}
    for column in (xcol, ycol):
        text = table.frame[column]
        values = pd.to_numeric(text.where(text != ""), errors="coerce").to_numpy(dtype=float)
        for i in np.flatnonzero(~np.isfinite(values)):
            reason = (
                "required coordinate is missing"
                if text.iat[i] == ""
                else "must be a finite number"
                if np.isinf(values[i])
                else "not a number"
            )
            problems.append(Problem(table.label, int(table.row_numbers[i]), column, reason))
        coords[column] = values
    ok = np.isfinite(coords[xcol]) & np.isfinite(coords[ycol])
    geoms = np.full(len(table), None, dtype=object)
    geoms[ok] = shapely.points(coords[xcol][ok], coords[ycol][ok])
    # rows already reported above keep a None geometry without a second message
    return problems + _finish_geometry(table, geoms, "point", crs, xcol, reported=~ok)


def _finish_geometry(
    table: SourceTable,
    geoms: np.ndarray,
    geometry: str,
    crs: CRS,
    column: str,
    reported: np.ndarray | None = None,
) -> list[Problem]:
    """Check types, transform to lon/lat, check validity and the Korea bounds."""
    label = table.label
    problems = []
    reported = np.zeros(len(geoms), dtype=bool) if reported is None else reported.copy()
    missing = shapely.is_missing(geoms) | shapely.is_empty(geoms)
    wanted = {"point": {"Point"}, "polygon": {"Polygon", "MultiPolygon"}}[geometry]
    types = shapely.get_type_id(geoms)
    type_names = np.array(
        [
            "Point",
            "LineString",
            "LinearRing",
            "Polygon",
            "MultiPoint",
            "MultiLineString",
            "MultiPolygon",
            "GeometryCollection",
        ],
        dtype=object,
    )
    wanted_ids = [i for i, name in enumerate(type_names) if name in wanted]
    newly_missing = missing & ~reported
    wrong_type = ~missing & ~reported & ~np.isin(types, wanted_ids)
    for i in np.flatnonzero(newly_missing | wrong_type):
        reason = (
            "geometry is missing"
            if newly_missing[i]
            else f"expected {' or '.join(sorted(wanted))}, got {type_names[types[i]]}"
        )
        problems.append(Problem(label, int(table.row_numbers[i]), column, reason))
    reported |= newly_missing | wrong_type
    usable = ~reported
    out = np.full(len(geoms), None, dtype=object)
    if usable.any():
        src = parse_crs(crs)
        if same_crs(src, parse_crs(WGS84)):
            lonlat = geoms[usable]
        else:
            from pyproj import Transformer

            transformer = Transformer.from_crs(src, WGS84, always_xy=True)
            lonlat = shapely.transform(
                geoms[usable], lambda xy: np.column_stack(transformer.transform(xy[:, 0], xy[:, 1]))
            )
        out[usable] = lonlat
        idx = np.flatnonzero(usable)
        bounds = shapely.bounds(lonlat)
        inside = in_korea(bounds[:, 0], bounds[:, 1]) & in_korea(bounds[:, 2], bounds[:, 3])
        for i in idx[~inside]:
            problems.append(
                Problem(
                    label,
                    int(table.row_numbers[i]),
                    column,
                    f"outside South Korea (read as {crs_label(src)})",
                )
            )
            out[i] = None
        if geometry == "polygon":
            valid = shapely.is_valid(lonlat)
            for j in np.flatnonzero(~valid & inside):
                i = idx[j]
                problems.append(
                    Problem(
                        label,
                        int(table.row_numbers[i]),
                        column,
                        f"invalid polygon: {shapely.is_valid_reason(lonlat[j])}",
                    )
                )
                out[i] = None
    table.geometry = out
    return problems
