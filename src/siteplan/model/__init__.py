"""The scenario model: frozen struct-of-arrays dataclasses and validated parameters."""

from siteplan.model.covering import MaxCoverProblem, SetCoverProblem
from siteplan.model.params import (
    Band,
    CableTier,
    Costs,
    CoverageTarget,
    FiberParams,
    FiberTarget,
    Manifest,
    Operator,
    Phase,
    Quota,
    Radio,
    Sharing,
    SitingParams,
    Tables,
    TerrainSpec,
    Traffic,
)
from siteplan.model.scenario import Scenario
from siteplan.model.tables import (
    FACILITY_KINDS,
    ROAD_CLASSES,
    RURAL_CODES,
    UR_CODES,
    URBAN_CODES,
    DemandPoints,
    Facilities,
    RoadNetwork,
    Sites,
    Villages,
)
from siteplan.model.terrain import Terrain

__all__ = [
    "Band", "CableTier", "Costs", "CoverageTarget", "FiberParams", "FiberTarget", "Manifest",
    "Operator", "Phase", "Quota", "Radio", "Sharing", "SitingParams", "Tables", "TerrainSpec", "Traffic",
    "Scenario", "FACILITY_KINDS", "ROAD_CLASSES", "RURAL_CODES", "UR_CODES", "URBAN_CODES",
    "DemandPoints", "Facilities", "RoadNetwork", "Sites", "Villages", "Terrain",
    "SetCoverProblem", "MaxCoverProblem",
]
