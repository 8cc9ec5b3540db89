"""Inputs of the generator: a region (districts, towns, villages, coarse altitude) and a spec.

A :class:`Region` holds what is known about an area before anything is generated: the
administrative tree with codes and names, the points that were surveyed (NaN where not),
the district outlines and a coarse altitude grid. The Shantou preset fills it from the
real public data; the ``tiny`` and ``small`` presets fill it with a synthetic coastal area.
Everything else (locations of the rest, terrain detail, population, facilities, sites,
roads) is generated from it by :mod:`siteplan.generate._pipeline`. All coordinates here
are WGS84 lon/lat [deg].
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

__all__ = ["District", "Region", "Spec"]


@dataclass(frozen=True, eq=False)
class District:
    """A county-level district and its outline (WGS84 rings, first ring of each polygon outer)."""

    code: str
    name: str
    rings: tuple[np.ndarray, ...]     # each (n, 2) lon/lat [deg]; exteriors and holes (even-odd rule)


@dataclass(frozen=True, eq=False)
class Region:
    """Administrative tree and known points of an area (WGS84 [deg], NaN = unknown)."""

    name: str
    districts: tuple[District, ...]
    town_code: np.ndarray          # object str
    town_name: np.ndarray          # object str
    town_district: np.ndarray      # int index into districts
    town_lon: np.ndarray           # float [deg], NaN where the seat is unknown
    town_lat: np.ndarray
    village_code: np.ndarray       # object str
    village_name: np.ndarray       # object str
    village_town: np.ndarray       # int index into towns
    village_ur: np.ndarray         # int NBS urban-rural code
    village_lon: np.ndarray        # float [deg], NaN where unknown
    village_lat: np.ndarray
    coarse_lon: np.ndarray         # (nx,) ascending cell centres [deg]
    coarse_lat: np.ndarray         # (ny,) ascending cell centres [deg]
    coarse_alt: np.ndarray         # (ny, nx) [m], NaN = sea / no data
    synthetic_admin: bool = False  # True when names and codes themselves are invented


@dataclass(frozen=True)
class Spec:
    """Sizes and parameters of one preset."""

    name: str
    description: str
    local_crs: str                 # "EPSG:32650"
    cell_m: float                  # DEM cell size [m]
    margin_m: float                # DEM margin around the land [m]
    n_existing: int                # existing towers [-]
    n_candidates: int              # candidate sites (>= number of villages) [-]
    poor_share: float              # share of rural villages flagged poor [-]
    phases: tuple[dict, ...]       # manifest [[phases]] entries
    population_total: int | None = None   # scale the drawn population to this total [persons]
    extra_road_nodes: float = 0.35        # road junctions per village [-]
    candidate_reach_m: float = 1500.0     # every village has a candidate within this [m]
    detail_lowcut_m: float = 8000.0       # longest wavelength of the fractal detail [m]
    synthetic: tuple[str, ...] = field(default_factory=tuple)  # manifest labels
