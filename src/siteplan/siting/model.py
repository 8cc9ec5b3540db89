"""The multi-phase, multi-operator siting MILP, built by constraint family from CSR arrays.

See ``docs/siting-model.md`` for the formulation with every symbol's unit. Column
families (all indexed phase-fastest, ``index = item * P + p``):

=========  ==========================================================================
``b``      candidate site ``c`` built in phase ``p`` (binary)
``x``      station slot ``q = (site, operator)`` filled in phase ``p`` (binary)
``y``      share of a demand point served in phase ``p`` (continuous, partial targets)
``e``      poor demand point covered in phase ``p`` before its target is due (continuous)
``a``      traffic of village ``v`` for operator ``k`` carried by its ``j``-th best server
           in phase ``p`` [Mbit/s] (continuous)
=========  ==========================================================================

No Python loop runs over (point, site) pairs: every row family is assembled with numpy
from the coverage CSR matrices.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from siteplan.optimize.milp import MilpBuilder, MilpSpec
from siteplan.siting.inputs import SitingInputs

__all__ = ["SitingModel", "build_siting_model", "slot_coverage"]

INF = np.inf


@dataclass(frozen=True, eq=False)
class SitingModel:
    """The MILP and the maps needed to read its solution back."""

    spec: MilpSpec
    candidates: np.ndarray     # site index of each candidate c
    slot_site: np.ndarray      # site index of each station slot q
    slot_op: np.ndarray        # operator index of each slot q
    n_phases: int
    cost_offset: float         # constant part of the objective (penalty of all traffic) [CNY]


def slot_coverage(inp: SitingInputs, slot_site: np.ndarray, slot_op: np.ndarray, operator: int | None) -> sp.csr_matrix:
    """Points x slots: True where filling the slot serves the point (for ``operator`` or any)."""
    Q = slot_site.shape[0]
    mats = []
    for k in range(inp.n_ops):
        if operator is not None and k != operator:
            continue
        sel = np.flatnonzero(slot_op == k)
        # sites x slots selector for operator k
        S = sp.csr_matrix((np.ones(sel.size), (slot_site[sel], sel)), shape=(inp.n_sites, Q))
        mats.append(inp.cover[k].astype(np.float64) @ S)
    acc = mats[0]
    for mm in mats[1:]:
        acc = acc + mm
    acc = sp.csr_matrix(acc)
    acc.data[:] = 1.0
    acc.sort_indices()
    return acc


def covered_now(inp: SitingInputs, operator: int | None) -> np.ndarray:
    """Points already served by existing stations (of ``operator``, or of any)."""
    out = np.zeros(inp.n_points, dtype=bool)
    for k in range(inp.n_ops):
        if operator is not None and k != operator:
            continue
        out |= np.asarray(inp.cover[k].astype(np.float64) @ inp.tenants[:, k].astype(np.float64) > 0).ravel()
    return out


def _cumulative_rows(item_cols: sp.csr_matrix, P: int, p: int, coef: float = 1.0):
    """CSR rows ``sum_{p' <= p} col[item, p']`` for each row of ``item_cols`` (items are the
    column families' item indices, already offset to global ``item * P``)."""
    indptr = item_cols.indptr
    counts = np.diff(indptr) * (p + 1)
    base = np.repeat(item_cols.indices.astype(np.int64), p + 1)
    offs = np.tile(np.arange(p + 1, dtype=np.int64), item_cols.indices.size)
    new_indptr = np.concatenate([[0], np.cumsum(counts)])
    return new_indptr, base + offs, np.full(base.size, coef)


def _stack_csr(parts):
    """Concatenate per-row (indices, data) lists given as CSR triples with equal row counts."""
    lens = sum(np.diff(ip) for ip, _, _ in parts)
    indptr = np.concatenate([[0], np.cumsum(lens)])
    idx = np.empty(indptr[-1], dtype=np.int64)
    dat = np.empty(indptr[-1], dtype=np.float64)
    pos = indptr[:-1].copy()
    for ip, ii, dd in parts:
        c = np.diff(ip)
        within = np.arange(ii.size) - np.repeat(ip[:-1], c)
        dest = np.repeat(pos, c) + within
        idx[dest] = ii
        dat[dest] = dd
        pos = pos + c
    return indptr, idx, dat


def _village_servers(inp: SitingInputs, L: int):
    """Per (village, operator): up to L best sites by RSRP (over the village's points)
    among sites where the operator has or may get a station. Returns (v, k, site) arrays."""
    out_v, out_k, out_s = [], [], []
    for k in range(inp.n_ops):
        r = inp.rsrp[k].tocoo()
        # best RSRP of each (village, site): max over the village's points
        vrow = inp.point_village[r.row]
        col = r.col
        val = r.data.astype(np.float64)
        if val.size == 0:
            continue
        key = vrow.astype(np.int64) * inp.n_sites + col
        order = np.lexsort((-val, key))
        key_s = key[order]
        first = np.ones(key_s.size, dtype=bool)
        first[1:] = key_s[1:] != key_s[:-1]
        key_u = key_s[first]
        val_u = val[order][first]
        v_u = key_u // inp.n_sites
        s_u = key_u % inp.n_sites
        # rank within village by RSRP, keep top L
        order2 = np.lexsort((-val_u, v_u))
        v_o, s_o = v_u[order2], s_u[order2]
        start = np.ones(v_o.size, dtype=bool)
        start[1:] = v_o[1:] != v_o[:-1]
        grp_start = np.maximum.accumulate(np.where(start, np.arange(v_o.size), 0))
        rank = np.arange(v_o.size) - grp_start
        sel = rank < L
        out_v.append(v_o[sel])
        out_k.append(np.full(int(sel.sum()), k))
        out_s.append(s_o[sel])
    if not out_v:
        z = np.zeros(0, dtype=np.int64)
        return z, z, z
    return np.concatenate(out_v), np.concatenate(out_k), np.concatenate(out_s)


def build_siting_model(inp: SitingInputs, *, elastic: bool = False, elastic_penalty: float = 1e6) -> SitingModel:
    """Build the siting MILP from :class:`SitingInputs`.

    With ``elastic=True`` the quota, budget and coverage-target rows get non-negative
    slack columns (family ``slack_*``) whose total, times ``elastic_penalty``, is the
    only thing minimised: that is the relaxation used to diagnose infeasible scenarios.
    """
    P = inp.n_phases
    Kn = inp.n_ops
    cand = np.flatnonzero(~inp.existing)
    open_slot = ~inp.tenants
    slot_site, slot_op = np.nonzero(open_slot)
    slot_site = slot_site.astype(np.int64)
    slot_op = slot_op.astype(np.int64)
    Q = slot_site.size
    C = cand.size
    cand_pos = np.full(inp.n_sites, -1, dtype=np.int64)
    cand_pos[cand] = np.arange(C)
    w = inp.weights
    disc = inp.discount
    cost_scale = 0.0 if elastic else 1.0

    mb = MilpBuilder("min")
    b_cost = (inp.build_cost[cand][:, None] * disc[None, :]).ravel() * cost_scale
    b = mb.add_columns("b", C * P, cost=b_cost, upper=1.0, integer=True)
    st_cost = inp.station_cost[slot_op] + inp.colocation_cost * inp.existing[slot_site]
    x = mb.add_columns("x", Q * P, cost=(st_cost[:, None] * disc[None, :]).ravel() * cost_scale, upper=1.0,
                       integer=True)

    # --- each candidate built at most once; each slot filled at most once -------------------
    def once(block, n):
        ip = np.arange(n + 1, dtype=np.int64) * P
        return ip, block.start + np.arange(n * P, dtype=np.int64), np.ones(n * P)

    mb.add_rows("site_once", *once(b, C), upper=1.0)
    mb.add_rows("slot_once", *once(x, Q), upper=1.0)

    # --- tenancy: current + new stations <= max tenants ---------------------------------------
    order = np.argsort(slot_site, kind="stable")
    counts = np.bincount(slot_site, minlength=inp.n_sites)
    ip = np.concatenate([[0], np.cumsum(counts * P)])
    cols = (x.start + (order[:, None] * P + np.arange(P)[None, :])).ravel()
    free = inp.max_tenants - inp.tenants.sum(axis=1)
    mb.add_rows("tenancy", ip, cols, np.ones(cols.size), upper=free.astype(float))

    # --- a station on a candidate needs the site built by then; a new site hosts a station -----
    on_cand = cand_pos[slot_site] >= 0
    qc = np.flatnonzero(on_cand)
    for p in range(P):
        xs = sp.csr_matrix((np.ones(qc.size), (np.arange(qc.size), x.start + qc * P)),
                           shape=(qc.size, mb.n_cols))
        bs = sp.csr_matrix((np.ones(qc.size), (np.arange(qc.size), b.start + cand_pos[slot_site[qc]] * P)),
                           shape=(qc.size, mb.n_cols))
        ip1, ii1, dd1 = _cumulative_rows(xs, P, p, 1.0)
        ip2, ii2, dd2 = _cumulative_rows(bs, P, p, -1.0)
        mb.add_rows(f"needs_site_{p}", *_stack_csr([(ip1, ii1, dd1), (ip2, ii2, dd2)]), upper=0.0)
        # sum_k x(c, k, <=p) - b(c, <=p) >= 0
        cs = cand_pos[slot_site[qc]]
        ordc = np.argsort(cs, kind="stable")
        xs2 = sp.csr_matrix((np.ones(qc.size), (cs[ordc], x.start + qc[ordc] * P)), shape=(C, mb.n_cols))
        bs2 = sp.csr_matrix((np.ones(C), (np.arange(C), b.start + np.arange(C) * P)), shape=(C, mb.n_cols))
        ip1, ii1, dd1 = _cumulative_rows(xs2, P, p, 1.0)
        ip2, ii2, dd2 = _cumulative_rows(bs2, P, p, -1.0)
        mb.add_rows(f"site_hosts_{p}", *_stack_csr([(ip1, ii1, dd1), (ip2, ii2, dd2)]), lower=0.0)

    slack_cols: list[tuple[str, int]] = []

    def slack(name: str, n: int, sign: float):
        """Elastic slack columns for n rows; returns CSR triple to stack, or None."""
        if not elastic or n == 0:
            return None
        blk = mb.add_columns(f"slack_{name}", n, cost=elastic_penalty)
        slack_cols.append((name, blk.start))
        return (np.arange(n + 1, dtype=np.int64), blk.start + np.arange(n, dtype=np.int64), np.full(n, sign))

    # --- quotas and budgets per phase -----------------------------------------------------------
    quota_families = (("sites", inp.quotas_sites, b, C), ("stations", inp.quotas_stations, x, Q))
    for p in range(P):
        for what, quotas, block, n in quota_families:
            lo, hi = quotas[p]
            if lo <= 0 and hi < 0:
                continue                                   # no quota in this phase
            parts = [(np.array([0, n]), block.start + np.arange(n) * P + p, np.ones(n))]
            s_lo = slack(f"{what}_under_{p}", 1, 1.0) if lo > 0 else None
            s_hi = slack(f"{what}_over_{p}", 1, -1.0) if hi >= 0 else None
            parts += [s for s in (s_lo, s_hi) if s is not None]
            mb.add_rows(f"quota_{what}_{p}", *_stack_csr(parts), lower=float(lo), upper=INF if hi < 0 else float(hi))
        if np.isfinite(inp.budgets[p]):
            cols_b = b.start + np.arange(C) * P + p
            cols_x = x.start + np.arange(Q) * P + p
            parts = [(np.array([0, C + Q]), np.concatenate([cols_b, cols_x]),
                      np.concatenate([inp.build_cost[cand], st_cost]))]
            s = slack(f"budget_{p}", 1, -1.0)
            if s is not None:
                parts.append((s[0], s[1], s[2] * max(1.0, float(inp.budgets[p]) * 1e-6)))
            mb.add_rows(f"budget_{p}", *_stack_csr(parts), upper=float(inp.budgets[p]))

    # --- hard coverage targets --------------------------------------------------------------------
    cache: dict = {}
    for ti, t in enumerate(inp.targets):
        key = t.operator
        if key not in cache:
            cache[key] = (slot_coverage(inp, slot_site, slot_op, key), covered_now(inp, key))
        A, done = cache[key]
        excluded = t.exclude if t.exclude is not None else np.zeros(inp.n_points, dtype=bool)
        pts = np.flatnonzero(np.isin(inp.point_village, t.villages) & ~done & ~excluded)
        if t.share >= 1.0 - 1e-12:
            # every point of every selected village: sum of covering slots filled by phase p >= 1
            sub = A[pts]
            sub = sp.csr_matrix((sub.data, x.start + sub.indices.astype(np.int64) * P, sub.indptr),
                                shape=(pts.size, mb.n_cols))
            parts = [_cumulative_rows(sub, P, t.phase)]
            s = slack(f"target_{ti}", pts.size, 1.0)
            if s is not None:
                parts.append(s)
            mb.add_rows(f"target_{ti}", *_stack_csr(parts), lower=1.0)
            continue
        # partial share: y[d] <= covering slots; sum_d w_d y_d >= share - covered weight
        y = mb.add_columns(f"y_{ti}", pts.size, upper=1.0)
        sub = A[pts]
        sub = sp.csr_matrix((sub.data, x.start + sub.indices.astype(np.int64) * P, sub.indptr),
                            shape=(pts.size, mb.n_cols))
        ip1, ii1, dd1 = _cumulative_rows(sub, P, t.phase, -1.0)
        yy = (np.arange(pts.size + 1, dtype=np.int64), y.start + np.arange(pts.size, dtype=np.int64), np.ones(pts.size))
        mb.add_rows(f"y_link_{ti}", *_stack_csr([yy, (ip1, ii1, dd1)]), upper=0.0)
        vil = t.villages
        vpos = np.full(inp.n_villages, -1, dtype=np.int64)
        vpos[vil] = np.arange(vil.size)
        counted = (done | excluded) & np.isin(inp.point_village, vil)
        already = np.bincount(vpos[inp.point_village[counted]], weights=inp.point_weight[counted], minlength=vil.size)
        pv = vpos[inp.point_village[pts]]
        ordv = np.argsort(pv, kind="stable")
        cnt = np.bincount(pv, minlength=vil.size)
        parts = [(np.concatenate([[0], np.cumsum(cnt)]), y.start + ordv, inp.point_weight[pts][ordv])]
        s = slack(f"target_{ti}", vil.size, 1.0)
        if s is not None:
            parts.append(s)
        mb.add_rows(f"target_{ti}", *_stack_csr(parts), lower=t.share - already - 1e-9)

    offset = 0.0
    if not elastic:
        # --- earlier coverage of poor villages: reward per person covered before the due phase ------
        due = np.full(inp.n_villages, -1, dtype=np.int64)
        for t in inp.targets:
            if t.operator is None:
                vv = t.villages[inp.village_poor[t.villages]]
                due[vv] = np.where(due[vv] < 0, t.phase, np.minimum(due[vv], t.phase))
        if w.poor_early_cny_per_person > 0 and (due > 0).any():
            A, done = cache.get(None) or (slot_coverage(inp, slot_site, slot_op, None), covered_now(inp, None))
            for p in range(P):
                pts = np.flatnonzero((due[inp.point_village] > p) & ~done)
                if pts.size == 0:
                    continue
                people = inp.village_population[inp.point_village[pts]] * inp.point_weight[pts]
                e = mb.add_columns(f"e_{p}", pts.size, cost=-w.poor_early_cny_per_person * disc[p] * people, upper=1.0)
                offset += float(w.poor_early_cny_per_person * disc[p] * people.sum())
                sub = A[pts]
                sub = sp.csr_matrix((sub.data, x.start + sub.indices.astype(np.int64) * P, sub.indptr),
                                    shape=(pts.size, mb.n_cols))
                ip1, ii1, dd1 = _cumulative_rows(sub, P, p, -1.0)
                ee = (np.arange(pts.size + 1, dtype=np.int64), e.start + np.arange(pts.size, dtype=np.int64),
                      np.ones(pts.size))
                mb.add_rows(f"e_link_{p}", *_stack_csr([ee, (ip1, ii1, dd1)]), upper=0.0)

        # --- capacity: village traffic carried by its best servers, up to station capacity -----------
        if w.unserved_cny_per_mbps > 0:
            vtraffic = np.zeros((inp.n_villages, Kn))
            np.add.at(vtraffic, inp.point_village, inp.traffic)
            sv, sk, ss = _village_servers(inp, w.server_candidates)
            n_a = sv.size
            if n_a:
                slot_of = np.full((inp.n_sites, Kn), -1, dtype=np.int64)
                slot_of[slot_site, slot_op] = np.arange(Q)
                a_cost = -(w.unserved_cny_per_mbps * disc)[None, :].repeat(n_a, axis=0).ravel()
                a = mb.add_columns("a", n_a * P, cost=a_cost, upper=np.repeat(vtraffic[sv, sk], P))
                offset += float(w.unserved_cny_per_mbps * (vtraffic.sum() * disc.sum()))
                # demand: sum_j a[v,k,j,p] <= T[v,k]
                vk = sv * Kn + sk
                uniq, inv = np.unique(vk, return_inverse=True)
                for p in range(P):
                    ordr = np.argsort(inv, kind="stable")
                    cnt = np.bincount(inv, minlength=uniq.size)
                    mb.add_rows(f"traffic_{p}", np.concatenate([[0], np.cumsum(cnt)]), a.start + ordr * P + p,
                                np.ones(n_a), upper=vtraffic[uniq // Kn, uniq % Kn])
                # capacity: sum a[., s, k, p] - C_k * x(slot(s,k), <= p) <= C_k * tenants[s,k]
                sk_key = ss * Kn + sk
                uk, inv2 = np.unique(sk_key, return_inverse=True)
                s_u, k_u = uk // Kn, uk % Kn
                slot_u = slot_of[s_u, k_u]
                ordr = np.argsort(inv2, kind="stable")
                cnt = np.bincount(inv2, minlength=uk.size)
                ipa = np.concatenate([[0], np.cumsum(cnt)])
                has_slot = slot_u >= 0
                for p in range(P):
                    a_part = (ipa, a.start + ordr * P + p, np.ones(n_a))
                    xm = sp.csr_matrix((np.full(int(has_slot.sum()), 1.0),
                                        (np.flatnonzero(has_slot), x.start + slot_u[has_slot] * P)),
                                       shape=(uk.size, mb.n_cols))
                    ip1, ii1, dd1 = _cumulative_rows(xm, P, p, 1.0)
                    dd1 = dd1 * -np.repeat(inp.capacity[k_u], np.diff(ip1))
                    rhs = inp.capacity[k_u] * inp.tenants[s_u, k_u]
                    mb.add_rows(f"capacity_{p}", *_stack_csr([a_part, (ip1, ii1, dd1)]), upper=rhs)
    mb.offset = offset
    return SitingModel(spec=mb.build(), candidates=cand, slot_site=slot_site, slot_op=slot_op, n_phases=P,
                       cost_offset=offset)
