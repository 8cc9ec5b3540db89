"""A greedy feasible plan for the siting MILP, passed to the solver as a warm start.

Phase by phase: cover the points whose targets fall due (best ratio of newly served points
to cost, building a candidate site when the chosen slot needs it), then fill the phase's
minimum quotas, and within a quota band go on while it pays, by the *value* of each
choice: the discounted penalty of the traffic the station would newly carry (its
capacity, or the traffic still unserved among the villages it is a best server of,
whichever is smaller) minus its discounted cost (and the site's, for a new site). Values
only fall as stations are added, so a lazy priority queue finds the best one each time.
:func:`complete_start` then sets the continuous columns (traffic carried, early coverage)
to their best values for those stations by a small LP, so the solver gets a complete start.
The result is a full column vector for :class:`~siteplan.siting.model.SitingModel`, or
``None`` when the greedy runs into a quota or tenancy limit (the solver then starts from
scratch). The solver adapter re-checks every solution, so a warm start can only help the
search, never make a plan wrong.
"""

from __future__ import annotations

import dataclasses
import heapq

import numpy as np
import scipy.sparse as sp

from siteplan.optimize import solve_milp
from siteplan.siting.inputs import SitingInputs
from siteplan.siting.model import SitingModel, _village_servers, covered_now, slot_coverage

__all__ = ["greedy_start", "complete_start", "start_plan"]


class _Traffic:
    """Unserved traffic per (village, operator) and what each station slot could carry.

    Mirrors the model's capacity family: the traffic of village v for operator k may be
    carried by its ``server_candidates`` best sites for k, each station up to its
    capacity. Stations take what is left, in the order they are added.
    """

    def __init__(self, inp: SitingInputs, slot_site: np.ndarray, slot_op: np.ndarray):
        K = inp.n_ops
        self.active = inp.weights.unserved_cny_per_mbps > 0
        vtraffic = np.zeros((inp.n_villages, K))
        np.add.at(vtraffic, inp.point_village, inp.traffic)
        sv, sk, ss = _village_servers(inp, inp.weights.server_candidates) if self.active else (np.zeros(0, int),) * 3
        self.resid = (vtraffic.ravel()).tolist()
        vk = sv * K + sk
        key = ss * K + sk
        order = np.argsort(key, kind="stable")
        key_s = key[order]
        self._lists: dict[int, list[int]] = {}
        if key_s.size:
            cut = np.flatnonzero(np.diff(key_s)) + 1
            for grp in np.split(order, cut):
                self._lists[int(key[grp[0]])] = vk[grp].tolist()
        self.K = K
        self.cap = inp.capacity.tolist()
        self.slot_key = (slot_site * K + slot_op).tolist()
        self.slot_op = slot_op.tolist()
        # the existing stations carry what they can first
        for s, k in zip(*np.nonzero(inp.tenants)):
            self.take(int(s) * K + int(k), self.cap[int(k)])

    def gain(self, q: int) -> float:
        """Traffic [Mbit/s] slot q's station would newly carry."""
        if not self.active:
            return 0.0
        lst = self._lists.get(self.slot_key[q])
        if not lst:
            return 0.0
        r = self.resid
        return min(self.cap[self.slot_op[q]], sum(r[i] for i in lst))

    def take(self, key: int, amount: float) -> None:
        lst = self._lists.get(key)
        if not lst or not self.active:
            return
        r = self.resid
        for i in lst:
            if amount <= 0:
                break
            t = min(amount, r[i])
            r[i] -= t
            amount -= t

    def add(self, q: int) -> None:
        self.take(self.slot_key[q], self.cap[self.slot_op[q]])


def _lazy_best(items, value, usable, count: int, positive_only: bool, add) -> int:
    """Add up to ``count`` items of highest ``value`` (re-evaluated lazily: values only
    fall as items are added) that are ``usable`` at the time; returns how many were added."""
    heap = [(-value(q), q) for q in items]
    heapq.heapify(heap)
    done = 0
    while heap and done < count:
        neg, q = heapq.heappop(heap)
        if not usable(q):
            continue
        v = value(q)
        if heap and v < -heap[0][0] - 1e-9 * max(1.0, abs(v)):
            heapq.heappush(heap, (-v, q))
            continue
        if positive_only and v <= 0:
            break
        add(q)
        done += 1
    return done


def greedy_start(inp: SitingInputs, model: SitingModel, *, ahead: bool = False) -> np.ndarray | None:
    """A feasible start vector for ``model`` built greedily, or ``None``.

    ``ahead``: after the points due in a phase, cover the points of later targets too, as
    far as the phase's quota band allows (for scenarios whose later bands are too narrow
    to cover what falls due then; :func:`start_plan` tries this when the plain order fails).
    """
    P = inp.n_phases
    slot_site, slot_op = model.slot_site, model.slot_op
    Q = slot_site.size
    cand_pos = np.full(inp.n_sites, -1, dtype=np.int64)
    cand_pos[model.candidates] = np.arange(model.candidates.size)
    built = inp.existing.copy()
    site_phase = np.full(inp.n_sites, -1, dtype=np.int64)
    slot_phase = np.full(Q, -1, dtype=np.int64)
    tenants = inp.tenants.sum(axis=1).astype(np.int64)
    st_cost = inp.station_cost[slot_op] + inp.colocation_cost * inp.existing[slot_site]
    A = slot_coverage(inp, slot_site, slot_op, None).tocsc()           # points x slots
    served = covered_now(inp, None)
    exclude = np.zeros(inp.n_points, dtype=bool)
    for t in inp.targets:
        if t.exclude is not None:
            exclude |= t.exclude
    per_op_targets = any(t.operator is not None for t in inp.targets)
    if per_op_targets:
        return None          # the greedy covers with any operator only
    traffic = _Traffic(inp, slot_site, slot_op)
    pi = float(inp.weights.unserved_cny_per_mbps)
    disc = np.asarray(inp.discount, dtype=float)
    cand_slots = np.flatnonzero(~inp.existing[slot_site])
    for p in range(P):
        n_sites = 0
        n_st = 0
        lo_s, hi_s = inp.quotas_sites[p]
        lo_q, hi_q = inp.quotas_stations[p]
        need = np.zeros(inp.n_points, dtype=bool)
        for t in inp.targets:
            if t.phase <= p:
                need |= np.isin(inp.point_village, t.villages)
        need &= ~served & ~exclude
        later_need = np.zeros(inp.n_points, dtype=bool)
        if ahead:
            for t in inp.targets:
                if t.phase > p:
                    later_need |= np.isin(inp.point_village, t.villages)
            later_need &= ~served & ~exclude & ~need

        def add(q):
            nonlocal n_sites, n_st
            s = slot_site[q]
            if not built[s]:
                built[s] = True
                site_phase[s] = p
                n_sites += 1
            slot_phase[q] = p
            tenants[s] += 1
            n_st += 1
            traffic.add(q)

        def can_add(q):
            s = slot_site[q]
            if slot_phase[q] >= 0 or tenants[s] >= inp.max_tenants[s]:
                return False
            if hi_q >= 0 and n_st + 1 > hi_q:
                return False
            if not built[s] and hi_s >= 0 and n_sites + 1 > hi_s:
                return False
            return True

        def addable():
            ok = (slot_phase < 0) & (tenants[slot_site] < inp.max_tenants[slot_site])
            if hi_q >= 0 and n_st + 1 > hi_q:
                ok[:] = False
            if hi_s >= 0 and n_sites + 1 > hi_s:
                ok &= built[slot_site]
            return ok

        # 1. coverage targets due by this phase
        while need.any():
            gain = np.asarray(A[need].sum(axis=0)).ravel()
            cost = st_cost + np.where(built[slot_site], 0.0, inp.build_cost[slot_site])
            ok = addable() & (gain > 0)
            if not ok.any():
                return None
            score = np.where(ok, gain / np.maximum(cost, 1.0), -1.0)
            q = int(np.argmax(score))
            add(q)
            newly = np.zeros(inp.n_points, dtype=bool)
            newly[A[:, q].indices] = True
            served |= newly
            need &= ~newly
        # 1b. (ahead) points of later targets, while the phase's band has room
        while later_need.any():
            gain = np.asarray(A[later_need].sum(axis=0)).ravel()
            cost = st_cost + np.where(built[slot_site], 0.0, inp.build_cost[slot_site])
            ok = addable() & (gain > 0)
            if hi_q >= 0:
                # keep room in the station band for the new sites the phase's minimum still needs
                reserve = np.maximum(0, lo_s - n_sites - (~built[slot_site]).astype(np.int64))
                ok &= n_st + 1 + reserve <= hi_q
            if not ok.any():
                break
            q = int(np.argmax(np.where(ok, gain / np.maximum(cost, 1.0), -1.0)))
            add(q)
            newly = np.zeros(inp.n_points, dtype=bool)
            newly[A[:, q].indices] = True
            served |= newly
            later_need &= ~newly
        later = float(disc[p:].sum())          # a station serves from phase p on

        def site_value(q):
            return pi * traffic.gain(q) * later - (inp.build_cost[slot_site[q]] + st_cost[q]) * disc[p]

        def slot_value(q):
            return pi * traffic.gain(q) * later - st_cost[q] * disc[p]

        def new_site_ok(q):
            return not built[slot_site[q]] and can_add(q)

        def on_built_ok(q):
            return bool(built[slot_site[q]]) and can_add(q)

        def add_serving(q):
            add(q)
            served[A[:, q].indices] = True

        # 2. minimum site quota, then 3. minimum station quota, by value
        if n_sites < lo_s:
            _lazy_best(cand_slots.tolist(), site_value, new_site_ok, lo_s - n_sites, False, add_serving)
            if n_sites < lo_s:
                return None
        if n_st < lo_q:
            _lazy_best(np.flatnonzero(built[slot_site]).tolist(), slot_value, on_built_ok, lo_q - n_st, False,
                       add_serving)
            if n_st < lo_q:
                return None
        # 4. within the bands: new sites, then stations, while their value is positive
        room_s = (hi_s - n_sites) if hi_s >= 0 else len(cand_slots)
        if room_s > 0 and (hi_q < 0 or n_st < hi_q):
            _lazy_best(cand_slots.tolist(), site_value, new_site_ok, room_s, True, add_serving)
        room_q = (hi_q - n_st) if hi_q >= 0 else Q
        if room_q > 0:
            _lazy_best(np.flatnonzero(built[slot_site]).tolist(), slot_value, on_built_ok, room_q, True,
                       add_serving)
        if (hi_s >= 0 and n_sites > hi_s) or (hi_q >= 0 and n_st > hi_q):
            return None
        if np.isfinite(inp.budgets[p]):
            spend = inp.build_cost[site_phase == p].sum() + st_cost[slot_phase == p].sum()
            if spend > inp.budgets[p]:
                return None
    x = np.zeros(model.spec.n_cols)
    bblk = model.spec.block("b")
    xblk = model.spec.block("x")
    c = np.flatnonzero(site_phase[model.candidates] >= 0)
    x[bblk.start + c * P + site_phase[model.candidates][c]] = 1.0
    q = np.flatnonzero(slot_phase >= 0)
    x[xblk.start + q * P + slot_phase[q]] = 1.0
    # partial-share targets: y = served share of each point by its phase
    for ti, t in enumerate(inp.targets):
        try:
            y = model.spec.block(f"y_{ti}")
        except Exception:  # noqa: BLE001 - the target has no y columns (share 1)
            continue
        ex = t.exclude if t.exclude is not None else np.zeros(inp.n_points, dtype=bool)
        pts = np.flatnonzero(np.isin(inp.point_village, t.villages) & ~covered_now(inp, None) & ~ex)
        have = np.zeros(Q, dtype=bool)
        have[(slot_phase >= 0) & (slot_phase <= t.phase)] = True
        cov = np.asarray(sp.csr_matrix(A)[pts] @ have.astype(float) > 0).ravel()
        x[y.start:y.stop] = cov.astype(float)
    return x


def complete_start(model: SitingModel, start: np.ndarray, *, solver: str = "highs", time_limit: float | None = None,
                   threads: int | None = None) -> np.ndarray:
    """``start`` with its continuous columns (traffic carried, shares served, early
    coverage) set to their best values for its integer columns.

    The integer columns are fixed and the remaining LP is solved; ``start`` itself is
    returned when that LP finds no solution in time (it cannot be infeasible when
    ``start`` is feasible: the continuous columns' zero values are).
    """
    spec = model.spec
    ints = spec.integrality
    lo = spec.col_lower.copy()
    hi = spec.col_upper.copy()
    lo[ints] = np.round(start[ints])
    hi[ints] = lo[ints]
    fixed = dataclasses.replace(spec, col_lower=lo, col_upper=hi, integrality=np.zeros(spec.n_cols, dtype=bool))
    res = solve_milp(fixed, solver=solver, time_limit=time_limit, threads=threads)
    if not res.status.has_solution:
        return start
    out = np.asarray(res.x, dtype=np.float64).copy()
    out[ints] = lo[ints]
    return out


def start_plan(inp: SitingInputs, model: SitingModel) -> np.ndarray | None:
    """The greedy start (:func:`greedy_start`), retried covering later targets ahead of
    time when the plain order runs into a quota band; ``None`` when both fail."""
    x = greedy_start(inp, model)
    if x is None:
        x = greedy_start(inp, model, ahead=True)
    return x
