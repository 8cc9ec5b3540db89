"""Plain-array inputs of the siting model, extracted once from a scenario and its coverage.

The siting model itself (:mod:`siteplan.siting.model`) works on :class:`SitingInputs`
only: arrays and scalars, no scenario objects. This keeps it testable on hand-made
instances and lets the brute-force twin in the tests read the very same inputs.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import scipy.sparse as sp

from siteplan.exceptions import ModelError
from siteplan.model.scenario import Scenario

__all__ = ["SitingInputs", "SitingWeights", "Target", "siting_inputs"]


@dataclass(frozen=True)
class SitingWeights:
    """Objective weights (documented defaults; see docs/siting-model.md).

    unserved_cny_per_mbps : penalty per Mbit/s of busy-hour traffic left unserved in a
        phase [CNY/(Mbit/s)].
    poor_early_cny_per_person : reward per person of a poor village covered in a phase
        before its target is due [CNY/person] (earlier coverage of poor villages preferred).
    server_candidates : how many best servers per demand point and operator may carry its
        traffic in the capacity model [-].
    """

    unserved_cny_per_mbps: float = 2_000.0
    poor_early_cny_per_person: float = 20.0
    server_candidates: int = 4


@dataclass(frozen=True)
class Target:
    """Coverage target: villages ``villages`` (indices) reach ``share`` by phase ``phase``;
    ``operator`` is None for "any operator", else the operator index that must serve."""

    phase: int
    villages: np.ndarray
    share: float
    operator: int | None
    label: str
    exclude: np.ndarray | None = None   # bool per point: excluded (uncoverable, policy "exclude")


@dataclass(frozen=True, eq=False)
class SitingInputs:
    """Everything the siting MILP needs, as arrays.

    n_sites, n_ops, n_phases, n_points : sizes.
    cover : per operator, a CSR bool matrix points x sites: True when a station of the
        operator at the site serves the point at or above its threshold.
    rsrp : per operator, the CSR RSRP matrix [dBm] behind ``cover`` (for best-server
        ranking in the capacity model).
    existing : bool per site; tenants : bool (n_sites, n_ops) current stations.
    max_tenants : int per site; build_cost [CNY] per site; station_cost [CNY] per operator;
    colocation_cost [CNY] (extra for a new station on an existing site).
    point_village : village index per demand point; point_weight : weight [-] (sums to 1
        per village); traffic : busy-hour traffic per point and operator [Mbit/s]
        (n_points, n_ops); capacity : per operator station capacity [Mbit/s].
    village_population [persons]; village_poor : bool.
    quotas_sites, quotas_stations : (n_phases, 2) [min, max] (max = -1: no upper bound).
    budgets : per phase [CNY] (inf = none); discount : per phase factor [-].
    targets : hard coverage targets.
    """

    n_sites: int
    n_ops: int
    n_phases: int
    n_points: int
    cover: tuple
    rsrp: tuple
    existing: np.ndarray
    tenants: np.ndarray
    max_tenants: np.ndarray
    build_cost: np.ndarray
    station_cost: np.ndarray
    colocation_cost: float
    point_village: np.ndarray
    point_weight: np.ndarray
    traffic: np.ndarray
    capacity: np.ndarray
    village_population: np.ndarray
    village_poor: np.ndarray
    quotas_sites: np.ndarray
    quotas_stations: np.ndarray
    budgets: np.ndarray
    discount: np.ndarray
    targets: tuple[Target, ...]
    weights: SitingWeights = field(default_factory=SitingWeights)
    phase_names: tuple[str, ...] = ()
    operator_names: tuple[str, ...] = ()
    uncoverable: str = "fail"              # "fail" | "exclude" (manifest [siting] uncoverable)
    village_ids: tuple[str, ...] = ()
    village_names: tuple[str, ...] = ()
    site_ids: tuple[str, ...] = ()
    site_xy: np.ndarray | None = None      # (n_sites, 2) local coordinates [m] (neighbourhood search)

    @property
    def n_villages(self) -> int:
        return int(self.village_population.shape[0])

    def cover_any(self) -> sp.csr_matrix:
        """Points x sites: True when *some* operator's station at the site would serve the point."""
        acc = self.cover[0].astype(bool)
        for m in self.cover[1:]:
            acc = acc + m.astype(bool)
        return sp.csr_matrix(acc, dtype=bool)


def _quota(q) -> tuple[int, int]:
    return (0, -1) if q is None else (int(q.min), int(q.max))


def siting_inputs(scenario: Scenario, coverage, weights: SitingWeights | None = None) -> SitingInputs:
    """Extract :class:`SitingInputs` from a scenario and its coverage matrices.

    ``coverage`` must provide, per operator name, a CSR matrix points x sites of RSRP
    [dBm] holding the pairs at or above the operator's threshold, through
    ``coverage.matrix(name)`` (a :class:`siteplan.coverage.CoverageMatrix`) or a mapping
    ``{name: csr}``.
    """
    m = scenario.manifest
    weights = weights or SitingWeights(unserved_cny_per_mbps=m.siting.unserved_cny_per_mbps,
                                       poor_early_cny_per_person=m.siting.poor_early_cny_per_person,
                                       server_candidates=m.siting.server_candidates)
    ops = scenario.operators
    n_s = len(scenario.sites)
    n_d = len(scenario.demand)
    cover, rsrp = [], []
    for o in ops:
        mat = coverage.matrix(o.name) if hasattr(coverage, "matrix") else coverage[o.name]
        mat = sp.csr_matrix(mat)
        if mat.shape != (n_d, n_s):
            raise ModelError(f"coverage of {o.name!r} has shape {mat.shape}, expected (points, sites) = {(n_d, n_s)}")
        mat.sort_indices()
        rsrp.append(mat)
        c = mat.copy()
        c.data = (mat.data >= o.threshold_dbm)
        c.eliminate_zeros()
        cover.append(sp.csr_matrix(c, dtype=bool))
    v = scenario.villages
    d = scenario.demand
    # busy-hour traffic [Mbit/s] per point, split evenly across operators (no market-share data)
    rural = v.rural
    kbps = np.where(rural, m.traffic.busy_hour_kbps_per_person["rural"], m.traffic.busy_hour_kbps_per_person["urban"])
    point_traffic = v.population[d.village] * d.weight * kbps[d.village] / 1000.0
    traffic = np.repeat(point_traffic[:, None] / len(ops), len(ops), axis=1)
    targets = []
    for p, ph in enumerate(m.phases):
        for t in ph.targets:
            if t.kind != "coverage":
                continue
            sel = np.flatnonzero(scenario.villages_selected(t.villages))
            if t.operators == "any":
                targets.append(Target(p, sel, t.share, None, f"{ph.name}: {t.villages} villages covered"))
            else:
                for k, o in enumerate(ops):
                    targets.append(Target(p, sel, t.share, k, f"{ph.name}: {t.villages} villages covered by {o.name}"))
    P = len(m.phases)
    discount = 1.0 / (1.0 + m.costs.discount_rate) ** np.arange(P)
    return SitingInputs(
        n_sites=n_s, n_ops=len(ops), n_phases=P, n_points=n_d,
        cover=tuple(cover), rsrp=tuple(rsrp),
        existing=np.asarray(scenario.sites.existing, dtype=bool),
        tenants=np.asarray(scenario.sites.tenants, dtype=bool),
        max_tenants=np.asarray(scenario.sites.max_tenants, dtype=np.int64),
        build_cost=np.asarray(scenario.sites.build_cost, dtype=float),
        station_cost=np.array([o.station_cost for o in ops], dtype=float),
        colocation_cost=float(m.costs.colocation_cny),
        point_village=np.asarray(d.village, dtype=np.int64),
        point_weight=np.asarray(d.weight, dtype=float),
        traffic=traffic,
        capacity=np.array([o.capacity_mbps for o in ops], dtype=float),
        village_population=np.asarray(v.population, dtype=float),
        village_poor=np.asarray(v.poor, dtype=bool),
        quotas_sites=np.array([_quota(ph.new_sites) for ph in m.phases], dtype=np.int64).reshape(P, 2),
        quotas_stations=np.array([_quota(ph.new_stations) for ph in m.phases], dtype=np.int64).reshape(P, 2),
        budgets=np.array([np.inf if ph.budget_cny is None else ph.budget_cny for ph in m.phases], dtype=float),
        discount=discount,
        targets=tuple(targets),
        weights=weights,
        phase_names=tuple(ph.name for ph in m.phases),
        operator_names=tuple(o.name for o in ops),
        uncoverable=m.siting.uncoverable,
        village_ids=tuple(str(x) for x in v.id),
        village_names=tuple(str(x) for x in v.name),
        site_ids=tuple(str(x) for x in scenario.sites.id),
        site_xy=np.column_stack([np.asarray(scenario.sites.x_m, dtype=float),
                                 np.asarray(scenario.sites.y_m, dtype=float)]),
    )
