"""Scenario parameters: operators, radio, sharing, phases and targets, costs, traffic, fiber.

These are frozen pydantic models: the manifest (``scenario.toml``) is validated into them by
:mod:`siteplan.io.manifest`, and their JSON Schema is published in ``docs/``. Every
numeric field states its unit in its description.
"""

from __future__ import annotations

import datetime as _dt
from typing import Annotated, Literal, Union

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from siteplan.model.tables import FACILITY_KINDS, ROAD_CLASSES

__all__ = [
    "Band",
    "Operator",
    "Radio",
    "Sharing",
    "Quota",
    "to_quota",
    "CoverageTarget",
    "FiberTarget",
    "Phase",
    "Costs",
    "Traffic",
    "CableTier",
    "FiberParams",
    "TerrainSpec",
    "SitingParams",
    "Tables",
    "Manifest",
    "VILLAGE_SELECTORS",
    "PROPAGATION_MODELS",
    "DIFFRACTION_METHODS",
    "HATA_ENVIRONMENTS",
]

VILLAGE_SELECTORS = ("all", "poor", "rural", "urban")
PROPAGATION_MODELS = ("auto", "hata", "cost231", "rma", "free_space")
DIFFRACTION_METHODS = ("bullington", "deygout", "epstein_peterson", "none")
HATA_ENVIRONMENTS = ("urban_small", "urban_large", "suburban", "open")

FacilityKind = Literal["village_committee", "school", "township_government", "agri_base", "ecommerce_hub"]
assert set(FacilityKind.__args__) == set(FACILITY_KINDS)  # noqa: S101 - keep the two lists in step


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Band(_Frozen):
    """One carrier an operator deploys."""

    name: str = Field(min_length=1, description="band label, e.g. 'B39 F'")
    frequency_mhz: float = Field(gt=0, le=100_000, description="carrier centre frequency [MHz]")
    rs_eirp_dbm: float = Field(ge=-20, le=80, description="reference-signal EIRP per port incl. antenna gain [dBm]")


class Operator(_Frozen):
    """A mobile operator, its bands, antenna and coverage rule."""

    name: str = Field(min_length=1, description="operator name, unique in the scenario")
    bands: tuple[Band, ...] = Field(min_length=1, description="bands deployed at every new station")
    threshold_dbm: float = Field(-110.0, ge=-150, le=-40, description="RSRP coverage threshold [dBm]")
    station_cost: float = Field(250_000.0, ge=0, description="cost of one new station [CNY]")
    antenna_height_m: float = Field(35.0, gt=0, le=300, description="antenna mounting height, capped by the site height [m]")
    azimuths_deg: tuple[float, ...] = Field((0.0, 120.0, 240.0), min_length=1, description="sector azimuths [deg]")
    h_beamwidth_deg: float = Field(65.0, gt=0, le=360, description="horizontal 3 dB beamwidth [deg]")
    v_beamwidth_deg: float = Field(10.0, gt=0, le=180, description="vertical 3 dB beamwidth [deg]")
    downtilt_deg: float = Field(4.0, ge=-20, le=45, description="electrical + mechanical downtilt [deg]")
    front_to_back_db: float = Field(25.0, ge=0, le=60, description="front-to-back ratio A_m [dB]")
    capacity_mbps: float = Field(150.0, gt=0, description="busy-hour traffic one station carries [Mbit/s]")

    @field_validator("azimuths_deg")
    @classmethod
    def _azimuths_in_range(cls, v):
        for a in v:
            if not (0.0 <= a < 360.0):
                raise ValueError(f"azimuth must be in [0, 360) degrees, got {a}")
        return v


class Radio(_Frozen):
    """Propagation model and link-budget margins shared by all operators."""

    model: Literal["auto", "hata", "cost231", "rma", "free_space"] = Field(
        "auto", description="path-loss model; auto = Hata < 1500 MHz, COST-231 1500-2000 MHz, 38.901 RMa above")
    environment: Literal["urban_small", "urban_large", "suburban", "open"] = Field(
        "suburban", description="Okumura-Hata environment")
    mobile_height_m: float = Field(1.5, gt=0, le=20, description="UE height above ground [m]")
    shadow_margin_db: float = Field(8.0, ge=0, le=30, description="shadow-fading margin [dB]")
    penetration_db: float = Field(0.0, ge=0, le=40, description="building penetration loss [dB]")
    diffraction: Literal["bullington", "deygout", "epstein_peterson", "none"] = Field(
        "bullington", description="terrain diffraction method")
    k_factor: float = Field(4.0 / 3.0, gt=0, description="effective earth-radius factor [-]")
    max_range_m: float = Field(30_000.0, gt=0, le=200_000, description="longest link evaluated [m]")


class Sharing(_Frozen):
    """Tower-sharing rules."""

    max_tenants: int = Field(3, ge=1, le=10, description="default tenant limit of a site [-]")


class Quota(_Frozen):
    """A quota: exact when min == max."""

    min: int = Field(ge=0)
    max: int = Field(ge=0)

    @model_validator(mode="after")
    def _ordered(self):
        if self.min > self.max:
            raise ValueError(f"quota band [min, max] needs min <= max, got [{self.min}, {self.max}]")
        return self

    @property
    def exact(self) -> bool:
        return self.min == self.max

    def __str__(self) -> str:
        return str(self.min) if self.exact else f"[{self.min}, {self.max}]"


def to_quota(v):
    """A :class:`Quota` from an integer (exact) or ``[min, max]``; ``None`` stays ``None``."""
    if v is None or isinstance(v, Quota):
        return v
    if isinstance(v, bool):
        raise ValueError(f"a quota is an integer or [min, max], got {v!r}")
    if isinstance(v, int):
        return Quota(min=v, max=v)
    if isinstance(v, (list, tuple)) and len(v) == 2 and all(isinstance(x, int) and not isinstance(x, bool) for x in v):
        return Quota(min=v[0], max=v[1])
    if isinstance(v, dict):
        return Quota.model_validate(v)
    raise ValueError(f"a quota is an integer or [min, max], got {v!r}")


class CoverageTarget(_Frozen):
    """Villages whose demand must be served by the end of a phase."""

    kind: Literal["coverage"] = "coverage"
    villages: Literal["all", "poor", "rural", "urban"] = Field(description="which villages")
    share: float = Field(1.0, gt=0, le=1, description="share of each village's demand weight served [-]")
    operators: Literal["any", "each"] = Field(
        "any", description="'any': one operator suffices; 'each': every operator must serve it")


class FiberTarget(_Frozen):
    """Facilities that must have fiber by the end of a phase."""

    kind: Literal["fiber"] = "fiber"
    villages: Literal["all", "poor", "rural", "urban"] = Field(description="facilities in which villages")
    facilities: tuple[FacilityKind, ...] = Field(min_length=1, description="facility kinds")


class Phase(_Frozen):
    """One phase of the programme with its quotas, budget and targets."""

    name: str = Field(min_length=1)
    start: _dt.date
    end: _dt.date
    new_stations: Quota | None = Field(None, description="new stations in this phase [-]: integer or [min, max]")
    new_sites: Quota | None = Field(None, description="new sites built in this phase [-]: integer or [min, max]")
    budget_cny: float | None = Field(None, ge=0, description="spending cap of the phase [CNY]")
    targets: tuple[Annotated[Union[CoverageTarget, FiberTarget], Field(discriminator="kind")], ...] = Field(
        (), description="targets due by the end of the phase")

    _q1 = field_validator("new_stations", "new_sites", mode="before")(lambda cls, v: to_quota(v))

    @model_validator(mode="after")
    def _dates(self):
        if self.start > self.end:
            raise ValueError(f"phase '{self.name}': start {self.start} is after end {self.end}")
        return self


class Costs(_Frozen):
    """Cost parameters [CNY]."""

    site_build_cny: float = Field(350_000.0, ge=0, description="default build cost of a candidate site [CNY]")
    colocation_cny: float = Field(30_000.0, ge=0, description="adding a tenant to an existing site [CNY]")
    discount_rate: float = Field(0.05, ge=0, lt=1, description="discount rate per phase [-]")
    fiber_per_m_cny: dict[str, float] = Field(
        default_factory=lambda: {"highway": 120.0, "primary": 90.0, "secondary": 70.0, "rural": 55.0, "track": 45.0},
        description="trenching + cable cost per metre by road class [CNY/m]")
    duct_reuse_factor: float = Field(0.35, ge=0, le=1, description="share of the cost paid where a duct exists [-]")
    existing_fiber_factor: float = Field(0.0, ge=0, le=1, description="share paid where fiber exists [-]")

    @field_validator("fiber_per_m_cny")
    @classmethod
    def _classes(cls, v):
        unknown = sorted(set(v) - set(ROAD_CLASSES))
        if unknown:
            raise ValueError(f"unknown road class {unknown[0]!r}; known: {', '.join(ROAD_CLASSES)}")
        missing = sorted(set(ROAD_CLASSES) - set(v))
        if missing:
            raise ValueError(f"missing cost for road class {missing[0]!r}")
        for k, x in v.items():
            if not x >= 0:
                raise ValueError(f"cost per metre of {k!r} must be >= 0, got {x}")
        return v


class Traffic(_Frozen):
    """Busy-hour demand per person."""

    busy_hour_kbps_per_person: dict[Literal["urban", "rural"], float] = Field(
        default_factory=lambda: {"urban": 25.0, "rural": 12.0},
        description="busy-hour traffic per person [kbit/s]")


class CableTier(_Frozen):
    fibers: int = Field(gt=0, description="fibers in the cable [-]")
    cny_per_m: float = Field(ge=0, description="extra cost over the base per-metre cost [CNY/m]")


class FiberParams(_Frozen):
    """Access-network parameters."""

    pon_capacity_mbps: float = Field(2500.0, gt=0, description="downstream capacity per OLT port [Mbit/s]")
    split_limit: int = Field(64, ge=1, description="terminals per OLT port [-]")
    max_drop_m: float = Field(3000.0, gt=0, description="longest drop from the road to a terminal [m]")
    cable_tiers: tuple[CableTier, ...] = Field(
        (CableTier(fibers=12, cny_per_m=0.0), CableTier(fibers=48, cny_per_m=8.0), CableTier(fibers=144, cny_per_m=20.0)),
        min_length=1, description="cable sizes, ascending")


class SitingParams(_Frozen):
    """Objective weights and policies of the siting model (docs/siting-model.md)."""

    unserved_cny_per_mbps: float = Field(
        2_000.0, ge=0, description="penalty per Mbit/s of busy-hour traffic left unserved in a phase [CNY/(Mbit/s)]")
    poor_early_cny_per_person: float = Field(
        20.0, ge=0, description="reward per person of a poor village covered before its target is due [CNY/person]")
    server_candidates: int = Field(
        4, ge=1, le=20, description="best servers per village and operator that may carry its traffic [-]")
    uncoverable: Literal["fail", "exclude"] = Field(
        "fail", description="demand points that no existing or candidate site can serve: 'fail' makes the "
                            "targets infeasible; 'exclude' drops them from the targets and lists them in the findings")


class TerrainSpec(_Frozen):
    dem: str = Field(description="DEM file inside the scenario folder (.tif, .hgt, .npy)")
    clutter: str | None = Field(None, description="land-cover raster on the DEM grid")
    clutter_loss_db: dict[int, float] = Field(default_factory=dict, description="extra loss per class [dB]")


class Tables(_Frozen):
    villages: str
    sites: str
    demand_points: str | None = None
    facilities: str | None = None
    road_nodes: str | None = None
    road_edges: str | None = None

    @model_validator(mode="after")
    def _roads_pair(self):
        if (self.road_nodes is None) != (self.road_edges is None):
            raise ValueError("road_nodes and road_edges go together: give both or neither")
        return self


def _default_bandwidth():
    return {"village_committee": 50.0, "school": 100.0, "township_government": 100.0,
            "agri_base": 20.0, "ecommerce_hub": 100.0, "site_backhaul": 1000.0}


class Manifest(_Frozen):
    """The whole ``scenario.toml``."""

    format_version: Literal[1] = 1
    name: str = Field(min_length=1)
    description: str = ""
    input_crs: Literal["WGS84", "EPSG:4326", "GCJ-02"] = Field("WGS84", description="CRS of lon/lat in the tables")
    local_crs: str = Field("auto", description="'auto' (UTM of the villages' centre) or 'EPSG:n'")
    synthetic: tuple[str, ...] = Field((), description="labels of generated parts, shown in summaries")
    tables: Tables
    terrain: TerrainSpec | None = None
    radio: Radio = Radio()
    sharing: Sharing = Sharing()
    operators: tuple[Operator, ...] = Field(min_length=1)
    phases: tuple[Phase, ...] = Field(min_length=1)
    bandwidth_mbps: dict[str, float] = Field(default_factory=_default_bandwidth,
                                             description="guaranteed rate per facility kind [Mbit/s]")
    costs: Costs = Costs()
    traffic: Traffic = Traffic()
    fiber: FiberParams = FiberParams()
    siting: SitingParams = SitingParams()

    @field_validator("bandwidth_mbps")
    @classmethod
    def _bw(cls, v):
        allowed = set(FACILITY_KINDS) | {"site_backhaul"}
        merged = _default_bandwidth()
        for k, x in v.items():
            if k not in allowed:
                raise ValueError(f"unknown facility kind {k!r}; known: {', '.join(sorted(allowed))}")
            if not x > 0:
                raise ValueError(f"bandwidth of {k!r} must be > 0 Mbit/s, got {x}")
            merged[k] = x
        return merged

    @field_validator("local_crs")
    @classmethod
    def _crs(cls, v):
        if v != "auto" and not (v.upper().startswith("EPSG:") and v[5:].isdigit()):
            raise ValueError(f"local_crs must be 'auto' or 'EPSG:<code>', got {v!r}")
        return v

    @model_validator(mode="after")
    def _consistent(self):
        names = [o.name for o in self.operators]
        dup = sorted({n for n in names if names.count(n) > 1})
        if dup:
            raise ValueError(f"operator names must be unique, {dup[0]!r} repeats")
        pnames = [p.name for p in self.phases]
        dup = sorted({n for n in pnames if pnames.count(n) > 1})
        if dup:
            raise ValueError(f"phase names must be unique, {dup[0]!r} repeats")
        for prev, cur in zip(self.phases, self.phases[1:]):
            if cur.start <= prev.end:
                raise ValueError(
                    f"phases out of order: '{cur.name}' starts {cur.start}, not after '{prev.name}' ends {prev.end}")
        return self
