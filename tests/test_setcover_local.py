"""Row-weighting local search (siteplan.optimize.setcover.local) against naive twins.

References: brute-force enumeration (tests/naive_setcover.py) for the optimum; the search
state (cover counts, scores, short-row and selected-column lists) recomputed from scratch
in plain Python after every slice of iterations.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from naive_setcover import brute_force_set_cover, coverage, covers, random_instance
from siteplan.optimize import SetCoverProblem, solve_set_cover
from siteplan.optimize.setcover import local, reduce_problem
from siteplan.optimize.setcover import solve as solve_mod
from siteplan.optimize.setcover._local_kernels import (
    BEST,
    COST,
    IMPROVED,
    ITER,
    N_SEL,
    N_UNC,
    RAN_OUT,
    _local_search_kernel,
)
from siteplan.optimize.setcover.lagrangian import greedy_cover, initial_multipliers

ROOT = Path(__file__).resolve().parents[1]
HYP = settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _instance(rng, m, n, density, multicover):
    cols, costs = random_instance(rng, m, n, density)
    cols.append(list(range(m)))
    costs = np.append(costs, 10.0 * m)
    kw = {}
    if multicover:
        cols.append(list(range(m)))
        costs = np.append(costs, 10.0 * m)
        kw["demand"] = rng.integers(1, 3, size=m)
    return SetCoverProblem.from_columns(m, cols, costs, **kw)


def _full_cover(red) -> np.ndarray:
    """Every column: a cover whenever the problem is feasible."""
    return np.ones(red.n_cols, np.uint8)


def _run_kernel(red, s: local._State, bx, n: int, tenure: int) -> None:
    """Exactly ``n`` more iterations (the kernel returns early after each better cover)."""
    end = int(s.ist[ITER]) + n
    while s.ist[ITER] < end:
        code = _local_search_kernel(red.col_ptr, red.col_rows, red.row_ptr, red.row_cols, red.costs, red.need,
                                    s.x, bx, s.cov, s.w, s.score, s.unc, s.unc_pos, s.sel, s.sel_pos, s.stamp,
                                    s.conf, s.ist, s.fst, end - int(s.ist[ITER]), -np.inf, tenure, 1 << 40, 1e-9)
        assert code in (RAN_OUT, IMPROVED)


def _check_state(red, s: local._State) -> None:
    """The kernel's incremental arrays equal a from-scratch recomputation."""
    x = s.x.astype(bool)
    cov = coverage(red, x)
    assert np.array_equal(cov, s.cov)
    short = set(np.flatnonzero(cov < red.need).tolist())
    n_unc = int(s.ist[N_UNC])
    assert set(s.unc[:n_unc].tolist()) == short and n_unc == len(short)
    for t in range(n_unc):
        assert s.unc_pos[s.unc[t]] == t
    assert np.all(s.unc_pos[[i for i in range(red.n_rows) if i not in short]] == -1)
    n_sel = int(s.ist[N_SEL])
    assert sorted(s.sel[:n_sel].tolist()) == np.flatnonzero(x).tolist()
    for t in range(n_sel):
        assert s.sel_pos[s.sel[t]] == t
    assert s.fst[COST] == pytest.approx(float(red.costs[x].sum()))
    for j in range(red.n_cols):
        rows = red.col_rows[red.col_ptr[j]:red.col_ptr[j + 1]]
        if x[j]:
            want = s.w[rows][cov[rows] <= red.need[rows]].sum()   # rows short without j
        else:
            want = s.w[rows][cov[rows] < red.need[rows]].sum()    # rows j would help
        assert s.score[j] == pytest.approx(want), j


@pytest.mark.parametrize("multicover", [False, True])
def test_incremental_state_matches_recomputation(multicover):
    rng = np.random.default_rng(5 + multicover)
    checked = 0
    for _ in range(12):
        problem = _instance(rng, int(rng.integers(6, 14)), int(rng.integers(8, 20)), 0.3, multicover)
        red = reduce_problem(problem, dominance=False)
        if red.infeasible is not None or red.n_rows == 0:
            continue
        s = local._State(red.n_rows, red.n_cols)
        x0 = _full_cover(red)
        s.reset(red, x0, seed=3)
        _check_state(red, s)
        bx = x0.copy()
        for _ in range(15):
            _run_kernel(red, s, bx, 7, 3)
            _check_state(red, s)
            # the recorded best is a cover of the recorded cost
            assert covers(red, bx) and float(red.costs[bx.astype(bool)].sum()) == pytest.approx(s.fst[BEST])
        checked += 1
    assert checked >= 8


@st.composite
def small_problems(draw):
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    return _instance(rng, draw(st.integers(2, 9)), draw(st.integers(3, 12)), draw(st.sampled_from([0.25, 0.4, 0.6])),
                     draw(st.booleans()))


@HYP
@given(small_problems(), st.integers(0, 5))
def test_cover_feasible_not_below_optimum_not_above_start(problem, seed):
    red = reduce_problem(problem, dominance=False)
    if red.infeasible is not None or red.n_rows == 0:
        return
    opt, _ = brute_force_set_cover(problem)
    x0 = _full_cover(red)
    out = local.row_weighting_search(red, x0, seed=seed, max_iterations=500, max_stale=3, patience=100)
    assert covers(red, out.x)
    assert out.cost == pytest.approx(float(red.costs[out.x.astype(bool)].sum()))
    assert out.cost + red.forced_cost >= opt - 1e-9
    assert out.cost <= float(red.costs.sum()) + 1e-9


def test_reaches_brute_force_optimum_on_small_instances():
    # 60 random instances (demand 1 and 2), greedy start; the search must find the
    # enumerated optimum on every one within 3,000 iterations
    rng = np.random.default_rng(2026)
    done = missed = 0
    for k in range(60):
        problem = _instance(rng, int(rng.integers(6, 12)), int(rng.integers(10, 16)), 0.3, k % 2 == 1)
        red = reduce_problem(problem, dominance=False)
        if red.infeasible is not None or red.n_rows == 0:
            continue
        opt, _ = brute_force_set_cover(problem)
        out = local.row_weighting_search(red, _full_cover(red), seed=k, max_iterations=3000, max_stale=None,
                                         patience=300)
        done += 1
        missed += out.cost + red.forced_cost > opt + 1e-9
    assert done >= 40 and missed == 0, (done, missed)


def test_target_stops_at_optimum_and_alive_mask_is_respected():
    rng = np.random.default_rng(17)
    tested = 0
    for _ in range(30):
        problem = _instance(rng, 10, 16, 0.3, False)
        red = reduce_problem(problem, dominance=False)
        if red.infeasible is not None or red.n_rows < 3:
            continue
        opt, _ = brute_force_set_cover(problem)
        out = local.row_weighting_search(red, _full_cover(red), seed=1, target=opt - red.forced_cost,
                                         max_iterations=20_000, max_stale=None)
        assert out.reached_target and out.cost + red.forced_cost == pytest.approx(opt)
        # only the start's columns and the alive ones can be used
        start = greedy_cover(red, initial_multipliers(red))
        alive = (rng.random(red.n_cols) < 0.5).astype(np.uint8)
        out = local.row_weighting_search(red, start, alive=alive, seed=2, max_iterations=2000, max_stale=None)
        used = np.flatnonzero(out.x)
        assert np.all(alive[used] | start[used]) and covers(red, out.x)
        assert out.cost <= float(red.costs[start.astype(bool)].sum()) + 1e-9
        tested += 1
    assert tested >= 10


def test_deterministic_for_a_seed_and_sliced_runs_resume_exactly():
    rng = np.random.default_rng(3)
    problem = _instance(rng, 40, 120, 0.08, True)
    red = reduce_problem(problem, dominance=False)
    x0 = greedy_cover(red, initial_multipliers(red))
    a = local.row_weighting_search(red, x0, seed=4, max_iterations=5000, max_stale=None)
    b = local.row_weighting_search(red, x0, seed=4, max_iterations=5000, max_stale=None)
    assert np.array_equal(a.x, b.x) and a.iterations == b.iterations == 5000
    # one kernel call of 3,000 iterations = 30 calls of 100
    states = []
    for slices in ((3000,), (100,) * 30):
        s = local._State(red.n_rows, red.n_cols)
        s.reset(red, x0, seed=9)
        bx = x0.copy()
        for n in slices:
            _run_kernel(red, s, bx, n, 10)
        states.append((s.x.copy(), s.w.copy(), s.ist.copy(), bx))
    for u, v in zip(*states):
        assert np.array_equal(u, v)


def test_rejects_a_start_that_is_not_a_cover():
    problem = SetCoverProblem.from_columns(3, [[0], [1], [2], [0, 1, 2]], [1.0, 1.0, 1.0, 2.5])
    red = reduce_problem(problem, dominance=False)
    with pytest.raises(ValueError, match="cover"):
        local.row_weighting_search(red, np.zeros(red.n_cols, np.uint8), max_iterations=10)


def test_time_limit_honoured():
    rng = np.random.default_rng(8)
    problem = _instance(rng, 200, 2000, 0.03, False)
    red = reduce_problem(problem, dominance=False)
    x0 = greedy_cover(red, initial_multipliers(red))
    local.row_weighting_search(red, x0, seed=0, max_iterations=50)  # compiled outside the timing
    out = local.row_weighting_search(red, x0, seed=0, time_limit=0.5, max_stale=None, patience=1 << 40)
    assert 0.4 <= out.seconds < 1.5 and covers(red, out.x)


@pytest.mark.parametrize("method", ["lagrangian", "auto"])
def test_solver_methods_with_local_search_stay_exact(method, monkeypatch):
    # make the local phase do the work: the Lagrangian heuristics hand over the cover of
    # every column, and "auto" runs the phase on every model size
    def weak(real):
        def run(red, **kw):
            out = real(red, **kw)
            if out.x is not None:
                out.x = np.ones(red.n_cols, np.uint8)
                out.cost = float(red.costs.sum())
                out.proven = False
            return out
        return run

    monkeypatch.setattr(solve_mod, "cft_search", weak(solve_mod.cft_search))
    monkeypatch.setattr(solve_mod, "lagrangian_search", weak(solve_mod.lagrangian_search))
    monkeypatch.setattr(solve_mod, "CORE_SKIP_NNZ", -1)
    rng = np.random.default_rng(12)
    seen_local = 0
    for k in range(25):
        problem = _instance(rng, 9, 13, 0.3, k % 3 == 0)
        opt, _ = brute_force_set_cover(problem)
        res = solve_set_cover(problem, method=method, seed=k, time_limit=None)
        assert res.columns is not None
        cover = np.zeros(problem.n_cols)
        cover[res.columns] = 1
        cov = np.bincount(problem.col_rows, weights=np.repeat(cover, np.diff(problem.col_ptr)),
                          minlength=problem.n_rows)
        assert np.all(cov >= problem.demand)
        assert res.bound <= opt + 1e-6
        assert res.cost == pytest.approx(opt)
        seen_local += "local_iterations" in res.stats
    assert seen_local >= 10, seen_local


def test_kernels_match_in_plain_python():
    """NUMBA_DISABLE_JIT=1: the kernels run as Python (the xorshift generator included)
    and give the same covers as the compiled ones."""
    script = r'''
import numpy as np
from naive_setcover import random_instance
from siteplan.optimize import SetCoverProblem
from siteplan.optimize.setcover import reduce_problem
from siteplan.optimize.setcover.local import row_weighting_search
rng = np.random.default_rng(21)
out = []
for k in range(6):
    cols, costs = random_instance(rng, 12, 30, 0.2)
    cols.append(list(range(12)))
    costs = np.append(costs, 120.0)
    red = reduce_problem(SetCoverProblem.from_columns(12, cols, costs), dominance=False)
    if red.n_rows == 0:
        continue
    r = row_weighting_search(red, np.ones(red.n_cols, np.uint8), seed=k, max_iterations=400, max_stale=None)
    out.append(",".join(map(str, np.flatnonzero(r.x))) + ":" + str(r.iterations))
print("|".join(out))
'''
    runs = []
    for jit in ("0", "1"):
        env = dict(os.environ, NUMBA_DISABLE_JIT=jit,
                   PYTHONPATH=os.pathsep.join([str(ROOT / "src"), str(ROOT / "tests")]))
        res = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=600)
        assert res.returncode == 0, res.stderr[-3000:]
        runs.append(res.stdout.strip())
    assert runs[0] == runs[1] and runs[0].count("|") >= 3
