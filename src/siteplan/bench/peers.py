"""Peer solvers for the benchmark suite: the same :class:`~siteplan.optimize.MilpSpec`
handed to an open MILP solver *alone*, outside siteplan's adapter.

=================  ===========================================================================
name               peer
=================  ===========================================================================
"siteplan"         siteplan's own path: :func:`siteplan.optimize.solve_milp` (highspy adapter,
                   status normalised, solution re-checked, watchdog)
"highs-scipy"      ``scipy.optimize.milp`` (the HiGHS bundled with scipy), the spec's CSR arrays
                   passed as they are
"cbc-pulp"         CBC through PuLP (``PULP_CBC_CMD``): the model rebuilt as PuLP objects, row by
                   row, as a PuLP user would
=================  ===========================================================================

Every peer returns the same dict: ``objective`` (recomputed from the returned solution,
never the solver's own figure), ``bound`` (nan when the peer does not report one),
``gap``, ``status`` (``optimal`` — within the requested relative gap — / ``feasible`` /
``no_solution`` / ``infeasible`` /
``error``), ``feasible`` (the returned solution satisfies the model within 1e-6),
``seconds`` (wall, including the model build for PuLP) and ``build_seconds``. The two
peers outside siteplan run in a forked child under a wall-clock watchdog (limit x 1.5 +
30 s); a peer that overruns it is killed and reported as ``status: "killed"``.
"""

from __future__ import annotations

import math
import os
import signal
import time
import warnings
from typing import Callable

import numpy as np

from siteplan.optimize import MilpSpec, solve_milp
from siteplan.optimize.milp import relative_gap

__all__ = ["PEERS", "run_peer", "solution_check"]

FEAS_TOL = 1e-6


def solution_check(spec: MilpSpec, x) -> tuple[bool, float]:
    """(feasible, objective) of ``x`` against ``spec``, rounding integer columns first."""
    if x is None:
        return False, math.nan
    x = np.asarray(x, dtype=np.float64).copy()
    if x.shape != (spec.n_cols,) or not np.all(np.isfinite(x)):
        return False, math.nan
    x[spec.integrality] = np.round(x[spec.integrality])
    viol = spec.max_violation(x)
    return bool(viol <= FEAS_TOL), float(spec.c @ x + spec.offset)


def _package(spec, x, bound, claimed_optimal, seconds, build_seconds, solver, message, infeasible=False,
             gap_tol=0.0):
    feasible, obj = solution_check(spec, x)
    if not feasible:
        status = "infeasible" if infeasible and x is None else ("no_solution" if x is None else "error")
        obj = math.nan
    else:
        status = "optimal" if claimed_optimal else "feasible"
    gap = relative_gap(obj, bound) if feasible and math.isfinite(bound) else math.nan
    if status == "optimal" and math.isfinite(gap) and gap > max(gap_tol, 1e-9) + 1e-9:
        status = "feasible"          # a claim of optimality the bound does not support
    return {"objective": obj, "bound": float(bound), "gap": gap, "status": status, "feasible": feasible,
            "seconds": seconds, "build_seconds": build_seconds, "solver": solver, "message": message}


def _siteplan(spec: MilpSpec, time_limit: float | None, gap: float) -> dict:
    t0 = time.perf_counter()
    r = solve_milp(spec, "highs", time_limit=time_limit, gap=gap)
    secs = time.perf_counter() - t0
    out = _package(spec, r.x, r.bound, r.status.value == "optimal", secs, 0.0,
                   f"siteplan adapter, {r.solver} {r.solver_version}", r.message,
                   infeasible=r.status.value == "infeasible", gap_tol=gap)
    out["adapter_status"] = r.status.value
    return out


def _highs_scipy(spec: MilpSpec, time_limit: float | None, gap: float) -> dict:
    import scipy
    import scipy.sparse as sp
    from scipy.optimize import Bounds, LinearConstraint, milp

    t0 = time.perf_counter()
    sign = -1.0 if spec.sense == "max" else 1.0
    A = sp.csr_matrix((spec.data, spec.indices, spec.indptr), shape=(spec.n_rows, spec.n_cols))
    cons = [LinearConstraint(A, spec.row_lower, spec.row_upper)] if spec.n_rows else []
    opts = {"mip_rel_gap": gap, "disp": False}
    if time_limit is not None:
        opts["time_limit"] = float(time_limit)
    build = time.perf_counter() - t0
    res = milp(sign * spec.c, integrality=spec.integrality.astype(np.int64),
               bounds=Bounds(spec.col_lower, spec.col_upper), constraints=cons, options=opts)
    secs = time.perf_counter() - t0
    bound = getattr(res, "mip_dual_bound", None)
    bound = math.nan if bound is None else sign * float(bound) + spec.offset
    return _package(spec, res.x, bound, res.status == 0, secs, build,
                    f"scipy.optimize.milp (scipy {scipy.__version__})",
                    str(res.message), infeasible=res.status == 2, gap_tol=gap)


def _cbc_pulp(spec: MilpSpec, time_limit: float | None, gap: float) -> dict:
    import pulp

    t0 = time.perf_counter()
    sense = pulp.LpMaximize if spec.sense == "max" else pulp.LpMinimize
    prob = pulp.LpProblem("peer", sense)
    lo = [None if not math.isfinite(v) else float(v) for v in spec.col_lower]
    up = [None if not math.isfinite(v) else float(v) for v in spec.col_upper]
    xs = [prob.add_variable(f"x{j}", lowBound=lo[j], upBound=up[j],
                            cat=pulp.LpInteger if spec.integrality[j] else pulp.LpContinuous)
          for j in range(spec.n_cols)]
    prob += pulp.LpAffineExpression([(xs[j], float(spec.c[j])) for j in np.nonzero(spec.c)[0]])
    for i in range(spec.n_rows):
        a, b = spec.indptr[i], spec.indptr[i + 1]
        expr = pulp.LpAffineExpression([(xs[j], float(v)) for j, v in zip(spec.indices[a:b], spec.data[a:b])])
        rl, ru = float(spec.row_lower[i]), float(spec.row_upper[i])
        if rl == ru:
            prob += expr == rl
        else:
            if math.isfinite(rl):
                prob += expr >= rl
            if math.isfinite(ru):
                prob += expr <= ru
    build = time.perf_counter() - t0
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        solver = pulp.PULP_CBC_CMD(msg=False, timeLimit=time_limit, gapRel=gap)
        prob.solve(solver)
    secs = time.perf_counter() - t0
    vals = [v.varValue for v in xs]
    x = None if any(v is None for v in vals) else np.array(vals, dtype=np.float64)
    if prob.sol_status not in (pulp.LpSolutionOptimal, pulp.LpSolutionIntegerFeasible):
        x = None        # "Not Solved": PuLP still fills in values (the LP relaxation's), not a solution
    # PuLP's status alone is not trusted (see ecosystem.md): sol_status 1 = optimal solution
    claimed_optimal = prob.sol_status == pulp.LpSolutionOptimal
    return _package(spec, x, math.nan, claimed_optimal, secs, build, f"CBC via PuLP {pulp.__version__}",
                    f"status={pulp.LpStatus[prob.status]} sol_status={prob.sol_status}",
                    infeasible=prob.status == pulp.LpStatusInfeasible, gap_tol=gap)


#: A peer running longer than its limit x this factor + WATCHDOG_GRACE_S is killed.
WATCHDOG_FACTOR = 1.5
WATCHDOG_GRACE_S = 30.0


def _child_main(fn, spec, time_limit, gap, conn):
    os.setpgrp()                      # own process group: the watchdog kills the solver's children too
    try:
        conn.send(fn(spec, time_limit, gap))
    except BaseException as exc:  # noqa: BLE001 - reported to the parent as an error result
        conn.send({"error": f"{type(exc).__name__}: {exc}"})
    finally:
        conn.close()


def _watched(fn):
    """Run ``fn`` in a forked child with a wall-clock watchdog (CBC through PuLP can overrun
    its limit by minutes; see ecosystem.md); an overrun is a result, ``status: "killed"``."""

    def run(spec, time_limit, gap):
        import multiprocessing as mp

        if time_limit is None or "fork" not in mp.get_all_start_methods():
            return fn(spec, time_limit, gap)
        ctx = mp.get_context("fork")
        parent, child = ctx.Pipe(duplex=False)
        t0 = time.perf_counter()
        p = ctx.Process(target=_child_main, args=(fn, spec, time_limit, gap, child), daemon=True)
        p.start()
        child.close()
        budget = time_limit * WATCHDOG_FACTOR + WATCHDOG_GRACE_S
        out = parent.recv() if parent.poll(budget) else None
        if out is None:
            try:
                os.killpg(p.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            p.join(5)
            return {"objective": math.nan, "bound": math.nan, "gap": math.nan, "status": "killed",
                    "feasible": False, "seconds": time.perf_counter() - t0, "build_seconds": math.nan,
                    "solver": fn.__name__.strip("_"),
                    "message": f"no answer within {budget:.0f} s (limit {time_limit:g} s): killed by the watchdog"}
        p.join(5)
        if "error" in out:
            raise RuntimeError(out["error"])
        return out

    return run


#: peer name -> function (spec, time_limit [s], relative gap) -> result dict
PEERS: dict[str, Callable[[MilpSpec, float | None, float], dict]] = {
    "siteplan": _siteplan,                    # the adapter has its own watchdog
    "highs-scipy": _watched(_highs_scipy),
    "cbc-pulp": _watched(_cbc_pulp),
}


def run_peer(name: str, spec: MilpSpec, time_limit: float | None, gap: float = 0.01) -> dict:
    """Solve ``spec`` with peer ``name`` (see :data:`PEERS`) and return its result dict."""
    if name not in PEERS:
        raise ValueError(f"unknown peer {name!r}; known: {', '.join(PEERS)}")
    out = PEERS[name](spec, time_limit, gap)
    out.update(peer=name, time_limit_s=time_limit, gap_limit=gap)
    return out
