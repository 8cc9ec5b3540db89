"""Neighbourhood search on a feasible siting plan: re-optimise one area at a time.

The sites are cut into ``k x k`` areas of equal site counts (by x, then y within each
x strip). For one area the MILP keeps every column free that concerns it (build and
station columns of its sites, the traffic of every village one of its sites can serve,
the early-coverage and share columns) and fixes all other build and station columns,
and the traffic of villages it cannot reach, at the incumbent's values. Because the
quota rows still hold, the area keeps its number of new sites and stations per phase but
may move them to better places and phases. The fixed columns are taken out of the model
(their contribution moves into the row sides and the objective's offset; rows left
without a free column are dropped, the incumbent satisfies them), so each area is a
small MILP. Every area solution, put back into the incumbent, is a feasible plan of the
full model (re-checked), accepted when it is cheaper.
"""

from __future__ import annotations

import time

import numpy as np
import scipy.sparse as sp

from siteplan.optimize import solve_milp
from siteplan.optimize.milp import MilpSpec
from siteplan.siting.inputs import SitingInputs
from siteplan.siting.model import SitingModel

__all__ = ["area_search", "site_areas"]


def site_areas(xy: np.ndarray, k: int) -> np.ndarray:
    """Area index (0 .. k*k-1) of each site: k strips of equal counts by x, each cut into
    k cells of equal counts by y."""
    n = xy.shape[0]
    area = np.zeros(n, dtype=np.int64)
    ox = np.argsort(xy[:, 0], kind="stable")
    for i, strip in enumerate(np.array_split(ox, k)):
        oy = strip[np.argsort(xy[strip, 1], kind="stable")]
        for j, cell in enumerate(np.array_split(oy, k)):
            area[cell] = i * k + j
    return area


def _restrict(spec: MilpSpec, A: sp.csc_matrix, free: np.ndarray, x: np.ndarray) -> tuple[MilpSpec, np.ndarray]:
    """The model over the ``free`` columns with all others fixed at ``x``; returns it and
    the kept free column indices."""
    cols = np.flatnonzero(free)
    part = A[:, cols]
    fixed_part = A @ x - part @ x[cols]          # the fixed columns' share of each row
    sub = part.tocsr()
    rows = np.flatnonzero(np.diff(sub.indptr) > 0)
    sub = sub[rows]
    sub.sort_indices()
    lo = spec.row_lower[rows] - fixed_part[rows]
    hi = spec.row_upper[rows] - fixed_part[rows]
    lo = np.minimum(lo, hi)
    offset = spec.offset + float(spec.c @ x - spec.c[cols] @ x[cols])
    return MilpSpec(c=spec.c[cols], col_lower=spec.col_lower[cols], col_upper=spec.col_upper[cols],
                    integrality=spec.integrality[cols], indptr=sub.indptr.astype(np.int64),
                    indices=sub.indices.astype(np.int64), data=sub.data.astype(np.float64), row_lower=lo,
                    row_upper=hi, sense=spec.sense, offset=offset), cols


def area_search(inp: SitingInputs, model: SitingModel, start: np.ndarray, *, time_limit: float, k: int = 4,
                solver: str = "highs", threads: int | None = None, seed: int = 0) -> tuple[np.ndarray, int]:
    """Improve the feasible vector ``start`` area by area within ``time_limit`` [s].

    Returns the best vector found and the number of areas that improved it.
    """
    t0 = time.perf_counter()
    spec = model.spec
    P = model.n_phases
    if inp.site_xy is None or k < 1:
        return start, 0
    area = site_areas(np.asarray(inp.site_xy, dtype=float), k)
    b = spec.block("b")
    xb = spec.block("x")
    try:
        ablk = spec.block("a")
    except Exception:  # noqa: BLE001 - no capacity model
        ablk = None
    a_site = a_vil = None
    if ablk is not None:
        # the a columns in model order: (village, operator, server site) triples, phase-fastest
        from siteplan.siting.model import _village_servers

        sv, sk, ss = _village_servers(inp, inp.weights.server_candidates)
        a_site, a_vil = ss, sv * inp.n_ops + sk
    A = sp.csr_matrix((spec.data, spec.indices, spec.indptr), shape=(spec.n_rows, spec.n_cols)).tocsc()
    best = np.asarray(start, dtype=np.float64).copy()
    best_obj = spec.objective_value(best)
    improved = 0
    order = np.argsort(-np.bincount(area, minlength=k * k), kind="stable")
    for i, w in enumerate(order):
        left = time_limit - (time.perf_counter() - t0)
        if left < 2.0:
            break
        # an equal share of what is left, so that one hard area cannot starve the rest
        share = max(left / (len(order) - i), min(left, 5.0))
        fix = np.zeros(spec.n_cols, dtype=bool)
        out_c = area[model.candidates] != w
        fix[(b.start + np.flatnonzero(out_c)[:, None] * P + np.arange(P)).ravel()] = True
        out_q = area[model.slot_site] != w
        fix[(xb.start + np.flatnonzero(out_q)[:, None] * P + np.arange(P)).ravel()] = True
        if ablk is not None:
            reach = np.zeros(int(a_vil.max()) + 1 if a_vil.size else 0, dtype=bool)
            reach[a_vil[area[a_site] == w]] = True
            out_a = ~reach[a_vil]
            fix[(ablk.start + np.flatnonzero(out_a)[:, None] * P + np.arange(P)).ravel()] = True
        sub, cols = _restrict(spec, A, ~fix, best)
        if cols.size == 0:
            continue
        res = solve_milp(sub, solver=solver, time_limit=share, gap=1e-4, threads=threads, seed=seed,
                         warm_start=best[cols])
        if res.status.has_solution and res.objective < best_obj - 1e-9 * abs(best_obj):
            x = best.copy()
            x[cols] = res.x
            if spec.max_violation(x) <= 1e-6 and spec.objective_value(x) < best_obj:
                best, best_obj = x, spec.objective_value(x)
                improved += 1
    return best, improved
