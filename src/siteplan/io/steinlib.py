"""Reader for SteinLib ``.stp`` files (Steiner tree problem in graphs).

Format (SteinLib, Koch, Martin and Voss, ZIB; see ``shared/instances/steinlib/README.md``):
a magic first line ``33D32945 STP File, STP Format Version 1.0``, then sections
``SECTION <name>`` ... ``END``, closed by ``EOF``. Keywords are case-insensitive.
Only the undirected problem is read: ``SECTION Graph`` with ``Nodes n``, ``Edges m`` and
``m`` lines ``E u v w``; ``SECTION Terminals`` with ``Terminals k`` and ``k`` lines
``T v`` (an optional ``Root r`` is kept). Other sections (Comment, Coordinates, ...) are
skipped. Directed arcs (``A``) and prizes (``TP``) are refused with a clear message.

Every rule broken by the file is collected (up to a limit) and raised once as a
:class:`~siteplan.exceptions.FormatError` naming the file, the 1-based line, the field,
the rule and the value read.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from siteplan.config import MAX_FILE_BYTES
from siteplan.exceptions import MAX_REPORTED_PROBLEMS, FormatError, Problem

__all__ = ["SteinLibInstance", "read_steinlib"]

_MAGIC = "33d32945"


@dataclass(frozen=True)
class SteinLibInstance:
    """An undirected Steiner tree instance as read from a ``.stp`` file.

    Attributes
    ----------
    name : the ``Name`` of the comment section, or the file stem.
    n_nodes : number of nodes; node ids are ``1..n_nodes`` as in the file.
    edges : ``(m, 2)`` int64 array of node ids (1-based, as in the file), in file order.
    weights : ``(m,)`` float64 edge costs [cost units of the file], ``>= 0``.
    terminals : ``(k,)`` int64 array of terminal node ids (1-based), in file order.
    root : the ``Root`` node id when the file gives one, else ``None``.
    path : the file read.
    """

    name: str
    n_nodes: int
    edges: np.ndarray
    weights: np.ndarray
    terminals: np.ndarray
    root: int | None
    path: str

    @property
    def n_edges(self) -> int:
        return int(self.edges.shape[0])


class _Collector:
    def __init__(self, file: str):
        self.file = file
        self.problems: list[Problem] = []

    def add(self, line: int | None, field: str | None, rule: str, value=None) -> None:
        self.problems.append(Problem(self.file, line, field, rule, value))

    @property
    def full(self) -> bool:
        return len(self.problems) > MAX_REPORTED_PROBLEMS


def _parse_int(tok: str, col: _Collector, line: int, field: str, minimum: int | None = None):
    try:
        value = int(tok)
    except ValueError:
        col.add(line, field, "must be an integer", tok)
        return None
    if minimum is not None and value < minimum:
        col.add(line, field, f"must be >= {minimum}", tok)
        return None
    return value


def _parse_weight(tok: str, col: _Collector, line: int) -> float | None:
    try:
        value = float(tok)
    except ValueError:
        col.add(line, "weight", "must be a number", tok)
        return None
    if not math.isfinite(value) or value < 0:
        col.add(line, "weight", "must be a finite number >= 0", tok)
        return None
    return value


def read_steinlib(path: str | os.PathLike) -> SteinLibInstance:
    """Read an undirected SteinLib ``.stp`` file.

    Parameters
    ----------
    path : the ``.stp`` file.

    Returns
    -------
    SteinLibInstance with node ids as in the file (1-based).

    Raises
    ------
    FormatError : the file is missing, too large, not STP, truncated or breaks a rule
        (counts that do not match, node ids out of range, negative or non-numeric
        weights, self-loops, duplicate terminals, directed arcs, prizes).
    """
    path = Path(path)
    file = str(path)
    if not path.is_file():
        raise FormatError(Problem(file, None, None, "file does not exist or is not a file"))
    size = path.stat().st_size
    if size > MAX_FILE_BYTES:
        raise FormatError(Problem(file, None, None, f"file is larger than {MAX_FILE_BYTES} bytes", size))
    try:
        text = path.read_text(encoding="utf-8", errors="strict")
    except UnicodeDecodeError as exc:
        raise FormatError(Problem(file, None, None, "must be UTF-8/ASCII text", str(exc))) from None

    col = _Collector(file)
    lines = text.splitlines()

    # magic header: first non-blank line
    first = next(((i, ln) for i, ln in enumerate(lines) if ln.strip()), None)
    if first is None:
        raise FormatError(Problem(file, None, None, "file is empty"))
    if not first[1].strip().lower().startswith(_MAGIC):
        raise FormatError(
            Problem(file, first[0] + 1, "header", "first line must start with '33D32945' (STP magic)", first[1].strip())
        )

    name = path.stem
    n_nodes: int | None = None
    n_edges_declared: int | None = None
    n_edges_line = None
    n_terms_declared: int | None = None
    n_terms_line = None
    root: int | None = None
    edges: list[tuple[int, int]] = []
    edge_lines: list[int] = []
    weights: list[float] = []
    terminals: list[int] = []
    term_lines: list[int] = []
    section: str | None = None
    section_line = 0
    seen_sections: set[str] = set()
    saw_eof = False

    for idx in range(first[0] + 1, len(lines)):
        lineno = idx + 1
        raw = lines[idx]
        # strip comments introduced by '#'
        hash_at = raw.find("#")
        if hash_at >= 0:
            raw = raw[:hash_at]
        toks = raw.split()
        if not toks:
            continue
        key = toks[0].lower()
        if col.full:
            break
        if section is None:
            if key == "eof":
                saw_eof = True
                break
            if key == "section":
                if len(toks) < 2:
                    col.add(lineno, "SECTION", "must name the section", raw.strip())
                    section = "?"
                else:
                    section = toks[1].lower()
                    if section in seen_sections and section in ("graph", "terminals"):
                        col.add(lineno, "SECTION", "section must appear once", toks[1])
                    seen_sections.add(section)
                section_line = lineno
                continue
            col.add(lineno, "keyword", "expected 'SECTION <name>' or 'EOF' outside a section", toks[0])
            continue
        if key == "end":
            section = None
            continue
        if key == "eof":
            col.add(lineno, "END", f"section opened on line {section_line} must be closed by END before EOF", "EOF")
            saw_eof = True
            break
        if section == "comment":
            if key == "name" and len(toks) > 1:
                name = raw.split(None, 1)[1].strip().strip('"')
            continue
        if section == "graph":
            if key == "nodes":
                if len(toks) != 2:
                    col.add(lineno, "Nodes", "must be 'Nodes <count>'", raw.strip())
                    continue
                n_nodes = _parse_int(toks[1], col, lineno, "Nodes", minimum=1)
            elif key == "edges":
                if len(toks) != 2:
                    col.add(lineno, "Edges", "must be 'Edges <count>'", raw.strip())
                    continue
                n_edges_declared = _parse_int(toks[1], col, lineno, "Edges", minimum=0)
                n_edges_line = lineno
            elif key == "e":
                if len(toks) != 4:
                    col.add(lineno, "E", "must be 'E <u> <v> <weight>'", raw.strip())
                    continue
                u = _parse_int(toks[1], col, lineno, "u", minimum=1)
                v = _parse_int(toks[2], col, lineno, "v", minimum=1)
                w = _parse_weight(toks[3], col, lineno)
                if n_nodes is None:
                    col.add(lineno, "E", "edge before 'Nodes <count>'", raw.strip())
                    continue
                bad = False
                for fld, val in (("u", u), ("v", v)):
                    if val is not None and val > n_nodes:
                        col.add(lineno, fld, f"node id must be in 1..{n_nodes}", val)
                        bad = True
                if u is not None and v is not None and u == v and not bad:
                    col.add(lineno, "E", "self-loop: u must differ from v", raw.strip())
                    bad = True
                if u is None or v is None or w is None or bad:
                    continue
                edges.append((u, v))
                weights.append(w)
                edge_lines.append(lineno)
            elif key in ("a", "arcs"):
                col.add(lineno, toks[0], "directed arcs are not supported (undirected STP only)", raw.strip())
            elif key in ("obstacles",):
                col.add(lineno, toks[0], "rectilinear obstacles are not supported", raw.strip())
            # other keywords of the Graph section are ignored
            continue
        if section == "terminals":
            if key == "terminals":
                if len(toks) != 2:
                    col.add(lineno, "Terminals", "must be 'Terminals <count>'", raw.strip())
                    continue
                n_terms_declared = _parse_int(toks[1], col, lineno, "Terminals", minimum=0)
                n_terms_line = lineno
            elif key == "t":
                if len(toks) != 2:
                    col.add(lineno, "T", "must be 'T <node>'", raw.strip())
                    continue
                t = _parse_int(toks[1], col, lineno, "T", minimum=1)
                if t is None:
                    continue
                if n_nodes is not None and t > n_nodes:
                    col.add(lineno, "T", f"node id must be in 1..{n_nodes}", t)
                    continue
                terminals.append(t)
                term_lines.append(lineno)
            elif key == "root":
                if len(toks) != 2:
                    col.add(lineno, "Root", "must be 'Root <node>'", raw.strip())
                    continue
                r = _parse_int(toks[1], col, lineno, "Root", minimum=1)
                if r is not None and n_nodes is not None and r > n_nodes:
                    col.add(lineno, "Root", f"node id must be in 1..{n_nodes}", r)
                    continue
                root = r
            elif key in ("tp", "rootp"):
                col.add(lineno, toks[0], "prize-collecting terminals are not supported", raw.strip())
            continue
        # unknown section: skip its content

    if not col.full:
        if section is not None and not saw_eof:
            col.add(len(lines), "END", f"file is truncated: section opened on line {section_line} is not closed", None)
        elif not saw_eof:
            col.add(len(lines), "EOF", "file is truncated: missing 'EOF'", None)
        if "graph" not in seen_sections:
            col.add(None, "SECTION Graph", "required section is missing")
        if "terminals" not in seen_sections:
            col.add(None, "SECTION Terminals", "required section is missing")
        if "graph" in seen_sections and n_nodes is None:
            col.add(None, "Nodes", "'Nodes <count>' is missing from SECTION Graph")
        if n_edges_declared is not None and n_edges_declared != len(edges) and not col.problems:
            col.add(n_edges_line, "Edges", f"declares {n_edges_declared} edges but {len(edges)} 'E' lines follow",
                    n_edges_declared)
        if n_terms_declared is not None and n_terms_declared != len(terminals) and not col.problems:
            col.add(n_terms_line, "Terminals",
                    f"declares {n_terms_declared} terminals but {len(terminals)} 'T' lines follow", n_terms_declared)
        if "terminals" in seen_sections and n_terms_declared is None:
            col.add(None, "Terminals", "'Terminals <count>' is missing from SECTION Terminals")
        seen: dict[int, int] = {}
        for t, ln in zip(terminals, term_lines):
            if t in seen:
                col.add(ln, "T", f"duplicate terminal (first on line {seen[t]})", t)
            else:
                seen[t] = ln
    FormatError.collect(col.problems)

    return SteinLibInstance(
        name=name,
        n_nodes=int(n_nodes),
        edges=np.asarray(edges, dtype=np.int64).reshape(-1, 2),
        weights=np.asarray(weights, dtype=np.float64),
        terminals=np.asarray(terminals, dtype=np.int64),
        root=root,
        path=file,
    )
