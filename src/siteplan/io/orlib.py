"""Reader for Beasley's OR-Library set-covering files.

Two layouts exist, both a stream of whitespace-separated integers (line breaks carry no
meaning):

* row-wise (``scp*`` files): ``m n``, the n column costs, then for each row ``k`` and
  the k covering columns (1-based);
* column-wise (``rail*`` files): ``m n``, then for each column ``cost r`` and the r
  rows it covers (1-based).

``read_orlib_scp`` detects the layout from the token count (the layout whose structure
consumes the stream exactly), checks every index and count, and raises
:class:`~siteplan.exceptions.FormatError` naming the file, the 1-based line, the field
and the value on a malformed or truncated file.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from siteplan.config import MAX_FILE_BYTES
from siteplan.exceptions import FormatError, Problem
from siteplan.model.covering import SetCoverProblem

__all__ = ["read_orlib_scp", "ORLIB_FORMATS"]

#: accepted values of ``fmt``
ORLIB_FORMATS = ("auto", "rows", "columns")


class _Tokens:
    def __init__(self, path: str, text: str):
        self.path = path
        raw = text.split()
        self.tokens = raw
        # 1-based line of every token, for messages
        line_of = []
        for ln, line in enumerate(text.splitlines(), start=1):
            line_of.extend([ln] * len(line.split()))
        self.line_of = line_of
        self.pos = 0

    def line(self, pos: int | None = None) -> int | None:
        pos = self.pos if pos is None else pos
        if not self.line_of:
            return None
        return self.line_of[min(pos, len(self.line_of) - 1)]

    def take(self, count: int, field: str) -> np.ndarray:
        end = self.pos + count
        if end > len(self.tokens):
            raise FormatError(Problem(self.path, self.line(len(self.tokens)), field,
                                      f"file ends early: {count} value(s) expected, "
                                      f"{len(self.tokens) - self.pos} left", None))
        chunk = self.tokens[self.pos:end]
        try:
            arr = np.array(chunk, dtype=np.int64)
        except (ValueError, OverflowError):
            for k, tok in enumerate(chunk):
                try:
                    int(tok)
                except ValueError:
                    raise FormatError(Problem(self.path, self.line(self.pos + k), field,
                                              "must be an integer", tok)) from None
            raise
        self.pos = end
        return arr

    def one(self, field: str) -> int:
        return int(self.take(1, field)[0])

    def check_end(self, fmt: str) -> None:
        if self.pos != len(self.tokens):
            raise FormatError(Problem(self.path, self.line(self.pos), None,
                                      f"unexpected data after the last {fmt} "
                                      f"({len(self.tokens) - self.pos} extra value(s))",
                                      self.tokens[self.pos]))


def _header(tok: _Tokens) -> tuple[int, int]:
    m = tok.one("m (number of rows)")
    n = tok.one("n (number of columns)")
    probs = []
    if m < 1:
        probs.append(Problem(tok.path, 1, "m (number of rows)", "must be >= 1", m))
    if n < 1:
        probs.append(Problem(tok.path, 1, "n (number of columns)", "must be >= 1", n))
    FormatError.collect(probs)
    return m, n


def _parse_rows(path: str, text: str):
    tok = _Tokens(path, text)
    m, n = _header(tok)
    cost_pos = tok.pos
    costs = tok.take(n, "column costs")
    probs = []
    bad = np.flatnonzero(costs < 0)
    for k in bad[:20]:
        probs.append(Problem(path, tok.line(cost_pos + int(k)), f"cost of column {k + 1}", "must be >= 0",
                             int(costs[k])))
    FormatError.collect(probs)
    cols_of_row = []
    for i in range(m):
        k = tok.one(f"number of columns covering row {i + 1}")
        if k < 0 or k > n:
            raise FormatError(Problem(path, tok.line(tok.pos - 1), f"number of columns covering row {i + 1}",
                                      f"must lie in 0..{n}", k))
        start = tok.pos
        cols = tok.take(k, f"columns covering row {i + 1}")
        badc = np.flatnonzero((cols < 1) | (cols > n))
        if badc.size:
            raise FormatError(Problem(path, tok.line(start + int(badc[0])), f"columns covering row {i + 1}",
                                      f"column index must lie in 1..{n}", int(cols[badc[0]])))
        cols_of_row.append(cols - 1)
    tok.check_end("row")
    rows = np.repeat(np.arange(m, dtype=np.int64), [c.size for c in cols_of_row])
    cols = np.concatenate(cols_of_row) if cols_of_row else np.zeros(0, np.int64)
    return m, n, costs, rows, cols


def _parse_columns(path: str, text: str):
    tok = _Tokens(path, text)
    m, n = _header(tok)
    costs = np.empty(n, dtype=np.int64)
    rows_of_col = []
    for j in range(n):
        c = tok.one(f"cost of column {j + 1}")
        if c < 0:
            raise FormatError(Problem(path, tok.line(tok.pos - 1), f"cost of column {j + 1}", "must be >= 0", c))
        r = tok.one(f"number of rows covered by column {j + 1}")
        if r < 0 or r > m:
            raise FormatError(Problem(path, tok.line(tok.pos - 1), f"number of rows covered by column {j + 1}",
                                      f"must lie in 0..{m}", r))
        start = tok.pos
        rr = tok.take(r, f"rows covered by column {j + 1}")
        bad = np.flatnonzero((rr < 1) | (rr > m))
        if bad.size:
            raise FormatError(Problem(path, tok.line(start + int(bad[0])), f"rows covered by column {j + 1}",
                                      f"row index must lie in 1..{m}", int(rr[bad[0]])))
        costs[j] = c
        rows_of_col.append(rr - 1)
    tok.check_end("column")
    cols = np.repeat(np.arange(n, dtype=np.int64), [r.size for r in rows_of_col])
    rows = np.concatenate(rows_of_col) if rows_of_col else np.zeros(0, np.int64)
    return m, n, costs, rows, cols


_PARSERS = {"rows": _parse_rows, "columns": _parse_columns}


def read_orlib_scp(path: str | os.PathLike, fmt: str = "auto"):
    """Read an OR-Library set-covering file into a :class:`SetCoverProblem`.

    Parameters
    ----------
    path : the file (``scp41.txt``, ``rail507.txt``, ...).
    fmt : "rows" (``scp*`` layout), "columns" (``rail*`` layout) or "auto": the layout
        that consumes the whole file; when both or neither do, the file name decides
        (``rail*`` = columns) and that layout's error is raised.

    Returns
    -------
    SetCoverProblem with 0-based indices; ``meta["format"]`` names the layout read.
    Duplicate entries (a row listed twice for one column) are merged.
    """
    if fmt not in ORLIB_FORMATS:
        raise FormatError(Problem(str(path), None, "fmt", f"must be one of {ORLIB_FORMATS}", fmt))
    p = Path(path)
    name = str(path)
    try:
        size = p.stat().st_size
        if size > MAX_FILE_BYTES:
            raise FormatError(Problem(name, None, None, f"file larger than {MAX_FILE_BYTES} bytes", size))
        text = p.read_text(encoding="ascii", errors="strict")
    except FileNotFoundError:
        raise FormatError(Problem(name, None, None, "file not found")) from None
    except UnicodeDecodeError as exc:
        raise FormatError(Problem(name, None, None, "must be plain ASCII integers",
                                  f"byte {exc.start}")) from None
    except IsADirectoryError:
        raise FormatError(Problem(name, None, None, "is a folder, not a file")) from None
    if not text.split():
        raise FormatError(Problem(name, 1, None, "file is empty"))
    if fmt == "auto":
        preferred = "columns" if p.name.lower().startswith("rail") else "rows"
        other = "rows" if preferred == "columns" else "columns"
        try:
            parsed, used = _PARSERS[preferred](name, text), preferred
        except FormatError as first:
            try:
                parsed, used = _PARSERS[other](name, text), other
            except FormatError:
                raise first from None
    else:
        parsed, used = _PARSERS[fmt](name, text), fmt
    m, n, costs, rows, cols = parsed
    # column-wise, sorted, duplicates merged
    key = np.unique(cols * m + rows)
    cols_u, rows_u = key // m, key % m
    col_ptr = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(np.bincount(cols_u, minlength=n), out=col_ptr[1:])
    prob = SetCoverProblem(m, col_ptr, rows_u.astype(np.int64), costs.astype(np.float64),
                           name=p.stem, meta={"format": used, "path": name})
    return prob
