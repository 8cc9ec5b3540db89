"""Lagrangian branch-and-bound (siteplan.optimize.setcover.branch) against brute-force
enumeration (tests/naive_setcover.py) and OR-Library published optima."""

from __future__ import annotations

import math
import os
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from naive_setcover import brute_force_set_cover, random_instance
from orlib_data import ORLIB, known_values, need_orlib
from siteplan.exceptions import ModelError
from siteplan.optimize import SetCoverProblem, SolveStatus, solve_set_cover
from siteplan.optimize.setcover import reduce_problem, solve
from siteplan.optimize.setcover.branch import branch_and_bound
from siteplan.optimize.setcover.lagrangian import (
    greedy_cover,
    improve_cover,
    initial_multipliers,
    lagrangian_search,
    reduced_cost_fixing,
)

ROOT = Path(__file__).resolve().parents[1]


def _known():
    return {name: value for name, (value, status) in known_values().items() if status == "optimal"}


@st.composite
def unicover_instances(draw):
    """Small set-cover instances (all demands 1), integral or fractional costs."""
    seed = draw(st.integers(0, 2**32 - 1))
    m = draw(st.integers(1, 9))
    n = draw(st.integers(2, 13))
    rng = np.random.default_rng(seed)
    cols, costs = random_instance(rng, m, n, draw(st.sampled_from([0.2, 0.35, 0.5])))
    if draw(st.booleans()):
        costs = costs + rng.random(n).round(3)
    return SetCoverProblem.from_columns(m, cols, costs), draw(st.sampled_from(["greedy", "all"])), seed


@given(case=unicover_instances())
@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_branch_and_bound_matches_brute_force(case):
    """Exhausted tree -> the cover is optimal (brute force on the reduced problem), from a
    greedy start or from a start that takes every column; with and without reduced-cost
    fixing; the root bound never exceeds the optimum."""
    problem, start, seed = case
    red = reduce_problem(problem, dominance=False)
    if red.infeasible is not None or red.n_rows == 0:
        return
    reduced = SetCoverProblem(red.n_rows, red.col_ptr, red.col_rows, red.costs)
    opt, _ = brute_force_set_cover(reduced)
    u = initial_multipliers(red)
    if start == "greedy":
        x = greedy_cover(red, u)
        assert x is not None
    else:
        x = np.ones(red.n_cols, np.uint8)
    for fixing in (False, True):
        kw = {}
        if fixing:
            keep, fix_one, _ = reduced_cost_fixing(red, u, x)
            kw = {"keep": keep, "fix_one": fix_one}
        out = branch_and_bound(red, u, x, **kw)
        assert out.exhausted
        assert reduced.is_feasible(np.flatnonzero(out.x))
        assert out.cost == pytest.approx(float(red.costs[out.x.astype(bool)].sum()))
        assert out.cost == pytest.approx(opt, abs=1e-6)
        if math.isfinite(out.root_bound):
            assert out.root_bound <= opt + 1e-6


def test_limits_stop_the_search_and_say_so():
    """A node cap of 1 or a zero time limit on an instance the root cannot settle: not
    exhausted, the start cover (or a better one) comes back, still feasible; with no cap
    the same tree is exhausted at the value a plain MILP proves."""
    rng = np.random.default_rng(7)
    cols, costs = random_instance(rng, 80, 200, 0.06, max_cost=1)  # unicost: a weak bound, a real tree
    cols = [c if c else [int(rng.integers(80))] for c in cols]
    problem = SetCoverProblem.from_columns(80, cols, costs)
    red = reduce_problem(problem, dominance=False)
    x = improve_cover(red, greedy_cover(red, initial_multipliers(red)))
    start = float(red.costs[x.astype(bool)].sum())
    u = np.zeros(red.n_rows)  # a weak root bound: the tree must branch
    full = branch_and_bound(red, u, x)
    assert full.exhausted and full.nodes > 64
    milp = solve_set_cover(problem, method="exact")
    assert milp.status == SolveStatus.OPTIMAL
    assert full.cost + red.forced_cost == pytest.approx(milp.cost)
    for kw in ({"max_nodes": 1}, {"time_limit": 0.0}):
        out = branch_and_bound(red, u, x, **kw)
        assert not out.exhausted
        assert out.cost <= start
        reduced = SetCoverProblem(red.n_rows, red.col_ptr, red.col_rows, red.costs)
        assert reduced.is_feasible(np.flatnonzero(out.x))


def test_rejects_multicover_and_bad_incumbent():
    problem = SetCoverProblem.from_columns(2, [[0, 1], [0, 1], [0, 1], [0]], np.array([3.0, 2.0, 4.0, 1.0]),
                                           demand=np.array([2, 1]))
    red = reduce_problem(problem, dominance=False)
    with pytest.raises(ModelError, match="demands of 1"):
        branch_and_bound(red, np.zeros(red.n_rows), np.ones(red.n_cols, np.uint8))
    problem = SetCoverProblem.from_columns(2, [[0, 1], [0], [1], [0, 1]], np.array([3.0, 1.0, 1.0, 4.0]))
    red = reduce_problem(problem, dominance=False)
    with pytest.raises(ModelError, match="entries"):
        branch_and_bound(red, np.zeros(red.n_rows), np.ones(red.n_cols + 1, np.uint8))
    keep = np.ones(red.n_cols, bool)
    keep[0] = False
    with pytest.raises(ModelError, match="not kept"):
        branch_and_bound(red, np.zeros(red.n_rows), np.ones(red.n_cols, np.uint8), keep=keep)


@need_orlib
@pytest.mark.parametrize("name", ["scp41", "scp45", "scp48", "scp410"])
def test_published_optimum_proven_by_the_tree(name):
    """OR-Library group 4 (Beasley 1990, optima listed in tests/data/orlib_scp_known.csv):
    the tree alone, from a short Lagrangian phase and without reduced-cost fixing, proves
    the published optimum."""
    from siteplan.io import read_orlib_scp

    red = reduce_problem(read_orlib_scp(ORLIB / f"{name}.txt"), dominance=True)
    search = lagrangian_search(red, time_limit=None, seed=0, max_rounds=1)
    out = branch_and_bound(red, search.u, search.x, time_limit=60)
    assert out.exhausted
    assert out.cost + red.forced_cost == _known()[name]


def test_auto_proves_through_the_tree_when_the_lagrangian_gap_stays_open(monkeypatch):
    """The exact phase of "auto" runs the tree first and reports a proven optimum equal to
    the plain MILP's (HiGHS) on instances the Lagrangian phase cannot close; with the tree
    given no time the MILP still proves it."""
    rng = np.random.default_rng(3)
    checked = 0
    for _ in range(30):
        cols, costs = random_instance(rng, 60, 150, 0.07, max_cost=2)
        cols = [c if c else [int(rng.integers(60))] for c in cols]
        problem = SetCoverProblem.from_columns(60, cols, costs)
        ref = solve_set_cover(problem, method="exact")
        res = solve_set_cover(problem, method="auto", time_limit=60)
        assert res.status == SolveStatus.OPTIMAL and res.cost == ref.cost and res.lower_bound == ref.cost
        if "bb_nodes" in res.stats:
            assert res.stats["bb_exhausted"] and "branch-and-bound" in res.solver
            checked += 1
            monkeypatch.setattr(solve, "BRANCH_SHARE", 0.0)
            res0 = solve_set_cover(problem, method="auto", time_limit=60)
            monkeypatch.setattr(solve, "BRANCH_SHARE", 0.6)
            assert res0.status == SolveStatus.OPTIMAL and res0.cost == ref.cost
            assert res0.stats["bb_exhausted"] is False and "highs" in res0.solver
        if checked >= 3:
            break
    assert checked >= 3


def test_kernels_as_plain_python_match_brute_force():
    """The branch-and-bound kernels run as plain Python (NUMBA_DISABLE_JIT=1, the clock
    read through numba's object-mode block included) and still prove the brute-force
    optimum."""
    import subprocess
    import sys

    script = r'''
import numpy as np
from naive_setcover import brute_force_set_cover, random_instance
from orlib_data import ORLIB, known_values, need_orlib
from siteplan.optimize import SetCoverProblem
from siteplan.optimize.setcover import reduce_problem
from siteplan.optimize.setcover.branch import branch_and_bound
from siteplan.optimize.setcover.lagrangian import greedy_cover, initial_multipliers
rng = np.random.default_rng(11)
done = 0
for _ in range(40):
    cols, costs = random_instance(rng, 8, 12, 0.3)
    red = reduce_problem(SetCoverProblem.from_columns(8, cols, costs), dominance=False)
    if red.infeasible is not None or red.n_rows == 0:
        continue
    opt, _ = brute_force_set_cover(SetCoverProblem(red.n_rows, red.col_ptr, red.col_rows, red.costs))
    out = branch_and_bound(red, np.zeros(red.n_rows), greedy_cover(red, initial_multipliers(red)), time_limit=30)
    assert out.exhausted and abs(out.cost - opt) < 1e-9, (out, opt)
    done += 1
assert done >= 10, done
print("ok")
'''
    env = dict(os.environ, NUMBA_DISABLE_JIT="1",
               PYTHONPATH=os.pathsep.join([str(ROOT / "src"), str(ROOT / "tests")]))
    res = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=300)
    assert res.returncode == 0, res.stderr[-3000:]
    assert res.stdout.strip().endswith("ok")
