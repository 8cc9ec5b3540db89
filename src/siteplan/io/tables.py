"""CSV tables: encoding detection, typed columns, vectorised validation.

A table is read whole, decoded (UTF-8 with or without BOM, else GB18030 — which also
covers GBK/GB2312 — as Excel writes CSV in a Chinese locale), split with the csv module,
and converted column by column into numpy arrays. Every problem found (unknown or missing
column, bad number, NaN, out-of-range value, unknown enum, duplicate id, ...) is collected
as a :class:`~siteplan.exceptions.Problem` naming the file, the 1-based data row, the
field, the rule and the value; all of them are raised together in one
:class:`~siteplan.exceptions.ScenarioError`.
"""

from __future__ import annotations

import csv
import io
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from siteplan.config import MAX_FILE_BYTES, MAX_TABLE_ROWS
from siteplan.exceptions import MAX_REPORTED_PROBLEMS, Problem, ScenarioError

__all__ = ["Column", "Table", "read_table", "decode_bytes", "TRUE_WORDS", "FALSE_WORDS"]

TRUE_WORDS = frozenset({"true", "t", "1", "yes", "y"})
FALSE_WORDS = frozenset({"false", "f", "0", "no", "n"})

_MISSING = object()


@dataclass(frozen=True)
class Column:
    """Specification of one column.

    kind : "str" | "float" | "int" | "bool" | "enum"
    required : the column must be present (values must be non-empty).
    default : value used when the column is absent or a cell is empty (optional columns).
    min, max : inclusive bounds; gt : exclusive lower bound (numbers).
    choices : allowed values (enum).
    nonempty : for "str": the value must not be blank.
    """

    name: str
    kind: str = "str"
    required: bool = True
    default: Any = None
    min: float | None = None
    max: float | None = None
    gt: float | None = None
    choices: tuple | None = None
    nonempty: bool = False
    unit: str = ""


@dataclass
class Table:
    """A parsed table: columns as numpy arrays plus where they came from."""

    path: str
    encoding: str
    n_rows: int
    columns: dict[str, np.ndarray] = field(default_factory=dict)
    present: frozenset = frozenset()

    def __getitem__(self, name: str) -> np.ndarray:
        return self.columns[name]


def decode_bytes(data: bytes, fname: str) -> tuple[str, str]:
    """Decode table bytes; return ``(text, encoding)``.

    Accepts UTF-8 (BOM or not) and GB18030/GBK. UTF-16/32 (Excel's "Unicode text") and
    undecodable bytes raise :class:`ScenarioError`.
    """
    if data.startswith(b"\xef\xbb\xbf"):
        try:
            return data[3:].decode("utf-8"), "utf-8-sig"
        except UnicodeDecodeError as exc:
            raise ScenarioError(Problem(fname, None, None, "file starts with a UTF-8 BOM but is not valid UTF-8",
                                        f"byte offset {exc.start + 3}")) from None
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise ScenarioError(Problem(fname, None, None, "UTF-16 text is not supported: save as 'CSV UTF-8' or GB18030 CSV",
                                    "UTF-16 byte-order mark"))
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("gb18030"), "gb18030"
    except UnicodeDecodeError as exc:
        raise ScenarioError(Problem(fname, None, None, "encoding must be UTF-8 or GB18030/GBK",
                                    f"undecodable byte at offset {exc.start}")) from None


def _read_rows(path: Path, fname: str) -> tuple[list[str], list[list[str]], str]:
    if not path.exists():
        raise ScenarioError(Problem(fname, None, None, "file not found"))
    if not path.is_file():
        raise ScenarioError(Problem(fname, None, None, "is not a regular file"))
    size = path.stat().st_size
    if size > MAX_FILE_BYTES:
        raise ScenarioError(Problem(fname, None, None, f"file larger than the limit of {MAX_FILE_BYTES} bytes", size))
    text, encoding = decode_bytes(path.read_bytes(), fname)
    if "\x00" in text:
        line = text[: text.index("\x00")].count("\n") + 1
        raise ScenarioError(Problem(fname, None, None, "file contains a NUL character (binary file?)", f"line {line}"))
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    try:
        header = next(reader, None)
        if header is None:
            raise ScenarioError(Problem(fname, None, None, "table is empty (no header row)"))
        rows = []
        for row in reader:
            if not row or all(not c.strip() for c in row):
                rows.append(None)  # blank line: kept for row numbering, dropped below
                continue
            rows.append(row)
            if len(rows) > MAX_TABLE_ROWS:
                raise ScenarioError(Problem(fname, None, None, f"table has more than the limit of {MAX_TABLE_ROWS} rows",
                                            len(rows)))
    except csv.Error as exc:
        raise ScenarioError(Problem(fname, reader.line_num - 1 if reader.line_num else None, None,
                                    "malformed CSV", str(exc))) from None
    header = [h.strip() for h in header]
    return header, rows, encoding


def _read_geojson_rows(path: Path, fname: str, columns: Sequence[Column]) -> tuple[list[str], list[list[str]], str]:
    """A GeoJSON FeatureCollection as a table: one feature a row, properties as columns;
    a Point geometry supplies ``lon``/``lat`` when the table has those columns."""
    import json

    if not path.is_file():
        raise ScenarioError(Problem(fname, None, None, "file not found"))
    if path.stat().st_size > MAX_FILE_BYTES:
        raise ScenarioError(Problem(fname, None, None, f"file larger than the limit of {MAX_FILE_BYTES} bytes",
                                    path.stat().st_size))
    text, encoding = decode_bytes(path.read_bytes(), fname)
    try:
        doc = json.loads(text)
    except ValueError as exc:
        raise ScenarioError(Problem(fname, getattr(exc, "lineno", None), None, "invalid JSON", str(exc))) from None
    if not isinstance(doc, dict) or doc.get("type") != "FeatureCollection" or not isinstance(doc.get("features"), list):
        raise ScenarioError(Problem(fname, None, "type", "GeoJSON table must be a FeatureCollection",
                                    doc.get("type") if isinstance(doc, dict) else type(doc).__name__))
    feats = doc["features"]
    if len(feats) > MAX_TABLE_ROWS:
        raise ScenarioError(Problem(fname, None, None, f"more than the limit of {MAX_TABLE_ROWS} features", len(feats)))
    wants_point = any(c.name == "lon" for c in columns)
    header: list[str] = []
    records = []
    problems = []
    for k, f in enumerate(feats, start=1):
        props = f.get("properties") if isinstance(f, dict) else None
        if not isinstance(props, dict):
            problems.append(Problem(fname, k, "properties", "feature needs a properties object", None))
            continue
        rec = {str(key): ("" if v is None else str(v).lower() if isinstance(v, bool) else str(v))
               for key, v in props.items()}
        geom = f.get("geometry")
        if wants_point and isinstance(geom, dict) and geom.get("type") == "Point":
            coords = geom.get("coordinates")
            if isinstance(coords, list) and len(coords) >= 2:
                rec.setdefault("lon", str(coords[0]))
                rec.setdefault("lat", str(coords[1]))
        for key in rec:
            if key not in header:
                header.append(key)
        records.append(rec)
    ScenarioError.collect(problems)
    rows = [[r.get(h, "") for h in header] for r in records]
    return header, rows, encoding


def read_table(path: str | os.PathLike, columns: Sequence[Column], *, display_name: str | None = None) -> Table:
    """Read and validate a CSV table (or a GeoJSON FeatureCollection) against ``columns``.

    Raises :class:`ScenarioError` listing every problem found (up to a limit).
    Rows are numbered from 1 for the first data row (the header is row 0); in GeoJSON
    the row is the 1-based feature number.
    """
    path = Path(path)
    fname = display_name or str(path)
    if path.suffix.lower() in (".geojson", ".json"):
        header, raw_rows, encoding = _read_geojson_rows(path, fname, columns)
        if not header and not raw_rows:
            raise ScenarioError(Problem(fname, None, None, "table is empty (no features)"))
    else:
        header, raw_rows, encoding = _read_rows(path, fname)
    problems: list[Problem] = []
    spec = {c.name: c for c in columns}

    seen = set()
    for k, h in enumerate(header):
        if h == "":
            problems.append(Problem(fname, 0, f"column {k + 1}", "header cell is empty", h))
        elif h not in spec:
            problems.append(Problem(fname, 0, h, f"unknown column (known: {', '.join(spec)})", h))
        elif h in seen:
            problems.append(Problem(fname, 0, h, "column appears twice in the header", h))
        seen.add(h)
    for c in columns:
        if c.required and c.name not in header:
            problems.append(Problem(fname, 0, c.name, "required column is missing", None))
    if problems:
        raise ScenarioError(problems)

    row_numbers = np.array([i + 1 for i, r in enumerate(raw_rows) if r is not None], dtype=np.int64)
    rows = [r for r in raw_rows if r is not None]
    if not rows:
        raise ScenarioError(Problem(fname, None, None, "table is empty (no data rows)"))
    width = len(header)
    for rn, r in zip(row_numbers, rows):
        if len(r) != width:
            problems.append(Problem(fname, int(rn), None, f"row has {len(r)} fields, header has {width}", ",".join(r)))
            if len(problems) >= MAX_REPORTED_PROBLEMS:
                break
    if problems:
        raise ScenarioError(problems)

    n = len(rows)
    cells = np.array(rows, dtype=object).reshape(n, width) if n else np.zeros((0, width), dtype=object)
    out: dict[str, np.ndarray] = {}
    for c in columns:
        if c.name in header:
            raw = np.array([s.strip() for s in cells[:, header.index(c.name)]], dtype=object)
        else:
            raw = None
        out[c.name] = _convert(raw, c, n, fname, row_numbers, problems)
    out["__row__"] = row_numbers
    ScenarioError.collect(problems)
    return Table(path=fname, encoding=encoding, n_rows=n, columns=out, present=frozenset(header))


def _convert(raw, c: Column, n: int, fname: str, rows: np.ndarray, problems: list[Problem]) -> np.ndarray:
    """Convert one column; append problems; return a typed array (placeholders where bad)."""
    if raw is None:
        return _fill(c, n)
    empty = np.array([s == "" for s in raw], dtype=bool)
    if c.required and empty.any():
        for i in np.flatnonzero(empty)[:MAX_REPORTED_PROBLEMS]:
            problems.append(Problem(fname, int(rows[i]), c.name, "value is required", ""))
    if c.kind in ("str", "enum"):
        vals = raw.copy()
        if not c.required and c.default is not None:
            vals[empty] = c.default
        if c.kind == "enum":
            bad = ~empty & ~np.isin(vals, np.array(c.choices, dtype=object))
            for i in np.flatnonzero(bad)[:MAX_REPORTED_PROBLEMS]:
                problems.append(Problem(fname, int(rows[i]), c.name, f"must be one of {', '.join(map(str, c.choices))}",
                                        raw[i]))
        if c.nonempty and not c.required:
            for i in np.flatnonzero(empty)[:MAX_REPORTED_PROBLEMS]:
                problems.append(Problem(fname, int(rows[i]), c.name, "must not be empty", ""))
        return vals
    if c.kind == "bool":
        low = np.array([s.lower() for s in raw], dtype=object)
        is_true = np.isin(low, list(TRUE_WORDS))
        is_false = np.isin(low, list(FALSE_WORDS))
        bad = ~empty & ~is_true & ~is_false
        for i in np.flatnonzero(bad)[:MAX_REPORTED_PROBLEMS]:
            problems.append(Problem(fname, int(rows[i]), c.name, "must be a boolean (true/false, 1/0, yes/no)", raw[i]))
        vals = is_true.copy()
        if c.default is not None:
            vals[empty] = bool(c.default)
        return vals
    # numbers
    vals = np.full(n, np.nan, dtype=float)
    ok = ~empty
    try:
        vals[ok] = np.asarray(raw[ok], dtype=float)
    except ValueError:
        for i in np.flatnonzero(ok):
            try:
                vals[i] = float(raw[i])
            except ValueError:
                ok[i] = False
                problems.append(Problem(fname, int(rows[i]), c.name, "must be a number", raw[i]))
    finite = np.isfinite(vals)
    for i in np.flatnonzero(ok & ~finite)[:MAX_REPORTED_PROBLEMS]:
        problems.append(Problem(fname, int(rows[i]), c.name, "must be a finite number (not NaN or inf)", raw[i]))
    good = ok & finite
    if c.kind == "int":
        frac = good & (vals != np.round(vals))
        for i in np.flatnonzero(frac)[:MAX_REPORTED_PROBLEMS]:
            problems.append(Problem(fname, int(rows[i]), c.name, "must be a whole number", raw[i]))
    _bounds(vals, good, raw, c, fname, rows, problems)
    if not c.required and c.default is not None:
        vals[empty] = c.default
    if c.kind == "int":
        vals = np.where(np.isfinite(vals), np.round(vals), 0).astype(np.int64)
    return vals


def _bounds(vals, good, raw, c: Column, fname, rows, problems):
    checks: list[tuple[np.ndarray, str]] = []
    if c.min is not None:
        checks.append((vals < c.min, f"must be >= {c.min:g}"))
    if c.max is not None:
        checks.append((vals > c.max, f"must be <= {c.max:g}"))
    if c.gt is not None:
        checks.append((vals <= c.gt, f"must be > {c.gt:g}"))
    for mask, rule in checks:
        for i in np.flatnonzero(good & mask)[:MAX_REPORTED_PROBLEMS]:
            problems.append(Problem(fname, int(rows[i]), c.name, rule, raw[i]))


def _fill(c: Column, n: int) -> np.ndarray:
    if c.kind in ("str", "enum"):
        return np.full(n, "" if c.default is None else c.default, dtype=object)
    if c.kind == "bool":
        return np.full(n, bool(c.default), dtype=bool)
    if c.kind == "int":
        return np.full(n, 0 if c.default is None else c.default, dtype=np.int64)
    return np.full(n, np.nan if c.default is None else c.default, dtype=float)


def duplicates(values: np.ndarray) -> np.ndarray:
    """Indices of entries whose value appeared earlier in ``values``."""
    _, first = np.unique(values.astype(str), return_index=True)
    mask = np.ones(len(values), dtype=bool)
    mask[first] = False
    return np.flatnonzero(mask)


def check_unique(table: Table, name: str, problems: list[Problem]) -> None:
    """Append a problem for every repeated value of column ``name``."""
    vals = table[name]
    for i in duplicates(vals)[:MAX_REPORTED_PROBLEMS]:
        problems.append(Problem(table.path, _row_of(table, i), name, "must be unique (duplicate id)", vals[i]))


def check_reference(table: Table, name: str, targets: dict, target_desc: str, problems: list[Problem]) -> np.ndarray:
    """Map values of ``name`` through ``targets`` (id -> index); dangling ones are problems.

    Returns int32 indices (-1 where dangling).
    """
    vals = table[name]
    idx = np.array([targets.get(v, -1) for v in vals], dtype=np.int64)
    for i in np.flatnonzero(idx < 0)[:MAX_REPORTED_PROBLEMS]:
        problems.append(Problem(table.path, _row_of(table, i), name, f"refers to an unknown {target_desc}", vals[i]))
    return idx.astype(np.int32)


def _row_of(table: Table, i: int) -> int:
    rn = table.columns.get("__row__")
    return int(rn[i]) if rn is not None else int(i) + 1
