"""The backend-neutral MILP spec and the solver adapters (HiGHS, CBC)."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from naive_setcover import brute_force_milp
from siteplan.exceptions import ModelError
from siteplan.optimize import MilpBuilder, SolveStatus, solve_milp
from siteplan.optimize.backends import available_solvers, check_result

SOLVERS = ["highs", "cbc", "highs+cbc"]


def test_both_backends_available():
    assert set(SOLVERS) <= set(available_solvers())


def _dense_to_builder(c, a, lo, up, clo, cup, sense):
    b = MilpBuilder(sense)
    x = b.add_columns("x", len(c), cost=c, lower=clo, upper=cup, integer=True)
    a = np.asarray(a, dtype=float)
    ptr = np.concatenate([[0], np.cumsum((a != 0).sum(axis=1))])
    idx = np.concatenate([np.flatnonzero(r) for r in a]) if a.size else np.zeros(0, int)
    val = a[a != 0]
    b.add_rows("rows", ptr, x.index(idx), val, lower=lo, upper=up)
    return b.build()


@st.composite
def small_milps(draw):
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    n = draw(st.integers(1, 4))
    m = draw(st.integers(0, 3))
    c = rng.integers(-5, 6, size=n).astype(float)
    a = rng.integers(-3, 4, size=(m, n)).astype(float)
    lo = np.where(rng.random(m) < 0.5, -np.inf, rng.integers(-4, 5, size=m))
    up = np.where(np.isinf(lo) | (rng.random(m) < 0.5), rng.integers(0, 9, size=m), np.inf)
    up = np.maximum(up, np.where(np.isinf(lo), -np.inf, lo))
    clo = rng.integers(-1, 1, size=n).astype(float)
    cup = clo + rng.integers(0, 3, size=n)
    sense = draw(st.sampled_from(["min", "max"]))
    return c, a, lo, up, clo, cup, sense


@pytest.mark.parametrize("solver", SOLVERS)
@given(case=small_milps())
@settings(max_examples=15, deadline=None)
def test_small_integer_programs_match_enumeration(solver, case):
    c, a, lo, up, clo, cup, sense = case
    spec = _dense_to_builder(c, a, lo, up, clo, cup, sense)
    best = brute_force_milp(c, a, lo, up, clo, cup, sense)
    res = solve_milp(spec, solver)
    if best is None:
        assert res.status == SolveStatus.INFEASIBLE
        assert res.x is None
    else:
        assert res.status == SolveStatus.OPTIMAL, res.message
        assert res.objective == pytest.approx(best)
        assert res.bound == pytest.approx(best)
        assert res.gap == 0.0
        assert spec.max_violation(res.x) <= 1e-6
        assert res.solver == solver and res.solver_version


@pytest.mark.parametrize("emphasis", ["balanced", "bound"])
@pytest.mark.parametrize("solver", SOLVERS)
def test_warm_start_and_families(solver, emphasis):
    # x in {0,1}^3, y continuous: max 3x0 + 2x1 + 4x2 + y, x0+x1+x2 <= 2 (family "pick"), y <= x0 (family "link")
    b = MilpBuilder("max")
    x = b.add_columns("x", 3, cost=[3, 2, 4], upper=1, integer=True)
    y = b.add_columns("y", 1, cost=1.0, upper=1.0)
    b.add_rows("pick", [0, 3], x.index([0, 1, 2]), [1, 1, 1], upper=2)
    b.add_rows("link", [0, 2], [y.start, x.start], [1, -1], upper=0)
    spec = b.build()
    assert [blk.name for blk in spec.row_blocks] == ["pick", "link"]
    res = solve_milp(spec, solver, warm_start=np.array([0, 1, 0, 0.0]), time_limit=30, threads=1, emphasis=emphasis)
    assert res.status == SolveStatus.OPTIMAL
    assert res.objective == pytest.approx(8.0)  # x0 = x2 = 1, y = 1
    assert res.x[spec.block("x").start:spec.block("x").stop].tolist() == [1, 0, 1]


def test_check_result_never_trusts_a_claimed_solution():
    b = MilpBuilder("min")
    x = b.add_columns("x", 2, cost=[1, 1], upper=1, integer=True)
    b.add_rows("cover", [0, 2], x.index([0, 1]), [1, 1], lower=1)
    spec = b.build()
    # the "solution" of an LP-relaxation reported after a time limit (CBC trap): infeasible
    r = check_result(spec, np.array([0.0, 0.0]), SolveStatus.FEASIBLE, 0.5, 1.0, "cbc", "x", "Stopped on time", 0.0)
    assert r.status == SolveStatus.TIME_LIMIT_NO_SOLUTION and r.x is None
    r = check_result(spec, np.array([0.3, 0.3]), SolveStatus.OPTIMAL, 0.6, 1.0, "cbc", "x", "Optimal", 0.0)
    assert r.status == SolveStatus.ERROR
    # "optimal" with a bound far away is only feasible, and the gap is reported
    r = check_result(spec, np.array([1.0, 1.0]), SolveStatus.OPTIMAL, 1.0, 1.0, "highs", "x", "Optimal", 0.0)
    assert r.status == SolveStatus.FEASIBLE
    assert r.gap == pytest.approx(0.5)
    # a bound past the objective is clipped
    r = check_result(spec, np.array([1.0, 0.0]), SolveStatus.OPTIMAL, 3.0, 1.0, "highs", "x", "Optimal", 0.0)
    assert r.bound == 1.0 and r.status == SolveStatus.OPTIMAL


def test_builder_rejects_bad_input():
    b = MilpBuilder("min")
    b.add_columns("x", 2)
    with pytest.raises(ModelError):
        b.add_columns("x", 1)
    with pytest.raises(ModelError):
        b.add_rows("r", [0, 1], [5], [1.0], lower=0)
    with pytest.raises(ModelError):
        b.add_columns("y", 2, cost=[1, 2, 3])
    with pytest.raises(ModelError):
        MilpBuilder("maximise")
    with pytest.raises(ModelError):
        solve_milp(b.build(), "glpk")
    with pytest.raises(ModelError):
        solve_milp(b.build(), "highs", warm_start=np.zeros(5))
    with pytest.raises(ModelError):
        solve_milp(b.build(), "highs", emphasis="fast")


@pytest.mark.parametrize("solver", SOLVERS)
def test_time_limit_is_honoured_on_a_hard_model(solver):
    # random unicost set cover, 300 x 600: not provable in 1 s on two cores
    rng = np.random.default_rng(1)
    m, n = 300, 600
    a = rng.random((m, n)) < 0.03
    a[np.arange(m), rng.integers(0, n, m)] = True
    b = MilpBuilder("min")
    x = b.add_columns("x", n, cost=1.0, upper=1.0, integer=True)
    ptr = np.concatenate([[0], np.cumsum(a.sum(axis=1))])
    b.add_rows("cover", ptr, x.index(np.nonzero(a)[1]), np.ones(a.sum()), lower=1)
    res = solve_milp(b.build(), solver, time_limit=1.0, threads=1)
    assert res.seconds < 1.0 * 1.1 + 5.0  # the watchdog bound
    assert res.status in (SolveStatus.FEASIBLE, SolveStatus.OPTIMAL, SolveStatus.TIME_LIMIT_NO_SOLUTION)
    if res.status.has_solution:
        assert res.bound <= res.objective + 1e-9
        assert math.isfinite(res.gap)


def _hard_cover_spec(m=300, n=600, seed=1):
    rng = np.random.default_rng(seed)
    a = rng.random((m, n)) < 0.03
    a[np.arange(m), rng.integers(0, n, m)] = True
    b = MilpBuilder("min")
    x = b.add_columns("x", n, cost=1.0, upper=1.0, integer=True)
    ptr = np.concatenate([[0], np.cumsum(a.sum(axis=1))])
    b.add_rows("cover", ptr, x.index(np.nonzero(a)[1]), np.ones(a.sum()), lower=1)
    return b.build()


@pytest.mark.parametrize("solver", SOLVERS)
def test_watchdog_stops_an_overrunning_solver(solver, monkeypatch):
    import siteplan.optimize.backends as backends

    # make the watchdog fire after 0.3 s while the solver's own limit is 30 s
    monkeypatch.setattr(backends, "WATCHDOG_FACTOR", 0.01)
    monkeypatch.setattr(backends, "WATCHDOG_GRACE_S", 0.0)
    res = solve_milp(_hard_cover_spec(), solver, time_limit=30.0, threads=1)
    assert res.seconds < 10.0
    assert "watchdog" in res.message
    assert res.status in (SolveStatus.FEASIBLE, SolveStatus.TIME_LIMIT_NO_SOLUTION)
    if res.status == SolveStatus.FEASIBLE:
        assert res.gap > 0 and res.bound <= res.objective


def test_cbc_stopped_on_time_with_lp_values_is_not_a_solution(monkeypatch):
    """CBC trap: stopped on time without an integer solution, the solution file holds LP values."""
    from siteplan.optimize.backends import cbc as cbc_mod

    b = MilpBuilder("min")
    x = b.add_columns("x", 2, cost=[1, 1], upper=1, integer=True)
    b.add_rows("cover", [0, 2], x.index([0, 1]), [1, 1], lower=1)
    spec = b.build()

    class FakePopen:
        """Stands in for the CBC process: writes what CBC writes when stopped on time."""

        def __init__(self, cmd, **kw):
            out = cmd[cmd.index("-solu") + 1]
            with open(out, "w") as fh:
                fh.write("Stopped on time - objective value 0.50000000\n")
                fh.write("      0 C0                   0.5                       0\n")
                fh.write("      1 C1                     0                       0\n")
            self.returncode = 0

        def communicate(self, timeout=None):
            return ("Result - Stopped on time limit\n\nObjective value:                1e+50\n"
                    "Lower bound:                    0.5\nNo feasible solution found\n", None)

        def kill(self):
            pass

    monkeypatch.setattr(cbc_mod.subprocess, "Popen", FakePopen)
    res = solve_milp(spec, "cbc", time_limit=5)
    assert res.status == SolveStatus.TIME_LIMIT_NO_SOLUTION
    assert res.x is None and math.isnan(res.objective)
    assert res.bound == pytest.approx(0.5)


def test_race_stops_the_slower_solver_and_leaves_nothing_running():
    """"highs+cbc": the first proof wins, the other solver is stopped (no thread or CBC
    process left behind) and the answer is HiGHS's own optimum (the small brute-force
    checks of every backend, this one included, are parametrised above)."""
    import threading

    rng = np.random.default_rng(4)
    m, n = 30, 60
    a = (rng.random((m, n)) < 0.15).astype(float)
    a[:, 0] = 1.0  # always feasible
    c = rng.integers(1, 20, size=n).astype(float)
    b = MilpBuilder("min")
    x = b.add_columns("x", n, cost=c, upper=1, integer=True)
    rows, cols = np.nonzero(a)
    ptr = np.zeros(m + 1, np.int64)
    np.cumsum(np.bincount(rows, minlength=m), out=ptr[1:])
    b.add_rows("cover", ptr, x.index(cols), np.ones(cols.size), lower=1)
    spec = b.build()
    res = solve_milp(spec, "highs+cbc", time_limit=30)
    ref = solve_milp(spec, "highs", time_limit=30)
    assert res.status == SolveStatus.OPTIMAL and ref.status == SolveStatus.OPTIMAL
    assert res.objective == pytest.approx(ref.objective)
    assert res.message.startswith(("highs first", "cbc first"))
    assert res.solver == "highs+cbc"
    assert not [t for t in threading.enumerate() if t.name == "siteplan-cbc-race"]
