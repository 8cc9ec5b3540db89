"""A Lagrangian lower bound of the siting MILP that does not need the root LP.

At four times Shantou's size (about 310,000 columns and 1.8 million non-zeros) HiGHS does
not finish the root LP of the siting MILP in five minutes, so its proven bound is useless.
This module relaxes the rows that couple sites with each other (quotas, budgets,
coverage targets, the poor-village reward links and the capacity rows) with multipliers
``u``; what is left falls apart into

* one small integer problem per site (families ``site_once``, ``slot_once``,
  ``tenancy``, ``needs_site_p``, ``site_hosts_p``): build the site in phase ``p_b`` or not
  at all, fill each free slot in one phase not earlier than ``p_b``, at most the free
  tenancy, at least one station in the build phase; solved exactly by enumeration;
* one continuous knapsack per ``traffic_p`` row (the traffic of a village and operator
  split over its best servers): fill the cheapest columns first;
* every other column alone between its bounds.

For any multipliers of the right signs, ``L(u) = offset + sum_i u_i * side_i(u)
+ min_x (c - A_R^T u)^T x`` over that decomposed set is a lower bound of the MILP (weak
duality); the subgradient method (Polyak steps towards the incumbent's objective, step
factor halved after 25 iterations without progress) searches for a good ``u``. The bound is valid
whatever ``u`` the search ends with; it only gets tighter with more iterations.
The relaxation keeps the integrality of the site problems, so at its best the bound is at
least the LP relaxation's.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

import numba
import numpy as np
import scipy.sparse as sp

from siteplan.config import NJIT_OPTIONS
from siteplan.exceptions import ModelError
from siteplan.siting.model import SitingModel

__all__ = ["LagrangianBound", "SiteStructure", "lagrangian_bound", "lagrangian_value", "site_structure",
           "KEPT_FAMILIES"]

#: row families kept in the Lagrangian subproblem (all others are relaxed)
KEPT_FAMILIES = ("site_once", "slot_once", "tenancy", "needs_site", "site_hosts", "traffic")


@dataclass(frozen=True, eq=False)
class SiteStructure:
    """The decomposed subproblem of a :class:`SitingModel`, as plain arrays.

    site_ptr, site_slots : CSR sites -> slot indices q (column ``x_start + q * P + p``).
    site_cand : candidate index c of each site (column ``b_start + c * P + p``), -1 when
        the site exists already.
    site_free : free tenancy of each site [stations].
    knap_ptr, knap_idx, knap_cap : the kept ``traffic`` rows (CSR over column indices) and
        their right-hand sides [Mbit/s].
    free_cols : columns in no kept row, other than b and x (alone between their bounds).
    relaxed : CSR matrix of the relaxed rows; rel_lo, rel_up their sides.
    """

    P: int
    b_start: int
    x_start: int
    site_ptr: np.ndarray
    site_slots: np.ndarray
    site_cand: np.ndarray
    site_free: np.ndarray
    knap_ptr: np.ndarray
    knap_idx: np.ndarray
    knap_cap: np.ndarray
    free_cols: np.ndarray
    relaxed: sp.csr_matrix
    relaxed_T: sp.csr_matrix
    rel_lo: np.ndarray
    rel_up: np.ndarray


def _family(name: str) -> str:
    head, _, tail = name.rpartition("_")
    return head if tail.isdigit() else name


def site_structure(model: SitingModel, free_tenancy: np.ndarray) -> SiteStructure:
    """Split ``model`` into the kept (decomposed) and relaxed rows.

    ``free_tenancy`` is, per site, the number of stations that may still be added
    (``max_tenants`` minus current tenants).
    """
    spec = model.spec
    P = model.n_phases
    n_sites = free_tenancy.shape[0]
    kept = np.zeros(spec.n_rows, dtype=bool)
    knap_rows = []
    for rb in spec.row_blocks:
        fam = _family(rb.name)
        if fam in KEPT_FAMILIES:
            kept[rb.start:rb.stop] = True
            if fam == "traffic":
                knap_rows.append(np.arange(rb.start, rb.stop))
    if any(cb.name.startswith("slack") for cb in spec.col_blocks):
        raise ModelError("the Lagrangian bound is defined for the siting model, not its elastic relaxation")
    A = sp.csr_matrix((spec.data, spec.indices, spec.indptr), shape=(spec.n_rows, spec.n_cols))
    b = spec.block("b")
    x = spec.block("x")
    knap = np.concatenate(knap_rows) if knap_rows else np.zeros(0, dtype=np.int64)
    K = A[knap]
    if K.nnz and (K.data != 1.0).any():
        raise ModelError("traffic rows must have unit coefficients")
    in_knap = np.zeros(spec.n_cols, dtype=np.int64)
    np.add.at(in_knap, K.indices, 1)
    if (in_knap > 1).any():
        raise ModelError("a column appears in two traffic rows")
    if np.isfinite(spec.row_lower[knap]).any() and (spec.row_lower[knap] > 0).any():
        raise ModelError("traffic rows must be upper-bounded only")
    if K.nnz and (spec.col_lower[K.indices] != 0).any():
        raise ModelError("traffic columns must have lower bound 0")
    bx = np.zeros(spec.n_cols, dtype=bool)
    bx[b.start:b.stop] = True
    bx[x.start:x.stop] = True
    free_cols = np.flatnonzero(~bx & (in_knap == 0))
    order = np.argsort(model.slot_site, kind="stable")
    counts = np.bincount(model.slot_site, minlength=n_sites)
    site_ptr = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)
    site_cand = np.full(n_sites, -1, dtype=np.int64)
    site_cand[model.candidates] = np.arange(model.candidates.size)
    R = A[~kept].tocsr()
    rows = np.flatnonzero(~kept)
    return SiteStructure(
        P=P, b_start=b.start, x_start=x.start, site_ptr=site_ptr, site_slots=order.astype(np.int64),
        site_cand=site_cand, site_free=np.asarray(free_tenancy, dtype=np.int64),
        knap_ptr=K.indptr.astype(np.int64), knap_idx=K.indices.astype(np.int64),
        knap_cap=np.asarray(spec.row_upper[knap], dtype=np.float64), free_cols=free_cols.astype(np.int64),
        relaxed=R, relaxed_T=R.T.tocsr(), rel_lo=spec.row_lower[rows].copy(), rel_up=spec.row_upper[rows].copy())


@numba.njit(**NJIT_OPTIONS)
def _best_subset_kernel(vals, exclude, limit):
    """Sum of the ``limit`` most negative entries of ``vals`` (skipping index ``exclude``)
    and a 0/1 mask of them."""
    n = vals.shape[0]
    chosen = np.zeros(n, dtype=np.uint8)
    total = 0.0
    for _ in range(limit):
        best = 0.0
        arg = -1
        for i in range(n):
            if i != exclude and chosen[i] == 0 and vals[i] < best:
                best = vals[i]
                arg = i
        if arg < 0:
            break
        chosen[arg] = 1
        total += best
    return total, chosen


@numba.njit(**NJIT_OPTIONS)
def _cheapest_from_phase_kernel(r, site_slots, lo, n, x_start, P, pb, u, up):
    """For each of the ``n`` station slots of a site (``site_slots[lo:lo + n]``): the least
    reduced cost of its x column over phases ``pb..P-1`` into ``u`` and that phase into ``up``
    (first phase on ties)."""
    for i in range(n):
        q = site_slots[lo + i]
        bv = r[x_start + q * P + pb]
        ba = pb
        for p in range(pb + 1, P):
            v = r[x_start + q * P + p]
            if v < bv:
                bv = v
                ba = p
        u[i] = bv
        up[i] = ba


@numba.njit(**NJIT_OPTIONS)
def _sites_kernel(r, site_ptr, site_slots, site_cand, site_free, b_start, x_start, P, xs):
    """Exact minimum of the per-site problems under reduced costs ``r``; writes the chosen
    b and x columns (1.0) into ``xs`` (zeroed by the caller) and returns the total."""
    total = 0.0
    n_sites = site_ptr.shape[0] - 1
    for s in range(n_sites):
        lo = site_ptr[s]
        hi = site_ptr[s + 1]
        n = hi - lo
        M = site_free[s]
        c = site_cand[s]
        u = np.empty(n)
        up = np.empty(n, dtype=np.int64)
        if c < 0:
            _cheapest_from_phase_kernel(r, site_slots, lo, n, x_start, P, 0, u, up)
            val, chosen = _best_subset_kernel(u, -1, M)
            total += val
            for i in range(n):
                if chosen[i]:
                    xs[x_start + site_slots[lo + i] * P + up[i]] = 1.0
            continue
        best_val = 0.0        # not built, no station
        best_pb = -1
        best_j = -1
        if M >= 1 and n >= 1:
            for pb in range(P):
                _cheapest_from_phase_kernel(r, site_slots, lo, n, x_start, P, pb, u, up)
                base = r[b_start + c * P + pb]
                for j in range(n):
                    qj = site_slots[lo + j]
                    val, chosen = _best_subset_kernel(u, j, M - 1)
                    val += base + r[x_start + qj * P + pb]
                    if val < best_val:
                        best_val = val
                        best_pb = pb
                        best_j = j
        total += best_val
        if best_pb >= 0:
            pb = best_pb
            _cheapest_from_phase_kernel(r, site_slots, lo, n, x_start, P, pb, u, up)
            val, chosen = _best_subset_kernel(u, best_j, M - 1)
            xs[b_start + c * P + pb] = 1.0
            xs[x_start + site_slots[lo + best_j] * P + pb] = 1.0
            for i in range(n):
                if chosen[i]:
                    xs[x_start + site_slots[lo + i] * P + up[i]] = 1.0
    return total


@numba.njit(**NJIT_OPTIONS)
def _knapsack_kernel(r, knap_ptr, knap_idx, knap_cap, col_up, xs):
    """Minimum of each continuous knapsack ``sum_j a_j <= cap, 0 <= a_j <= up_j`` under
    reduced costs ``r`` (cheapest negative columns first); writes the values into ``xs``."""
    total = 0.0
    for i in range(knap_ptr.shape[0] - 1):
        lo = knap_ptr[i]
        hi = knap_ptr[i + 1]
        left = knap_cap[i]
        used = np.zeros(hi - lo, dtype=np.uint8)
        while left > 0.0:
            best = 0.0
            arg = -1
            for t in range(lo, hi):
                if used[t - lo] == 0 and r[knap_idx[t]] < best:
                    best = r[knap_idx[t]]
                    arg = t
            if arg < 0:
                break
            used[arg - lo] = 1
            amount = min(left, col_up[knap_idx[arg]])
            xs[knap_idx[arg]] = amount
            total += amount * best
            left -= amount
    return total


@dataclass(frozen=True)
class LagrangianBound:
    """Best bound found [objective units, CNY], its multipliers, and the search's effort."""

    bound: float
    u: np.ndarray
    iterations: int
    seconds: float


def _side_values(u: np.ndarray, st: SiteStructure) -> float:
    lo = np.where(np.isfinite(st.rel_lo), st.rel_lo, 0.0)
    upv = np.where(np.isfinite(st.rel_up), st.rel_up, 0.0)
    return float(np.where(u > 0, u * lo, u * upv).sum())


def _project(u: np.ndarray, st: SiteStructure) -> np.ndarray:
    """Multipliers of the right sign: >= 0 on rows without an upper side, <= 0 on rows
    without a lower side."""
    u = np.where(~np.isfinite(st.rel_up), np.maximum(u, 0.0), u)
    return np.where(~np.isfinite(st.rel_lo), np.minimum(u, 0.0), u)


def lagrangian_value(model: SitingModel, st: SiteStructure, u: np.ndarray) -> tuple[float, np.ndarray]:
    """``L(u)`` and the subproblem's minimiser (a full column vector).

    ``u`` is projected onto the right signs first, so any vector gives a valid bound.
    """
    spec = model.spec
    u = _project(np.asarray(u, dtype=np.float64), st)
    r = spec.c - st.relaxed_T @ u
    xs = np.zeros(spec.n_cols)
    val = _sites_kernel(r, st.site_ptr, st.site_slots, st.site_cand, st.site_free, st.b_start, st.x_start, st.P, xs)
    val += _knapsack_kernel(r, st.knap_ptr, st.knap_idx, st.knap_cap, spec.col_upper, xs)
    fc = st.free_cols
    rf = r[fc]
    pick = np.where(rf < 0, spec.col_upper[fc], spec.col_lower[fc])
    xs[fc] = pick
    val += float(np.dot(rf, pick))
    return float(spec.offset + _side_values(u, st) + val), xs


def lagrangian_bound(model: SitingModel, free_tenancy: np.ndarray, *, upper: float, u0: np.ndarray | None = None,
                     time_limit: float = 30.0, max_iterations: int = 5000, target_gap: float = 1e-3,
                     structure: SiteStructure | None = None) -> LagrangianBound:
    """Subgradient search for multipliers with a high Lagrangian bound.

    Parameters
    ----------
    model : the siting MILP (not the elastic one).
    free_tenancy : per site, stations that may still be added [-].
    upper : objective of a known feasible plan [CNY] (the Polyak step's target).
    u0 : starting multipliers (one per relaxed row), zero when None.
    time_limit : wall-clock budget of the search [s].
    max_iterations : iteration cap.
    target_gap : stop once ``(upper - bound) / |upper|`` is at most this [-].
    """
    t0 = time.perf_counter()
    st = structure if structure is not None else site_structure(model, free_tenancy)
    m = st.relaxed.shape[0]
    u = np.zeros(m) if u0 is None else _project(np.asarray(u0, dtype=np.float64).copy(), st)
    best = -math.inf
    best_u = u.copy()
    alpha = 2.0
    stall = 0
    it = 0
    lo_f = np.isfinite(st.rel_lo)
    up_f = np.isfinite(st.rel_up)
    direction = np.zeros(m)
    while it < max_iterations and time.perf_counter() - t0 < time_limit:
        it += 1
        val, xs = lagrangian_value(model, st, u)
        if val > best + 1e-9 * max(1.0, abs(best) if math.isfinite(best) else 1.0):
            if math.isfinite(best) and val > best + 1e-6 * abs(best):
                stall = 0
            best = val
            best_u = u.copy()
        else:
            stall += 1
        if abs(upper - best) <= target_gap * max(abs(upper), 1e-10):
            break
        if stall >= 25:
            alpha *= 0.5
            stall = 0
            u = best_u.copy()
            if alpha < 1e-5:
                break
            continue
        ax = st.relaxed @ xs
        # subgradient of L at u: side(u) - A_R x
        g = np.where(u > 0, np.where(lo_f, st.rel_lo, 0.0), np.where(u < 0, np.where(up_f, st.rel_up, 0.0), 0.0)) - ax
        # at u = 0 the row's violated side decides
        zero = u == 0
        g[zero] = np.where(lo_f[zero] & (ax[zero] < st.rel_lo[zero]), st.rel_lo[zero] - ax[zero],
                           np.where(up_f[zero] & (ax[zero] > st.rel_up[zero]), st.rel_up[zero] - ax[zero], 0.0))
        direction = g + 0.3 * direction
        nrm = float(direction @ direction)
        if nrm <= 0:
            best = max(best, val)
            break
        step = alpha * max(upper - val, 1e-9 * abs(upper)) / nrm
        u = _project(u + step * direction, st)
    return LagrangianBound(bound=float(best), u=best_u, iterations=it, seconds=time.perf_counter() - t0)
