"""Reduced-cost fixing, the cold-start path, the kernel warm-up and the layering of the
covering types, checked against brute-force enumeration (tests/naive_setcover.py)."""

from __future__ import annotations

import math
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from naive_setcover import all_covers, brute_force_set_cover, random_instance
from siteplan.optimize import SetCoverProblem, SolveStatus, solve_set_cover
from siteplan.optimize.setcover import kernels_ready, reduce_problem, solve, warm_up
from siteplan.optimize.setcover.lagrangian import (
    greedy_cover,
    improve_cover,
    initial_multipliers,
    lagrangian_search,
    reduced_cost_fixing,
)

ROOT = Path(__file__).resolve().parents[1]


@st.composite
def reduced_instances(draw):
    """A reduced problem (reductions applied), a multiplier vector and a cover of it."""
    seed = draw(st.integers(0, 2**32 - 1))
    m = draw(st.integers(1, 7))
    n = draw(st.integers(2, 11))
    rng = np.random.default_rng(seed)
    cols, costs = random_instance(rng, m, n, draw(st.sampled_from([0.25, 0.4, 0.6])))
    if draw(st.booleans()):
        costs = costs + rng.random(n).round(2)  # fractional costs: the relative slack applies
    kw = {"demand": rng.integers(1, 3, size=m)} if draw(st.booleans()) else {}
    return SetCoverProblem.from_columns(m, cols, costs, **kw), draw(st.sampled_from(["initial", "search", "random"])), seed


def _as_problem(red):
    return SetCoverProblem(red.n_rows, red.col_ptr, red.col_rows, red.costs, demand=red.need)


@given(case=reduced_instances())
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_reduced_cost_fixing_keeps_every_better_cover(case):
    """Every cover cheaper than the incumbent by more than the slack uses only kept
    columns and contains every column fixed to one; the restricted problem's optimum is
    the optimum (brute force on the reduced problem)."""
    problem, kind, seed = case
    red = reduce_problem(problem, dominance=False)
    if red.infeasible is not None or red.n_rows == 0:
        return
    rng = np.random.default_rng(seed)
    if kind == "initial":
        u = initial_multipliers(red)
    elif kind == "search":
        u = lagrangian_search(red, seed=0, max_rounds=1).u
    else:
        u = rng.random(red.n_rows) * red.costs.max()
    # the incumbent: a greedy cover on the first multipliers (often worse than optimal, so
    # better covers exist and fixing is put to the test) or on u
    inc = greedy_cover(red, initial_multipliers(red) if seed % 2 else u)
    if inc is None:
        return
    inc = improve_cover(red, inc)
    keep, fix_one, lval = reduced_cost_fixing(red, u, inc)
    ub = float(red.costs[inc.astype(bool)].sum())
    assert keep[inc.astype(bool)].all() and not (fix_one & ~inc.astype(bool)).any()
    sub = _as_problem(red)
    slack = (1.0 - 1e-6) if red.integral_costs else 1e-7 * max(1.0, abs(ub))
    covers = all_covers(sub)
    assert covers
    for cost, chosen in covers:
        if cost < ub - slack - 1e-9:
            assert all(keep[j] for j in chosen), (cost, ub, sorted(chosen))
            assert set(np.flatnonzero(fix_one).tolist()) <= chosen
    # the optimum survives: restricted to keep, with fix_one forced, it is the same value
    opt, _ = brute_force_set_cover(sub)
    restricted = [c for c, chosen in covers if all(keep[j] for j in chosen)
                  and set(np.flatnonzero(fix_one).tolist()) <= chosen]
    assert min(restricted) == pytest.approx(opt)
    assert lval <= opt + 1e-9  # L(u) is a lower bound


def test_fixing_removes_columns_when_the_bound_is_tight():
    """A case where L(u) is close to the incumbent: fixing must actually remove something
    (the test above would pass with a fixing that never fixes)."""
    rng = np.random.default_rng(3)
    removed = 0
    for _ in range(20):
        cols, costs = random_instance(rng, 8, 14, 0.3)
        p = SetCoverProblem.from_columns(8, cols, costs)
        red = reduce_problem(p, dominance=False)
        if red.infeasible is not None or red.n_rows == 0:
            continue
        out = lagrangian_search(red, seed=0, max_rounds=2)
        keep, _, _ = reduced_cost_fixing(red, out.u, out.x)
        removed += int((~keep).sum())
    assert removed > 0


def test_warm_up_compiles_every_kernel():
    warm_up()
    assert kernels_ready()


def test_cold_start_under_a_short_limit_solves_the_unreduced_milp(monkeypatch):
    """With kernels neither compiled nor cached, "auto" under a short limit hands the whole
    model to the MILP solver (no compile inside the budget) and still answers correctly."""
    monkeypatch.setattr(solve, "kernels_ready", lambda: False)
    monkeypatch.setattr(solve, "kernels_cached", lambda: False)
    rng = np.random.default_rng(8)
    for k in range(4):
        cols, costs = random_instance(rng, 6, 9, 0.35)
        kw = {"demand": rng.integers(0, 3, size=6), "fixed_in": [0], "fixed_out": [1]} if k % 2 else {}
        p = SetCoverProblem.from_columns(6, cols, costs, **kw)
        res = solve_set_cover(p, method="auto", time_limit=5.0)
        opt, _ = brute_force_set_cover(p)
        if math.isinf(opt):
            assert res.status == SolveStatus.INFEASIBLE
            continue
        assert "cold_start" in res.stats
        assert res.status == SolveStatus.OPTIMAL and res.cost == pytest.approx(opt)
        assert p.is_feasible(res.columns) and res.bound <= opt + 1e-9


def test_cold_start_without_a_limit_warms_up(monkeypatch):
    """Without a time limit the kernels are compiled first and the whole engine runs."""
    monkeypatch.setattr(solve, "kernels_ready", lambda: False)
    p = SetCoverProblem.from_columns(3, [[0, 1], [1, 2], [0, 2], [0]], [2.0, 2.0, 2.0, 1.0])
    res = solve_set_cover(p, method="auto")
    assert "warmup_seconds" in res.stats and "cold_start" not in res.stats
    assert res.cost == brute_force_set_cover(p)[0]


def test_io_does_not_import_the_solver_layer():
    """siteplan.io (read_orlib_scp) depends on the model layer only."""
    code = ("import sys, siteplan.io; bad = [m for m in sys.modules if m.startswith('siteplan.optimize')]; "
            "assert not bad, bad; from siteplan.model import SetCoverProblem as A; "
            "from siteplan.optimize import SetCoverProblem as B; "
            "from siteplan.optimize.setcover.problem import SetCoverProblem as C; assert A is B is C")
    p = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                       env={"PYTHONPATH": str(ROOT / "src"), "PATH": ""}, timeout=120)
    assert p.returncode == 0, p.stderr[-2000:]
