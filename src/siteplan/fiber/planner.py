"""The fiber plan of a scenario: Steiner routing on the road graph, phase by phase, with
OLT-port assignment, cable sizing and a bandwidth check per terminal.

Terminals are the facilities that the scenario's fiber targets require (by the phase the
target is due) and the new sites of a siting plan (backhaul, by their build phase). Each
terminal is attached to its nearest road node by a drop (at most ``fiber.max_drop_m``).
Phase ``p`` routes its terminals with a Steiner forest whose roots are the points of
presence plus every node already reached in earlier phases (their fiber is reused at no
cost). Edges with existing fiber cost ``costs.existing_fiber_factor`` of the per-metre cost,
edges with a duct ``costs.duct_reuse_factor``.

Quality: the routed network's cost is compared with the lower bound of one Steiner forest
over *all* terminals (any phased plan's final network is such a forest), so the reported
gap is an honest bound on the optimality loss of phasing plus heuristic routing.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np
import scipy.sparse as sp
from scipy.sparse.csgraph import dijkstra
from scipy.spatial import cKDTree

from siteplan.fiber.steiner import steiner_tree
from siteplan.model.scenario import Scenario
from siteplan.model.tables import ROAD_CLASSES

__all__ = ["FiberPlan", "FiberFinding", "plan_fiber", "fiber_terminals", "edge_costs", "check_bandwidth"]


@dataclass(frozen=True)
class FiberFinding:
    kind: str
    message: str
    blocking: bool = False
    details: dict = field(default_factory=dict)


@dataclass(frozen=True, eq=False)
class FiberPlan:
    """Routes, terminals and their guarantees.

    edge : road-edge index of each route segment; edge_phase : phase index it is built in;
    edge_fibers : fibers through it [-]; edge_cable : fibers of the cable laid [-];
    edge_cost : trench + cable cost [CNY].
    term_id, term_kind, term_phase, term_node, term_drop_m [m], term_bandwidth [Mbit/s],
    term_pop : node index of the serving point of presence (-1 if unconnected),
    term_port : OLT port number at that PoP (-1 if unassigned).
    cost : total [CNY] incl. drops; lower_bound [CNY]; gap [-]; status.
    """

    edge: np.ndarray
    edge_phase: np.ndarray
    edge_fibers: np.ndarray
    edge_cable: np.ndarray
    edge_cost: np.ndarray
    term_id: np.ndarray
    term_kind: np.ndarray
    term_phase: np.ndarray
    term_node: np.ndarray
    term_drop_m: np.ndarray
    term_bandwidth: np.ndarray
    term_pop: np.ndarray
    term_port: np.ndarray
    drop_cost: np.ndarray
    cost: float
    lower_bound: float
    gap: float
    status: str
    seconds: float
    phase_cost: tuple
    phase_km: tuple
    findings: tuple = ()


def edge_costs(scenario: Scenario) -> np.ndarray:
    """Cost of laying fiber along each road edge [CNY]: length x rate(class) x reuse factor."""
    r = scenario.roads
    c = scenario.manifest.costs
    rate = np.array([c.fiber_per_m_cny[k] for k in ROAD_CLASSES])
    idx = np.array([ROAD_CLASSES.index(k) for k in r.road_class], dtype=np.int64)
    factor = np.where(r.existing == "fiber", c.existing_fiber_factor,
                      np.where(r.existing == "duct", c.duct_reuse_factor, 1.0))
    return r.length_m * rate[idx] * factor


def fiber_terminals(scenario: Scenario, siting_plan=None):
    """Terminals with their due phase: (id, kind, phase, x, y, bandwidth [Mbit/s])."""
    f = scenario.facilities
    P = len(scenario.phases)
    due = np.full(len(f), P, dtype=np.int64)
    for p, ph in enumerate(scenario.phases):
        for t in ph.targets:
            if t.kind != "fiber":
                continue
            vmask = scenario.villages_selected(t.villages)
            sel = np.isin(f.kind, list(t.facilities)) & vmask[f.village] if len(f) else np.zeros(0, bool)
            due = np.where(sel & (due > p), p, due)
    keep = due < P
    ids = list(f.id[keep])
    kinds = list(f.kind[keep])
    phases = list(due[keep])
    xs = list(f.x_m[keep])
    ys = list(f.y_m[keep])
    bws = list(f.bandwidth_mbps[keep])
    if siting_plan is not None:
        s = scenario.sites
        backhaul = scenario.manifest.bandwidth_mbps["site_backhaul"]
        for i in np.flatnonzero(siting_plan.site_phase >= 0):
            ids.append(f"site:{s.id[i]}")
            kinds.append("site_backhaul")
            phases.append(int(siting_plan.site_phase[i]))
            xs.append(s.x_m[i])
            ys.append(s.y_m[i])
            bws.append(backhaul)
    return (np.array(ids, dtype=object), np.array(kinds, dtype=object), np.array(phases, dtype=np.int64),
            np.array(xs, dtype=float), np.array(ys, dtype=float), np.array(bws, dtype=float))


def _assign_ports(term_pop, bandwidth, capacity, split):
    """First-fit decreasing of terminals into ports per PoP; returns port numbers (0-based)."""
    port = np.full(term_pop.size, -1, dtype=np.int64)
    for pop in np.unique(term_pop[term_pop >= 0]):
        members = np.flatnonzero(term_pop == pop)
        order = members[np.lexsort((members, -bandwidth[members]))]
        loads: list[float] = []
        counts: list[int] = []
        for t in order:
            bw = bandwidth[t]
            for j in range(len(loads)):
                if loads[j] + bw <= capacity + 1e-9 and counts[j] < split:
                    loads[j] += bw
                    counts[j] += 1
                    port[t] = j
                    break
            else:
                loads.append(bw)
                counts.append(1)
                port[t] = len(loads) - 1
    return port


def check_bandwidth(plan: FiberPlan, capacity: float, split: int) -> list[str]:
    """Independent check of every terminal's guarantee: connected to a PoP, on a port whose
    total guaranteed rate fits the port capacity and whose terminal count fits the split."""
    errors = []
    for i in np.flatnonzero((plan.term_pop < 0) | (plan.term_port < 0)):
        errors.append(f"terminal {plan.term_id[i]} has no PoP port")
    ok = (plan.term_pop >= 0) & (plan.term_port >= 0)
    keys = {}
    for i in np.flatnonzero(ok):
        keys.setdefault((int(plan.term_pop[i]), int(plan.term_port[i])), []).append(i)
    for (pop, port), members in sorted(keys.items()):
        load = float(plan.term_bandwidth[members].sum())
        if load > capacity + 1e-6:
            errors.append(f"PoP node {pop} port {port}: {load:g} Mbit/s guaranteed > capacity {capacity:g}")
        if len(members) > split:
            errors.append(f"PoP node {pop} port {port}: {len(members)} terminals > split limit {split}")
    return errors


def plan_fiber(scenario: Scenario, siting_plan=None, *, method: str = "auto", time_limit: float | None = None) -> FiberPlan:
    """Route fiber to every required terminal of ``scenario`` (and the new sites of
    ``siting_plan``), phase by phase. See the module docstring.

    Parameters
    ----------
    scenario : with roads, facilities, fiber targets and parameters.
    siting_plan : a :class:`siteplan.siting.SitingPlan` whose new sites need backhaul, or None.
    method : Steiner method (``"auto"``, ``"heuristic"``, ``"exact"``).
    time_limit : wall-clock budget for all Steiner solves together [s].
    """
    t0 = time.perf_counter()
    r = scenario.roads
    fp = scenario.manifest.fiber
    P = len(scenario.phases)
    tid, tkind, tphase, tx, ty, tbw = fiber_terminals(scenario, siting_plan)
    findings: list[FiberFinding] = []
    n = r.n_nodes
    empty = np.zeros(0, dtype=np.int64)
    if tid.size == 0 or n == 0:
        if tid.size and n == 0:
            findings.append(FiberFinding("no_roads", f"{tid.size} terminals need fiber but the scenario has no road graph",
                                         True))
        return FiberPlan(edge=empty, edge_phase=empty, edge_fibers=empty, edge_cable=empty, edge_cost=np.zeros(0),
                         term_id=tid, term_kind=tkind, term_phase=tphase, term_node=np.full(tid.size, -1),
                         term_drop_m=np.full(tid.size, np.nan), term_bandwidth=tbw, term_pop=np.full(tid.size, -1),
                         term_port=np.full(tid.size, -1), drop_cost=np.zeros(tid.size), cost=0.0, lower_bound=0.0,
                         gap=0.0, status=("infeasible" if findings else "optimal"),
                         seconds=time.perf_counter() - t0, phase_cost=tuple([0.0] * P), phase_km=tuple([0.0] * P),
                         findings=tuple(findings))
    tree = cKDTree(np.column_stack([r.x_m, r.y_m]))
    drop, node = tree.query(np.column_stack([tx, ty]))
    node = node.astype(np.int64)
    too_far = drop > fp.max_drop_m
    for i in np.flatnonzero(too_far):
        findings.append(FiberFinding("drop_too_long",
                                     f"terminal {tid[i]} is {drop[i]:.0f} m from the nearest road node "
                                     f"(limit {fp.max_drop_m:g} m)", True,
                                     {"terminal": str(tid[i]), "drop_m": float(drop[i])}))
    w = edge_costs(scenario)
    edges = np.column_stack([r.edge_u, r.edge_v]).astype(np.int64)
    pops = np.flatnonzero(r.pop)
    if pops.size == 0:
        findings.append(FiberFinding("no_pop", "the road graph has no point of presence (pop=true)", True))
    # node reachability from PoPs
    adj = sp.csr_matrix((np.ones(len(edges)), (edges[:, 0], edges[:, 1])), shape=(n, n))
    adj = adj + adj.T
    if pops.size:
        dist = dijkstra(adj, directed=False, indices=pops, min_only=True, unweighted=True)
    else:
        dist = np.full(n, np.inf)
    unreachable = ~np.isfinite(dist[node])
    for i in np.flatnonzero(unreachable & ~too_far):
        findings.append(FiberFinding("unreachable", f"terminal {tid[i]}: its road node is not connected to any PoP",
                                     True, {"terminal": str(tid[i])}))
    routable = ~too_far & ~unreachable
    budget_end = None if time_limit is None else t0 + time_limit
    built = np.zeros(len(edges), dtype=bool)
    edge_phase = np.full(len(edges), -1, dtype=np.int64)
    reached = np.zeros(n, dtype=bool)
    reached[pops] = True
    statuses = []
    edge_index = {}
    for e, (u, v) in enumerate(edges):
        key = (min(u, v), max(u, v))
        if key not in edge_index or w[e] < w[edge_index[key]]:
            edge_index[key] = e
    for p in range(P):
        tnodes = np.unique(node[(tphase == p) & routable])
        tnodes = tnodes[~reached[tnodes]]
        if tnodes.size == 0:
            continue
        ww = np.where(built, 0.0, w)
        roots = np.flatnonzero(reached)
        limit = None if budget_end is None else max(1.0, budget_end - time.perf_counter())
        res = steiner_tree((n, edges, ww), list(tnodes), roots=list(roots), method=method, time_limit=limit)
        statuses.append(res.status)
        for u, v in res.edges:
            e = edge_index[(min(u, v), max(u, v))]
            if not built[e]:
                built[e] = True
                edge_phase[e] = p
            reached[u] = reached[v] = True
        reached[tnodes] = True
    # lower bound: one forest over all routable terminals (nodes not already PoPs)
    all_nodes = np.unique(node[routable])
    all_nodes = all_nodes[~r.pop[all_nodes]]
    if all_nodes.size:
        limit = None if budget_end is None else max(1.0, budget_end - time.perf_counter())
        lb_res = steiner_tree((n, edges, w), list(all_nodes), roots=list(pops), method=method, time_limit=limit)
        lower = float(lb_res.lower_bound)
    else:
        lower = 0.0
    # serving PoP of every terminal through the built network (shortest path by length)
    bedges = edges[built | (r.existing == "fiber")]
    blen = r.length_m[built | (r.existing == "fiber")]
    badj = sp.csr_matrix((blen + 1e-9, (bedges[:, 0], bedges[:, 1])), shape=(n, n))
    badj = badj.maximum(badj.T)
    term_pop = np.full(tid.size, -1, dtype=np.int64)
    fibers = np.zeros(len(edges), dtype=np.int64)
    if pops.size:
        d2, pred, src = dijkstra(badj, directed=False, indices=pops, min_only=True, return_predecessors=True)
        ok = routable & np.isfinite(d2[node])
        term_pop[ok] = src[node[ok]]
        # terminals downstream of each node, accumulated towards the PoPs
        count = np.bincount(node[ok], minlength=n).astype(np.int64)
        order = np.argsort(-d2, kind="stable")
        order = order[np.isfinite(d2[order])]
        child_edge = np.full(n, -1, dtype=np.int64)
        for v in order:
            u = pred[v]
            if u < 0:
                continue
            e = edge_index.get((min(u, v), max(u, v)), -1)
            child_edge[v] = e
            count[u] += count[v]
            if e >= 0:
                fibers[e] = max(fibers[e], count[v])
    port = _assign_ports(term_pop, tbw, fp.pon_capacity_mbps, fp.split_limit)
    for i in np.flatnonzero(tbw > fp.pon_capacity_mbps):
        findings.append(FiberFinding("bandwidth", f"terminal {tid[i]} needs {tbw[i]:g} Mbit/s, more than one PON port "
                                                  f"carries ({fp.pon_capacity_mbps:g})", True))
    # cable tiers
    tiers = sorted(fp.cable_tiers, key=lambda t: t.fibers)
    tf = np.array([t.fibers for t in tiers])
    tc = np.array([t.cny_per_m for t in tiers])
    sel = np.flatnonzero(built)
    need = np.maximum(fibers[sel], 1)
    k = np.searchsorted(tf, need)
    n_cables = np.where(k >= tf.size, np.ceil(need / tf[-1]).astype(np.int64), 1)
    k = np.minimum(k, tf.size - 1)
    cable = tf[k] * n_cables
    ecost = w[sel] + r.length_m[sel] * tc[k] * n_cables
    rural_rate = scenario.manifest.costs.fiber_per_m_cny["rural"]
    drop_cost = np.where(routable, drop * rural_rate, 0.0)
    total = float(ecost.sum() + drop_cost.sum())
    trench = float(w[sel].sum())
    gap = 0.0 if trench <= 0 else max(0.0, (trench - lower) / trench)
    blocking = any(f.blocking for f in findings)
    status = "infeasible" if blocking else ("optimal" if gap <= 1e-9 and all(s == "optimal" for s in statuses)
                                            else "feasible")
    phase_cost = tuple(float(ecost[edge_phase[sel] == p].sum() + drop_cost[(tphase == p)].sum()) for p in range(P))
    phase_km = tuple(float(r.length_m[sel][edge_phase[sel] == p].sum() / 1000.0) for p in range(P))
    order = np.lexsort((sel, edge_phase[sel]))
    return FiberPlan(edge=sel[order], edge_phase=edge_phase[sel][order], edge_fibers=fibers[sel][order],
                     edge_cable=cable[order], edge_cost=ecost[order], term_id=tid, term_kind=tkind,
                     term_phase=tphase, term_node=node, term_drop_m=drop, term_bandwidth=tbw, term_pop=term_pop,
                     term_port=port, drop_cost=drop_cost, cost=total, lower_bound=lower + float(drop_cost.sum()),
                     gap=gap, status=status, seconds=time.perf_counter() - t0, phase_cost=phase_cost,
                     phase_km=phase_km, findings=tuple(findings))
