"""Why a siting scenario cannot be done: structural checks before the solve, and the
minimal violations of an elastic relaxation after an infeasible one."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from siteplan.siting.inputs import SitingInputs

__all__ = ["Finding", "structural_checks", "uncoverable_findings", "coverable_points", "elastic_diagnosis", "MAX_LISTED"]

#: At most this many villages are listed in one finding's message (all are in ``details``).
MAX_LISTED = 20


@dataclass(frozen=True)
class Finding:
    """One diagnosis item.

    kind : "uncoverable_village" | "site_quota" | "station_quota" | "budget" |
        "quota_violation" | "target_violation" | "budget_violation".
    message : one line for people.
    blocking : True when the scenario is infeasible because of it.
    details : machine-readable facts (indices, amounts).
    """

    kind: str
    message: str
    blocking: bool = True
    details: dict = field(default_factory=dict)


def coverable_points(inp: SitingInputs, operator: int | None) -> np.ndarray:
    """Points that some existing or candidate site can serve (for ``operator``, or any)."""
    able = np.zeros(inp.n_points, dtype=bool)
    for k in range(inp.n_ops):
        if operator is not None and k != operator:
            continue
        able |= np.asarray(inp.cover[k].getnnz(axis=1) > 0).ravel()
    return able


def _best_server(inp: SitingInputs, ops) -> tuple[np.ndarray, np.ndarray]:
    """Best RSRP [dBm] any site gives each point (over the stored pairs) and that site."""
    best = np.full(inp.n_points, -np.inf)
    best_site = np.full(inp.n_points, -1, dtype=np.int64)
    for k in ops:
        r = inp.rsrp[k]
        if not r.nnz:
            continue
        rows = np.repeat(np.arange(inp.n_points), np.diff(r.indptr))
        order = np.lexsort((-r.data, rows))
        first = np.ones(order.size, dtype=bool)
        first[1:] = rows[order][1:] != rows[order][:-1]
        rr, vv, ss = rows[order][first], r.data[order][first], r.indices[order][first]
        better = vv > best[rr]
        best[rr[better]] = vv[better]
        best_site[rr[better]] = ss[better]
    return best, best_site


def uncoverable_findings(inp: SitingInputs, best_rsrp=None) -> tuple[list[Finding], list[np.ndarray]]:
    """Per target: villages that cannot reach their share from any existing or candidate site.

    Returns the findings (blocking unless ``inp.uncoverable == "exclude"``) and, per target,
    the mask of its points that no site can serve. ``best_rsrp(points, operators)`` may
    supply the best RSRP [dBm] and site for points outside the coverage matrices (below
    threshold); otherwise the stored pairs are used.
    """
    out: list[Finding] = []
    masks: list[np.ndarray] = []
    exclude = inp.uncoverable == "exclude"
    for t in inp.targets:
        ops = list(range(inp.n_ops)) if t.operator is None else [t.operator]
        able = coverable_points(inp, t.operator)
        sel = np.zeros(inp.n_villages, dtype=bool)
        sel[t.villages] = True
        in_target = sel[inp.point_village]
        masks.append(in_target & ~able)
        reach = np.bincount(inp.point_village, weights=inp.point_weight * able, minlength=inp.n_villages)
        bad_v = np.flatnonzero(sel & (reach < t.share - 1e-9))
        if bad_v.size == 0:
            continue
        bad_pts = np.flatnonzero(in_target & ~able & np.isin(inp.point_village, bad_v))
        if best_rsrp is not None:
            b_val, b_site = best_rsrp(bad_pts, ops)
            best = np.full(inp.n_points, -np.inf)
            best_site = np.full(inp.n_points, -1, dtype=np.int64)
            best[bad_pts], best_site[bad_pts] = b_val, b_site
        else:
            best, best_site = _best_server(inp, ops)
        items, texts = [], []
        for v in bad_v:
            pts = bad_pts[inp.point_village[bad_pts] == v]
            j = pts[np.argmax(best[pts])] if pts.size else -1
            rsrp = float(best[j]) if j >= 0 and np.isfinite(best[j]) else None
            site = int(best_site[j]) if j >= 0 and best_site[j] >= 0 else None
            vid = inp.village_ids[v] if inp.village_ids else str(v)
            vname = inp.village_names[v] if inp.village_names else ""
            sid = (inp.site_ids[site] if inp.site_ids else str(site)) if site is not None else None
            items.append({"village": int(v), "village_id": vid, "village_name": vname,
                          "reachable_share": float(reach[v]), "uncovered_points": [int(p) for p in pts],
                          "best_rsrp_dbm": rsrp, "best_site": site, "best_site_id": sid})
            texts.append(f"{vid} {vname} (reachable share {reach[v]:.2f}; best "
                         + (f"{rsrp:.1f} dBm from site {sid}" if rsrp is not None else "signal: none within range")
                         + ")")
        who = "any operator" if t.operator is None else inp.operator_names[t.operator]
        listed = "; ".join(texts[:MAX_LISTED]) + (f"; ... and {len(texts) - MAX_LISTED} more"
                                                  if len(texts) > MAX_LISTED else "")
        verb = "are excluded from the target (policy 'exclude')" if exclude else "make the target infeasible"
        out.append(Finding(
            "uncoverable_village",
            f"{t.label}: {bad_v.size} village(s) cannot reach the required share {t.share:g} from any existing or "
            f"candidate site for {who}; their {bad_pts.size} unservable demand point(s) {verb}: {listed}",
            not exclude, {"target": t.label, "operator": who, "villages": items}))
    return out, masks


def structural_checks(inp: SitingInputs, best_rsrp=None, uncoverable=None) -> list[Finding]:
    """Checks that need no solve: uncoverable villages, quotas beyond the candidate pool or
    the free tenancy, budgets below the cheapest way to meet a phase's quotas.

    ``uncoverable``: the result of :func:`uncoverable_findings` when the caller already
    has it (it is not computed twice)."""
    findings, _ = uncoverable if uncoverable is not None else uncoverable_findings(inp, best_rsrp)
    findings = list(findings)
    C = int((~inp.existing).sum())
    min_sites = inp.quotas_sites[:, 0]
    cum = np.cumsum(min_sites)
    if cum[-1] > C:
        p = int(np.argmax(cum > C))
        findings.append(Finding("site_quota",
                                f"the new-site quotas need {int(cum[-1])} candidate sites by phase "
                                f"'{inp.phase_names[-1] if inp.phase_names else inp.n_phases - 1}' but the pool has "
                                f"{C} (first exceeded in phase '{_pname(inp, p)}')",
                                True, {"needed": int(cum[-1]), "candidates": C}))
    free_existing = int(np.clip(np.minimum(inp.max_tenants, inp.n_ops) - inp.tenants.sum(axis=1), 0, None)
                        [inp.existing].sum())
    cap_new = np.sort(np.minimum(inp.max_tenants[~inp.existing], inp.n_ops))[::-1]
    max_sites = inp.quotas_sites[:, 1]
    n_new = C if (max_sites < 0).any() else int(min(C, max_sites.sum()))
    free_total = free_existing + int(cap_new[:n_new].sum())
    need_st = int(inp.quotas_stations[:, 0].sum())
    if need_st > free_total:
        findings.append(Finding("station_quota",
                                f"the new-station quotas need {need_st} stations but only {free_total} tenant slots "
                                f"exist ({free_existing} free on existing sites + {free_total - free_existing} on the "
                                f"new sites the quotas allow)", True,
                                {"needed": need_st, "free_existing": free_existing, "free_total": free_total}))
    # budgets: the cheapest way to meet a phase's minimum quotas
    cheap_sites = np.sort(inp.build_cost[~inp.existing])
    st_min = float(inp.station_cost.min()) if inp.n_ops else 0.0
    for p in range(inp.n_phases):
        if not np.isfinite(inp.budgets[p]):
            continue
        lb = float(cheap_sites[: max(0, int(min_sites[p]))].sum()) + st_min * max(0, int(inp.quotas_stations[p, 0]))
        if lb > inp.budgets[p] + 1e-6:
            findings.append(Finding("budget",
                                    f"phase '{_pname(inp, p)}': budget {inp.budgets[p]:,.0f} CNY is below the cheapest "
                                    f"way to meet its quotas, at least {lb:,.0f} CNY", True,
                                    {"phase": p, "budget": float(inp.budgets[p]), "lower_bound": lb}))
    return findings


def _pname(inp: SitingInputs, p: int) -> str:
    return inp.phase_names[p] if p < len(inp.phase_names) else str(p)


def elastic_diagnosis(inp: SitingInputs, *, solver: str = "highs", time_limit: float | None = None) -> list[Finding]:
    """Solve the relaxation with slack on quotas, budgets and targets; report every slack
    that must be non-zero (the minimal total violation)."""
    from siteplan.optimize import solve_milp
    from siteplan.siting.model import build_siting_model

    model = build_siting_model(inp, elastic=True)
    res = solve_milp(model.spec, solver=solver, time_limit=time_limit, gap=0.0)
    if not res.status.has_solution:
        return [Finding("relaxation", f"the elastic relaxation could not be solved either ({res.status.value})", True)]
    out = []
    for blk in model.spec.col_blocks:
        if not blk.name.startswith("slack_"):
            continue
        vals = res.x[blk.start:blk.stop]
        nz = np.flatnonzero(vals > 1e-6)
        if nz.size == 0:
            continue
        name = blk.name[len("slack_"):]
        kind, _, tail = name.rpartition("_")
        if name.startswith(("sites_", "stations_")):
            what, direction = kind.split("_")
            p = int(tail)
            q = inp.quotas_sites[p] if what == "sites" else inp.quotas_stations[p]
            out.append(Finding("quota_violation",
                               f"phase '{_pname(inp, p)}': the new-{what} quota {_qtext(q)} cannot be met; "
                               f"{'short' if direction == 'under' else 'over'} by {vals[nz].sum():.0f}",
                               True, {"phase": p, "quota": what, "direction": direction,
                                      "amount": float(vals[nz].sum())}))
        elif name.startswith("budget_"):
            p = int(tail)
            out.append(Finding("budget_violation", f"phase '{_pname(inp, p)}': budget must grow to meet the targets",
                               True, {"phase": p}))
        elif name.startswith("target_"):
            t = inp.targets[int(tail)]
            out.append(Finding("target_violation",
                               f"{t.label}: {nz.size} demand point(s) or village(s) cannot be covered together with "
                               f"the quotas", True, {"target": t.label, "count": int(nz.size)}))
    if not out:
        out.append(Finding("relaxation", "the relaxation needs no slack: the solver's infeasibility verdict is "
                                         "numerical; retry with another solver", True))
    return out


def _qtext(q) -> str:
    lo, hi = int(q[0]), int(q[1])
    return str(lo) if lo == hi else f"[{lo}, {'inf' if hi < 0 else hi}]"
