"""Struct-of-arrays tables of a scenario: villages, demand points, sites, facilities, roads.

Every coordinate pair ``x_m``/``y_m`` is in the scenario's local metric CRS [m];
``lon``/``lat`` are WGS84 [deg]. All arrays are read-only.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from siteplan.model._arrays import check_lengths, freeze_arrays

__all__ = [
    "URBAN_CODES",
    "RURAL_CODES",
    "UR_CODES",
    "FACILITY_KINDS",
    "ROAD_CLASSES",
    "EXISTING_KINDS",
    "Villages",
    "DemandPoints",
    "Sites",
    "Facilities",
    "RoadNetwork",
]

#: NBS 2016 urban-rural classification codes (城乡分类代码).
UR_CODES = {
    111: "main urban area",
    112: "urban-rural fringe",
    121: "town centre",
    122: "town-rural fringe",
    123: "special area",
    210: "township centre",
    220: "village",
}
URBAN_CODES = (111, 112, 121, 122, 123)
RURAL_CODES = (210, 220)

FACILITY_KINDS = ("village_committee", "school", "township_government", "agri_base", "ecommerce_hub")
ROAD_CLASSES = ("highway", "primary", "secondary", "rural", "track")
EXISTING_KINDS = ("none", "duct", "fiber")


@dataclass(frozen=True, eq=False)
class Villages:
    """Administrative villages (村委会/居委会), one row each."""

    id: np.ndarray            # object str, unique
    name: np.ndarray          # object str
    district: np.ndarray      # object str
    town: np.ndarray          # object str
    lon: np.ndarray           # float64 [deg] WGS84
    lat: np.ndarray           # float64 [deg] WGS84
    x_m: np.ndarray           # float64 [m] local CRS
    y_m: np.ndarray           # float64 [m] local CRS
    population: np.ndarray    # int64 [persons]
    households: np.ndarray    # int64 [households]
    poor: np.ndarray          # bool
    ur_code: np.ndarray       # int16, NBS urban-rural code
    synthetic: np.ndarray     # bool: location generated, not surveyed

    def __post_init__(self):
        check_lengths(self, len(self.id), ("name", "district", "town", "lon", "lat", "x_m", "y_m",
                                           "population", "households", "poor", "ur_code", "synthetic"))
        freeze_arrays(self)

    def __len__(self) -> int:
        return len(self.id)

    @property
    def rural(self) -> np.ndarray:
        """True where the urban-rural code is rural (210, 220)."""
        return np.isin(self.ur_code, RURAL_CODES)


@dataclass(frozen=True, eq=False)
class DemandPoints:
    """Points where coverage is evaluated; each belongs to one village."""

    village: np.ndarray       # int32 index into Villages
    lon: np.ndarray           # float64 [deg]
    lat: np.ndarray           # float64 [deg]
    x_m: np.ndarray           # float64 [m]
    y_m: np.ndarray           # float64 [m]
    weight: np.ndarray        # float64 [-], sums to 1 within each village
    generated: bool = False   # True when generated around villages (no demand table given)

    def __post_init__(self):
        check_lengths(self, len(self.village), ("lon", "lat", "x_m", "y_m", "weight"))
        freeze_arrays(self)

    def __len__(self) -> int:
        return len(self.village)


@dataclass(frozen=True, eq=False)
class Sites:
    """Existing towers and candidate sites."""

    id: np.ndarray            # object str
    lon: np.ndarray           # float64 [deg]
    lat: np.ndarray           # float64 [deg]
    x_m: np.ndarray           # float64 [m]
    y_m: np.ndarray           # float64 [m]
    existing: np.ndarray      # bool: True = existing tower, False = candidate
    height_m: np.ndarray      # float64 [m] tower/mast height above ground
    build_cost: np.ndarray    # float64 [CNY] (0 for existing)
    max_tenants: np.ndarray   # int16 [-]
    tenants: np.ndarray       # bool (n_sites, n_operators): operator already hosted

    def __post_init__(self):
        check_lengths(self, len(self.id), ("lon", "lat", "x_m", "y_m", "existing", "height_m",
                                           "build_cost", "max_tenants", "tenants"))
        freeze_arrays(self)

    def __len__(self) -> int:
        return len(self.id)

    @property
    def n_tenants(self) -> np.ndarray:
        """Current number of tenants per site [-]."""
        return self.tenants.sum(axis=1).astype(np.int16)

    @property
    def free_tenancy(self) -> np.ndarray:
        """Free tenant slots per site [-]."""
        return (self.max_tenants - self.n_tenants).astype(np.int16)


@dataclass(frozen=True, eq=False)
class Facilities:
    """Fiber terminals: village committees, schools, township governments, ..."""

    id: np.ndarray            # object str
    kind: np.ndarray          # object str, one of FACILITY_KINDS
    village: np.ndarray       # int32 index into Villages
    lon: np.ndarray           # float64 [deg]
    lat: np.ndarray           # float64 [deg]
    x_m: np.ndarray           # float64 [m]
    y_m: np.ndarray           # float64 [m]
    bandwidth_mbps: np.ndarray  # float64 [Mbit/s] guaranteed rate

    def __post_init__(self):
        check_lengths(self, len(self.id), ("kind", "village", "lon", "lat", "x_m", "y_m", "bandwidth_mbps"))
        freeze_arrays(self)

    def __len__(self) -> int:
        return len(self.id)

    @classmethod
    def empty(cls) -> "Facilities":
        z = np.zeros(0)
        return cls(np.zeros(0, dtype=object), np.zeros(0, dtype=object), np.zeros(0, dtype=np.int32),
                   z, z, z, z, z)


@dataclass(frozen=True, eq=False)
class RoadNetwork:
    """Undirected road graph; edges index into the node arrays."""

    node_id: np.ndarray       # object str
    lon: np.ndarray           # float64 [deg]
    lat: np.ndarray           # float64 [deg]
    x_m: np.ndarray           # float64 [m]
    y_m: np.ndarray           # float64 [m]
    pop: np.ndarray           # bool: backbone point of presence
    edge_u: np.ndarray        # int32 node index
    edge_v: np.ndarray        # int32 node index
    length_m: np.ndarray      # float64 [m]
    road_class: np.ndarray    # object str, one of ROAD_CLASSES
    existing: np.ndarray      # object str, one of EXISTING_KINDS

    def __post_init__(self):
        check_lengths(self, len(self.node_id), ("lon", "lat", "x_m", "y_m", "pop"))
        check_lengths(self, len(self.edge_u), ("edge_v", "length_m", "road_class", "existing"))
        freeze_arrays(self)

    @property
    def n_nodes(self) -> int:
        return len(self.node_id)

    @property
    def n_edges(self) -> int:
        return len(self.edge_u)

    @classmethod
    def empty(cls) -> "RoadNetwork":
        z = np.zeros(0)
        o = np.zeros(0, dtype=object)
        i = np.zeros(0, dtype=np.int32)
        return cls(o, z, z, z, z, np.zeros(0, dtype=bool), i, i, z, o, o)
