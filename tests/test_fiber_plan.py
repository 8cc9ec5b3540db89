"""The scenario-level fiber plan: phases, connectivity, bandwidth guarantees, costs, bounds.

Reference checks are independent of siteplan.fiber.planner: required terminals are derived
here from the manifest, connectivity is walked with a plain BFS over the routed edges, port
loads are summed here, and the optimum of small instances comes from tests/naive_fiber.py.
"""

from collections import defaultdict, deque
from types import SimpleNamespace

import numpy as np
import pytest

from naive_fiber import brute_force_steiner
from siteplan import read_scenario
from siteplan.fiber import check_bandwidth, plan_fiber
from siteplan.fiber.planner import edge_costs
from siteplan.generate import generate_scenario


@pytest.fixture(scope="module")
def small(tmp_path_factory):
    return read_scenario(generate_scenario("small", 3, tmp_path_factory.mktemp("small") / "s"))


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    return read_scenario(generate_scenario("tiny", 1, tmp_path_factory.mktemp("tiny") / "s"))


def required_terminals(sc):
    """facility id -> phase due, from the manifest's fiber targets."""
    due = {}
    f = sc.facilities
    for p, ph in enumerate(sc.phases):
        for t in ph.targets:
            if t.kind != "fiber":
                continue
            for i in range(len(f)):
                v = f.village[i]
                ok = {"all": True, "poor": sc.villages.poor[v], "rural": sc.villages.rural[v],
                      "urban": not sc.villages.rural[v]}[t.villages]
                if ok and f.kind[i] in t.facilities:
                    due[str(f.id[i])] = min(due.get(str(f.id[i]), p), p)
    return due


def connected_to_pop(sc, fp, node, phase):
    r = sc.roads
    adj = defaultdict(set)
    for e in range(r.n_edges):
        if r.existing[e] == "fiber":
            adj[r.edge_u[e]].add(r.edge_v[e])
            adj[r.edge_v[e]].add(r.edge_u[e])
    for e, p in zip(fp.edge, fp.edge_phase):
        if p <= phase:
            adj[r.edge_u[e]].add(r.edge_v[e])
            adj[r.edge_v[e]].add(r.edge_u[e])
    seen, todo = {node}, deque([node])
    while todo:
        x = todo.popleft()
        if r.pop[x]:
            return True
        for y in adj[x]:
            if y not in seen:
                seen.add(y)
                todo.append(y)
    return False


def test_every_required_terminal_is_connected_by_its_phase(small):
    fp = plan_fiber(small)
    due = required_terminals(small)
    assert due, "the small preset has fiber targets"
    assert sorted(fp.term_id.tolist()) == sorted(due)
    assert fp.status in ("optimal", "feasible")
    for i, tid in enumerate(fp.term_id):
        assert fp.term_phase[i] == due[tid]
        assert connected_to_pop(small, fp, fp.term_node[i], fp.term_phase[i]), tid
        assert fp.term_drop_m[i] <= small.manifest.fiber.max_drop_m


def test_bandwidth_guarantees_hold_independently(small):
    fp = plan_fiber(small)
    cap, split = small.manifest.fiber.pon_capacity_mbps, small.manifest.fiber.split_limit
    loads = defaultdict(float)
    counts = defaultdict(int)
    for pop, port, bw in zip(fp.term_pop, fp.term_port, fp.term_bandwidth):
        assert pop >= 0 and port >= 0
        assert small.roads.pop[pop]
        loads[(pop, port)] += bw
        counts[(pop, port)] += 1
    assert max(loads.values()) <= cap + 1e-9
    assert max(counts.values()) <= split
    # schools are guaranteed at least 100 Mbit/s (the programme's rule, manifest bandwidth_mbps)
    school = fp.term_kind == "school"
    assert school.any() and (fp.term_bandwidth[school] >= 100.0).all()
    assert check_bandwidth(fp, cap, split) == []


def test_check_bandwidth_catches_an_overloaded_port(small):
    fp = plan_fiber(small)
    broken = SimpleNamespace(**{k: getattr(fp, k) for k in fp.__dataclass_fields__})
    broken.term_port = np.zeros_like(fp.term_port)
    broken.term_pop = np.full_like(fp.term_pop, fp.term_pop[0])
    broken.term_bandwidth = np.full(fp.term_bandwidth.shape, 1000.0)
    errs = check_bandwidth(broken, 2500.0, 64)
    assert errs and "capacity" in errs[0]


def test_costs_add_up_and_edges_are_built_once(small):
    fp = plan_fiber(small)
    assert len(set(fp.edge.tolist())) == len(fp.edge)
    trench = edge_costs(small)[fp.edge]
    assert (fp.edge_cost >= trench - 1e-9).all()
    assert fp.cost == pytest.approx(fp.edge_cost.sum() + fp.drop_cost.sum())
    assert sum(fp.phase_cost) == pytest.approx(fp.cost)
    assert sum(fp.phase_km) == pytest.approx(small.roads.length_m[fp.edge].sum() / 1000.0)
    # the cable laid carries every terminal routed through the segment
    assert (fp.edge_cable >= fp.edge_fibers).all()


def test_new_sites_get_backhaul_in_their_build_phase(small):
    cand = np.flatnonzero(~small.sites.existing)[:5]
    site_phase = np.full(len(small.sites), -1)
    site_phase[cand] = [0, 0, 1, 1, 2]
    fp = plan_fiber(small, SimpleNamespace(site_phase=site_phase))
    for j, s in enumerate(cand):
        i = fp.term_id.tolist().index(f"site:{small.sites.id[s]}")
        assert fp.term_kind[i] == "site_backhaul"
        assert fp.term_phase[i] == site_phase[s]
        assert fp.term_bandwidth[i] == small.manifest.bandwidth_mbps["site_backhaul"]
        assert connected_to_pop(small, fp, fp.term_node[i], site_phase[s])
    # later phases reuse what earlier phases built: no phase builds an edge twice
    assert len(set(fp.edge.tolist())) == len(fp.edge)


def test_bound_and_cost_bracket_the_brute_force_optimum(tiny):
    fp = plan_fiber(tiny, method="exact")
    r = tiny.roads
    w = edge_costs(tiny)
    nodes = sorted({int(n) for n in fp.term_node if not r.pop[n]})
    opt = brute_force_steiner(r.n_nodes, zip(r.edge_u, r.edge_v, w), nodes, roots=np.flatnonzero(r.pop).tolist())
    drops = fp.drop_cost.sum()
    trench = float(w[fp.edge].sum())
    assert fp.lower_bound - drops <= opt + 1e-6
    assert opt <= trench + 1e-6
    assert fp.gap == pytest.approx(max(0.0, (trench - (fp.lower_bound - drops)) / trench) if trench else 0.0)


def test_drop_too_long_is_a_blocking_finding(small):
    import dataclasses

    fiber = small.manifest.fiber.model_copy(update={"max_drop_m": 1.0})
    man = small.manifest.model_copy(update={"fiber": fiber})
    sc = dataclasses.replace(small, manifest=man)
    fp = plan_fiber(sc)
    assert fp.status == "infeasible"
    kinds = {f.kind for f in fp.findings}
    assert "drop_too_long" in kinds
    assert any("limit 1 m" in f.message for f in fp.findings)
