"""CBC backend: the CBC binary bundled with PuLP, driven in a separate process.

The model is written as a free-format MPS file straight from the CSR arrays (PuLP's
Python model objects are bypassed: they cost seconds per 100k non-zeros); the warm start
is passed with ``-mips``; the run is killed by a wall-clock watchdog if it overruns. The
status is read from CBC's log and solution file *and* the solution is re-checked against
the model: CBC stopped on time without an integer solution writes LP values with a
"Stopped on time" header, which must never be reported as a solution.
"""

from __future__ import annotations

import math
import os
import re
import subprocess
import tempfile
import time
from pathlib import Path

import numpy as np

from siteplan.exceptions import SolverError
from siteplan.optimize.milp import MilpResult, MilpSpec, SolveStatus

__all__ = ["solve_cbc", "cbc_path", "cbc_version", "write_mps"]


def cbc_path() -> str | None:
    """Path of PuLP's bundled CBC binary, or ``None`` when it cannot run here."""
    try:
        import warnings

        import pulp

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            cmd = pulp.PULP_CBC_CMD(msg=False)
            return cmd.path if cmd.available() else None
    except Exception:  # pragma: no cover
        return None


_VERSION: str | None = None


def cbc_version() -> str:
    global _VERSION
    if _VERSION is None:
        path = cbc_path()
        if path is None:
            return ""
        out = subprocess.run([path, "-quit"], capture_output=True, text=True, timeout=30).stdout
        m = re.search(r"Version:\s*(\S+)", out)
        _VERSION = m.group(1) if m else "unknown"
    return _VERSION


def _num(v: float) -> str:
    return repr(float(v))


def write_mps(spec: MilpSpec, path: Path) -> None:
    """Write ``spec`` as a free-format MPS file (a maximisation is written negated)."""
    n, m = spec.n_cols, spec.n_rows
    sign = -1.0 if spec.sense == "max" else 1.0
    rows_of = np.repeat(np.arange(m), np.diff(spec.indptr))
    # column-major order of the entries
    order = np.lexsort((rows_of, spec.indices))
    col_of = spec.indices[order]
    row_of = rows_of[order]
    val = spec.data[order]
    col_start = np.searchsorted(col_of, np.arange(n + 1))
    lines = ["NAME siteplan", "ROWS", " N OBJ"]
    for i in range(m):
        lo, up = spec.row_lower[i], spec.row_upper[i]
        if math.isinf(lo) and math.isinf(up):
            kind = "N"
        elif lo == up:
            kind = "E"
        elif math.isinf(up):
            kind = "G"
        elif math.isinf(lo):
            kind = "L"
        else:
            kind = "G"  # ranged: G with RANGES
        lines.append(f" {kind} R{i}")
    lines.append("COLUMNS")
    in_int = False
    for j in range(n):
        if spec.integrality[j] != in_int:
            lines.append(f" M{j} 'MARKER' '{'INTORG' if not in_int else 'INTEND'}'")
            in_int = not in_int
        cj = sign * spec.c[j]
        lines.append(f" C{j} OBJ {_num(cj)}")
        for k in range(col_start[j], col_start[j + 1]):
            lines.append(f" C{j} R{row_of[k]} {_num(val[k])}")
    if in_int:
        lines.append(" MEND 'MARKER' 'INTEND'")
    lines.append("RHS")
    rng = []
    for i in range(m):
        lo, up = spec.row_lower[i], spec.row_upper[i]
        if math.isinf(lo) and math.isinf(up):
            continue
        rhs = up if math.isinf(lo) else lo
        if rhs != 0.0:
            lines.append(f" RHS R{i} {_num(rhs)}")
        if math.isfinite(lo) and math.isfinite(up) and lo != up:
            rng.append(f" RNG R{i} {_num(up - lo)}")
    if rng:
        lines.append("RANGES")
        lines.extend(rng)
    lines.append("BOUNDS")
    for j in range(n):
        lo, up = spec.col_lower[j], spec.col_upper[j]
        if math.isinf(lo) and math.isinf(up):
            lines.append(f" FR BND C{j}")
            continue
        if lo == up:
            lines.append(f" FX BND C{j} {_num(lo)}")
            continue
        lines.append(f" MI BND C{j}" if math.isinf(lo) else f" LO BND C{j} {_num(lo)}")
        lines.append(f" PL BND C{j}" if math.isinf(up) else f" UP BND C{j} {_num(up)}")
    lines.append("ENDATA")
    path.write_text("\n".join(lines) + "\n")


def _write_start(path: Path, x: np.ndarray) -> None:
    lines = ["Feasible - objective value 0"]
    lines += [f"{j} C{j} {_num(v)} 0" for j, v in enumerate(x)]
    path.write_text("\n".join(lines) + "\n")


def _read_solution(path: Path, n: int) -> tuple[str, np.ndarray] | None:
    if not path.exists():
        return None
    text = path.read_text().splitlines()
    if not text:
        return None
    header = text[0]
    x = np.zeros(n)
    for line in text[1:]:
        parts = line.replace("**", " ").split()
        if len(parts) < 3 or not parts[1].startswith("C"):
            continue
        try:
            j = int(parts[1][1:])
            x[j] = float(parts[2])
        except (ValueError, IndexError):
            return None
    return header, x


def _last_float(pattern: str, log: str) -> float | None:
    found = re.findall(pattern, log)
    if not found:
        return None
    try:
        return float(found[-1])
    except ValueError:
        return None


def solve_cbc(spec: MilpSpec, *, time_limit, gap, threads, warm_start, seed, verbose,
              emphasis="balanced", cancel=None) -> MilpResult:
    """Solve ``spec`` with CBC; see :func:`siteplan.optimize.backends.solve_milp`.

    ``cancel`` (a ``threading.Event``): when set, the CBC process is killed and the run
    reports no solution (used by the "highs+cbc" race)."""
    from siteplan.optimize.backends import check_result, watchdog_seconds

    path = cbc_path()
    if path is None:
        raise SolverError("CBC is not available (PuLP's bundled cbc binary cannot run here)")
    version = cbc_version()
    t0 = time.perf_counter()
    maximise = spec.sense == "max"
    sign = -1.0 if maximise else 1.0
    with tempfile.TemporaryDirectory(prefix="siteplan-cbc-") as tmp:
        tmp = Path(tmp)
        write_mps(spec, tmp / "model.mps")
        cmd = [path, str(tmp / "model.mps"), "-timeMode", "elapsed", "-randomCbcSeed", str(int(seed) + 1)]
        if time_limit is not None:
            cmd += ["-sec", repr(float(time_limit))]
        cmd += ["-ratioGap", repr(float(gap)), "-allowableGap", "1e-9"]
        if emphasis == "bound":
            cmd += ["-heuristicsOnOff", "off"]
        if threads is not None and threads > 1:
            cmd += ["-threads", str(int(threads))]
        if warm_start is not None and spec.integrality.any():
            _write_start(tmp / "start.sol", warm_start)
            cmd += ["-mips", str(tmp / "start.sol")]
        cmd += ["-solve", "-printingOptions", "all", "-solu", str(tmp / "out.sol"), "-quit"]
        wd = watchdog_seconds(time_limit)
        killed = False
        cancelled = False
        proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                                env={**os.environ, "OMP_NUM_THREADS": str(threads or 1)})
        while True:
            try:
                log = proc.communicate(timeout=0.05)[0] or ""
                break
            except subprocess.TimeoutExpired:
                overrun = wd is not None and time.perf_counter() - t0 > max(wd, 1.0)
                stop = cancel is not None and cancel.is_set()
                if overrun or stop:
                    proc.kill()
                    log = proc.communicate()[0] or ""
                    killed = True
                    cancelled = stop and not overrun
                    break
        sol = None if killed else _read_solution(tmp / "out.sol", spec.n_cols)
    seconds = time.perf_counter() - t0
    if verbose:
        print(log)
    result_line = re.findall(r"Result - (.*)", log)
    result_words = result_line[-1].strip() if result_line else ""
    header = sol[0] if sol else ""
    message = result_words or header or ("killed by watchdog" if killed else "no result")
    if killed:
        message = ("cancelled (another solver finished first)" if cancelled
                   else "killed by watchdog after overrunning the time limit")
    # bounds in CBC's (minimisation) sense
    lb_candidates = []
    for pat in (r"Lower bound:\s*([-+0-9.eE]+)", r"Continuous objective value is\s*([-+0-9.eE]+)"):
        v = _last_float(pat, log)
        if v is not None and math.isfinite(v) and abs(v) < 1e40:
            lb_candidates.append(v)
    lb = max(lb_candidates) if lb_candidates else -math.inf
    low = (result_words + " " + header).lower()
    x = None
    if killed:
        claimed = SolveStatus.TIME_LIMIT_NO_SOLUTION
    elif "infeasible" in low and "optimal" not in low:
        claimed = SolveStatus.INFEASIBLE
    elif "optimal" in low and "stopped" not in low:
        claimed = SolveStatus.OPTIMAL
        x = sol[1] if sol else None
        if spec.integrality.any() and gap <= 0:
            lb = max(lb, spec.objective_value(x) * sign) if x is not None else lb
    elif "stopped" in low or "time" in low:
        claimed = SolveStatus.FEASIBLE
        x = sol[1] if sol else None
        if re.search(r"No feasible solution found|Objective value:\s*1(\.0+)?e\+50", log):
            x = None
            claimed = SolveStatus.TIME_LIMIT_NO_SOLUTION
    elif "unbounded" in low:
        claimed = SolveStatus.ERROR
    else:
        claimed = SolveStatus.ERROR if sol is None else SolveStatus.FEASIBLE
        x = sol[1] if sol else None
    bound = sign * lb if math.isfinite(lb) else (math.inf if maximise else -math.inf)
    if claimed == SolveStatus.INFEASIBLE:
        bound = math.nan
    if claimed == SolveStatus.OPTIMAL and x is not None and gap <= 0:
        bound = spec.objective_value(x)
    return check_result(spec, x, claimed, bound, seconds, "cbc", version, message, gap)
