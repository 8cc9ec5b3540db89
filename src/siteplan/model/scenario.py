"""The Scenario: everything a plan is computed from, in canonical units and local CRS."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from siteplan.model.params import Manifest, Operator, Phase, Radio
from siteplan.model.tables import DemandPoints, Facilities, RoadNetwork, Sites, Villages
from siteplan.model.terrain import Terrain

__all__ = ["Scenario"]


@dataclass(frozen=True, eq=False)
class Scenario:
    """A validated planning scenario (read with :func:`siteplan.read_scenario`).

    Coordinates ``x_m``/``y_m`` of every table are in ``crs`` (a UTM zone) [m].
    """

    name: str
    crs: str
    manifest: Manifest
    villages: Villages
    demand: DemandPoints
    sites: Sites
    facilities: Facilities
    roads: RoadNetwork
    terrain: Terrain | None
    source: str = ""                                   # folder read from
    encodings: dict = field(default_factory=dict)      # table -> encoding read
    digest: str = ""                                   # sha256 of the input files

    @property
    def operators(self) -> tuple[Operator, ...]:
        return self.manifest.operators

    @property
    def phases(self) -> tuple[Phase, ...]:
        return self.manifest.phases

    @property
    def radio(self) -> Radio:
        return self.manifest.radio

    @property
    def operator_names(self) -> tuple[str, ...]:
        return tuple(o.name for o in self.manifest.operators)

    def villages_selected(self, selector: str) -> np.ndarray:
        """Boolean mask of villages matching a target selector (all|poor|rural|urban)."""
        v = self.villages
        if selector == "all":
            return np.ones(len(v), dtype=bool)
        if selector == "poor":
            return v.poor.copy()
        if selector == "rural":
            return v.rural
        if selector == "urban":
            return ~v.rural
        raise ValueError(f"unknown village selector {selector!r}")
