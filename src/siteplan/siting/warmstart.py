"""A greedy feasible plan for the siting MILP, passed to the solver as a warm start.

Phase by phase: cover the points whose targets fall due (best ratio of newly served points
to cost, building a candidate site when the chosen slot needs it), then fill the phase's
minimum quotas with the cheapest stations and sites. The result is a full column vector
for :class:`~siteplan.siting.model.SitingModel`, or ``None`` when the greedy runs into a
quota or tenancy limit (the solver then starts from scratch). The solver adapter re-checks
every solution, so a warm start can only help the search, never make a plan wrong.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from siteplan.siting.inputs import SitingInputs
from siteplan.siting.model import SitingModel, covered_now, slot_coverage

__all__ = ["greedy_start"]


def greedy_start(inp: SitingInputs, model: SitingModel) -> np.ndarray | None:
    """A feasible start vector for ``model`` built greedily, or ``None``."""
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
            newly = A[:, q].toarray().ravel() > 0
            served |= newly
            need &= ~newly
        # 2. minimum site quota: cheapest candidates, each with its cheapest station
        if n_sites < lo_s:
            for q in np.argsort(inp.build_cost[slot_site] + st_cost, kind="stable"):
                if n_sites >= lo_s:
                    break
                if not built[slot_site[q]] and can_add(q):
                    add(q)
                    served |= A[:, q].toarray().ravel() > 0
            if n_sites < lo_s:
                return None
        # 3. minimum station quota: cheapest slots on built sites
        if n_st < lo_q:
            order = np.argsort(st_cost, kind="stable")
            for q in order:
                if n_st >= lo_q:
                    break
                if built[slot_site[q]] and can_add(q):
                    add(q)
                    served |= A[:, q].toarray().ravel() > 0
            if n_st < lo_q:
                return None
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
