"""``siteplan check``: verify a written plan against its scenario, independently of the
code that made it.

The checker reads ``plan.json`` and the scenario folder only. It does not import the
siting model, the solver adapter or the fiber planner: it recomputes the RSRP of the
plan's stations with the propagation kernels, counts quotas and tenants itself, and walks
the fiber routes as a graph. Every broken rule is reported; the plan passes only when
none is.
"""

from __future__ import annotations

import os
from collections import defaultdict
from pathlib import Path

import numpy as np

from siteplan.exceptions import Problem, ScenarioError
from siteplan.model.scenario import Scenario

__all__ = ["check_plan", "load_plan_json"]

_TOL = 1e-6


def load_plan_json(plan_dir: str | os.PathLike) -> dict:
    """Read ``plan.json`` of a plan folder (or the file itself), with the report's size and
    format checks, and refuse plan versions this checker does not know."""
    from siteplan.report.load import load_plan_json as _load

    p = Path(plan_dir)
    f = p / "plan.json" if p.is_dir() else p
    d = _load(f)
    if d.get("version") != 1:
        raise ScenarioError(Problem(str(f), None, "version", "unsupported plan version", d.get("version")))
    return d


def _served(scenario: Scenario, site_idx: np.ndarray, op: int, points: np.ndarray):
    """RSRP [dBm] (points x chosen sites) recomputed with the propagation kernels (pairs at or
    above the operator's threshold)."""
    from siteplan.coverage.build import coverage_subset

    return coverage_subset(scenario, scenario.operators[op], site_idx, points)


def check_plan(scenario: Scenario, plan: dict) -> list[str]:
    """All rules a plan must satisfy; returns the broken ones (empty list = the plan holds)."""
    errors: list[str] = []
    sc = scenario
    ops = list(sc.operator_names)
    pnames = [p.name for p in sc.phases]
    P = len(pnames)
    if plan.get("scenario", {}).get("digest") != sc.digest:
        errors.append("plan.json was made from different scenario files (digest mismatch)")
    if plan.get("status") not in ("optimal", "feasible"):
        errors.append(f"plan status is {plan.get('status')!r}: no feasible plan to check")
        return errors
    sid = {str(x): i for i, x in enumerate(sc.sites.id)}
    # --- sites ------------------------------------------------------------------------------
    built = {}
    for rec in plan.get("sites", []):
        i = sid.get(rec.get("id"))
        if i is None:
            errors.append(f"site {rec.get('id')!r} is not in the scenario")
            continue
        ph = rec.get("built_phase")
        if ph is not None:
            if sc.sites.existing[i]:
                errors.append(f"site {rec['id']}: existing site listed as built in {ph}")
            elif ph not in pnames:
                errors.append(f"site {rec['id']}: unknown phase {ph!r}")
            else:
                built[i] = pnames.index(ph)
    # --- stations --------------------------------------------------------------------------------
    have = np.repeat(np.asarray(sc.sites.tenants)[:, :, None], P, axis=2).copy()
    seen = set()
    new_count = np.zeros(P, dtype=np.int64)
    spend = np.zeros(P)
    listed_existing = set()
    for rec in plan.get("stations", []):
        i = sid.get(rec.get("site"))
        if i is None or rec.get("operator") not in ops:
            errors.append(f"station {rec.get('site')!r}/{rec.get('operator')!r}: unknown site or operator")
            continue
        k = ops.index(rec["operator"])
        if not rec.get("new"):
            listed_existing.add((i, k))
            if not sc.sites.tenants[i, k]:
                errors.append(f"station {rec['site']}/{rec['operator']} is marked existing but is not in the scenario")
            continue
        if (i, k) in seen:
            errors.append(f"site {rec['site']}: two new stations of {rec['operator']}")
        seen.add((i, k))
        if sc.sites.tenants[i, k]:
            errors.append(f"site {rec['site']}: {rec['operator']} already has a station there")
        ph = rec.get("phase")
        if ph not in pnames:
            errors.append(f"station {rec['site']}/{rec['operator']}: unknown phase {ph!r}")
            continue
        p = pnames.index(ph)
        if not sc.sites.existing[i] and (i not in built or built[i] > p):
            errors.append(f"station {rec['site']}/{rec['operator']} in {ph} on a site not built by then")
        have[i, k, p:] = True
        new_count[p] += 1
        spend[p] += sc.operators[k].station_cost + (sc.manifest.costs.colocation_cny if sc.sites.existing[i] else 0.0)
    missing = {(int(i), int(k)) for i, k in zip(*np.nonzero(np.asarray(sc.sites.tenants)))} - listed_existing
    if missing:
        errors.append(f"{len(missing)} existing station(s) of the scenario are missing from the plan")
    tenants = have[:, :, -1].sum(axis=1) if P else np.zeros(len(sc.sites))
    for i in np.flatnonzero(tenants > sc.sites.max_tenants):
        errors.append(f"site {sc.sites.id[i]}: {int(tenants[i])} tenants > limit {int(sc.sites.max_tenants[i])}")
    for i, p in built.items():
        if not have[i, :, p].any():
            errors.append(f"new site {sc.sites.id[i]} hosts no station in {pnames[p]}, the phase it is built")
        spend[p] += sc.sites.build_cost[i]
    # --- quotas and budgets ----------------------------------------------------------------------------
    for p, ph in enumerate(sc.phases):
        n_sites = sum(1 for q in built.values() if q == p)
        if ph.new_sites is not None and not (ph.new_sites.min <= n_sites <= ph.new_sites.max):
            errors.append(f"phase {ph.name}: {n_sites} new sites, quota {ph.new_sites}")
        if ph.new_stations is not None and not (ph.new_stations.min <= new_count[p] <= ph.new_stations.max):
            errors.append(f"phase {ph.name}: {int(new_count[p])} new stations, quota {ph.new_stations}")
        if ph.budget_cny is not None and spend[p] > ph.budget_cny + 1e-6:
            errors.append(f"phase {ph.name}: spend {spend[p]:,.0f} CNY over budget {ph.budget_cny:,.0f}")
        rec = next((r for r in plan.get("phases", []) if r.get("name") == ph.name), None)
        if rec is None:
            errors.append(f"phase {ph.name} missing from plan.json")
        elif rec.get("new_sites") != n_sites or rec.get("new_stations") != int(new_count[p]):
            errors.append(f"phase {ph.name}: plan.json says {rec.get('new_sites')} sites/{rec.get('new_stations')} "
                          f"stations, the lists hold {n_sites}/{int(new_count[p])}")
    errors += _check_coverage(sc, plan, have)
    errors += _check_fiber(sc, plan, built, pnames)
    return errors


def _check_coverage(sc: Scenario, plan: dict, have: np.ndarray) -> list[str]:
    errors = []
    P = have.shape[2]
    K = have.shape[1]
    V = len(sc.villages)
    D = len(sc.demand)
    served = np.zeros((D, K, P), dtype=bool)
    all_points = np.arange(D)
    for k in range(K):
        sites_k = np.flatnonzero(have[:, k, -1])
        if sites_k.size == 0:
            continue
        m = _served(sc, sites_k, k, all_points).tocoo()
        first_phase = np.argmax(have[sites_k, k, :], axis=1)       # phase the station appears
        for p in range(P):
            ok = first_phase[m.col] <= p
            served[np.unique(m.row[ok]), k, p] = True
    any_served = served.any(axis=1)
    share = np.stack([np.bincount(sc.demand.village, weights=sc.demand.weight * any_served[:, p], minlength=V)
                      for p in range(P)], axis=1)
    # points excluded as unservable (policy "exclude"): verify they really are
    excluded = np.zeros(D, dtype=bool)
    if sc.manifest.siting.uncoverable == "exclude":
        for f in plan.get("findings", []):
            for it in (f.get("details") or {}).get("villages", []) or []:
                for d in it.get("uncovered_points", []) or []:
                    if 0 <= int(d) < D:
                        excluded[int(d)] = True
        if excluded.any():
            pts = np.flatnonzero(excluded)
            for k in range(K):
                m = _served(sc, np.arange(len(sc.sites)), k, pts)
                bad = np.flatnonzero(np.diff(m.indptr) > 0)
                for b in bad:
                    errors.append(f"demand point {int(pts[b])} is excluded as unservable but site(s) can serve it "
                                  f"for {sc.operator_names[k]}")
    for p, ph in enumerate(sc.phases):
        for t in ph.targets:
            if t.kind != "coverage":
                continue
            sel = np.flatnonzero(sc.villages_selected(t.villages))
            ks = range(K) if t.operators == "each" else [None]
            for k in ks:
                pt_ok = (any_served[:, p] if k is None else served[:, k, p]) | excluded
                sh = np.bincount(sc.demand.village, weights=sc.demand.weight * pt_ok, minlength=V)
                bad = sel[sh[sel] < t.share - _TOL]
                who = "" if k is None else f" by {sc.operator_names[k]}"
                for v in bad[:20]:
                    errors.append(f"phase {ph.name}: village {sc.villages.id[v]} {sc.villages.name[v]} served share "
                                  f"{sh[v]:.3f} < target {t.share:g}{who}")
                if bad.size > 20:
                    errors.append(f"phase {ph.name}: ... and {bad.size - 20} more villages below target")
    # the plan's own per-village numbers must match the recomputation
    recs = plan.get("villages", [])
    if len(recs) != V:
        errors.append(f"plan.json lists {len(recs)} villages, the scenario has {V}")
    else:
        for j, rec in enumerate(recs):
            got = rec.get("share_by_phase") or []
            if len(got) != P or any(abs((g or 0.0) - share[j, p]) > 1e-4 for p, g in enumerate(got)):
                errors.append(f"village {sc.villages.id[j]}: plan.json share_by_phase {got} differs from the "
                              f"recomputed {[round(float(x), 4) for x in share[j]]}")
    return errors


def _check_fiber(sc: Scenario, plan: dict, built: dict, pnames: list[str]) -> list[str]:
    fb = plan.get("fiber")
    needs = any(t.kind == "fiber" for ph in sc.phases for t in ph.targets) or bool(built)
    if fb is None:
        return ["plan has no fiber section although fiber targets or new sites need it"] if needs and \
            sc.roads.n_nodes else []
    errors = []
    r = sc.roads
    nid = {str(x): i for i, x in enumerate(r.node_id)}
    P = len(pnames)
    # edges by phase (+ existing fiber, usable from the start)
    adj_by_phase = [defaultdict(set) for _ in range(P)]
    for e in np.flatnonzero(r.existing == "fiber"):
        for p in range(P):
            adj_by_phase[p][int(r.edge_u[e])].add(int(r.edge_v[e]))
            adj_by_phase[p][int(r.edge_v[e])].add(int(r.edge_u[e]))
    road_edges = {(min(int(a), int(b)), max(int(a), int(b))) for a, b in zip(r.edge_u, r.edge_v)}
    for rec in fb.get("routes", []):
        u, v = nid.get(rec.get("u")), nid.get(rec.get("v"))
        if u is None or v is None or (min(u, v), max(u, v)) not in road_edges:
            errors.append(f"fiber route {rec.get('u')}-{rec.get('v')} is not a road edge of the scenario")
            continue
        if rec.get("phase") not in pnames:
            errors.append(f"fiber route {rec.get('u')}-{rec.get('v')}: unknown phase {rec.get('phase')!r}")
            continue
        for p in range(pnames.index(rec["phase"]), P):
            adj_by_phase[p][u].add(v)
            adj_by_phase[p][v].add(u)
    pops = set(np.flatnonzero(r.pop).tolist())
    fp = sc.manifest.fiber
    # which terminals are required, by phase
    required = {}
    f = sc.facilities
    for p, ph in enumerate(sc.phases):
        for t in ph.targets:
            if t.kind != "fiber":
                continue
            vm = sc.villages_selected(t.villages)
            for i in np.flatnonzero(np.isin(f.kind, list(t.facilities)) & vm[f.village]):
                required[str(f.id[i])] = min(required.get(str(f.id[i]), P), p)
    for i, p in built.items():
        required[f"site:{sc.sites.id[i]}"] = min(required.get(f"site:{sc.sites.id[i]}", P), p)
    terms = {t.get("id"): t for t in fb.get("terminals", [])}
    for tid_, p in sorted(required.items()):
        t = terms.get(tid_)
        if t is None:
            errors.append(f"terminal {tid_} (due {pnames[p]}) has no fiber connection in the plan")
            continue
        node = nid.get(t.get("node"))
        if node is None:
            errors.append(f"terminal {tid_}: unknown road node {t.get('node')!r}")
            continue
        if t.get("drop_m") is None or t["drop_m"] > fp.max_drop_m + 0.05:
            errors.append(f"terminal {tid_}: drop {t.get('drop_m')} m exceeds {fp.max_drop_m:g} m")
        # reach a PoP through fiber built by phase p
        seen = {node}
        stack = [node]
        found = node in pops
        while stack and not found:
            x = stack.pop()
            for y in adj_by_phase[p][x]:
                if y not in seen:
                    if y in pops:
                        found = True
                        break
                    seen.add(y)
                    stack.append(y)
        if not found:
            errors.append(f"terminal {tid_}: not connected to a point of presence by {pnames[p]}")
        need_bw = f.bandwidth_mbps[list(f.id).index(tid_)] if not tid_.startswith("site:") else \
            sc.manifest.bandwidth_mbps["site_backhaul"]
        if (t.get("bandwidth_mbps") or 0.0) + 1e-6 < need_bw:
            errors.append(f"terminal {tid_}: guaranteed {t.get('bandwidth_mbps')} Mbit/s < required {need_bw:g}")
    ports = defaultdict(list)
    for t in terms.values():
        if t.get("pop") is None or t.get("port", -1) < 0:
            if t.get("id") in required:
                errors.append(f"terminal {t.get('id')}: no PoP port assigned")
            continue
        ports[(t["pop"], t["port"])].append(t)
    for (pop, port), members in sorted(ports.items()):
        load = sum(m.get("bandwidth_mbps") or 0.0 for m in members)
        if load > fp.pon_capacity_mbps + 1e-6:
            errors.append(f"PoP {pop} port {port}: {load:g} Mbit/s guaranteed > port capacity {fp.pon_capacity_mbps:g}")
        if len(members) > fp.split_limit:
            errors.append(f"PoP {pop} port {port}: {len(members)} terminals > split limit {fp.split_limit}")
        if nid.get(pop) is None or not r.pop[nid[pop]]:
            errors.append(f"port {port} is on {pop!r}, which is not a point of presence")
    return errors
