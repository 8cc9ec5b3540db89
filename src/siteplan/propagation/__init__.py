"""Radio propagation on plain arrays: empirical path loss, terrain diffraction, sector
antenna and link budget. Never imports the scenario model.

Units: [m], [MHz], [dB], [dBm], [deg].
"""

from siteplan.propagation._validate import (
    PropagationInputError,
    ValidityRangeError,
    ValidityRangeWarning,
    reset_validity_warnings,
)
from siteplan.propagation.antenna import (
    bearing_deg,
    depression_deg,
    link_budget_rsrp,
    sector_gain,
    site_gain,
)
from siteplan.propagation.pathloss import (
    cost231_loss,
    free_space_loss,
    hata_loss,
    path_loss_matrix,
    rma_loss,
)
from siteplan.propagation.terrain import (
    diffraction_loss,
    diffraction_loss_dem,
    knife_edge_loss,
    sample_elevation,
    terrain_profile,
)

__all__ = [
    "free_space_loss",
    "hata_loss",
    "cost231_loss",
    "rma_loss",
    "path_loss_matrix",
    "knife_edge_loss",
    "diffraction_loss",
    "diffraction_loss_dem",
    "terrain_profile",
    "sample_elevation",
    "sector_gain",
    "site_gain",
    "bearing_deg",
    "depression_deg",
    "link_budget_rsrp",
    "PropagationInputError",
    "ValidityRangeError",
    "ValidityRangeWarning",
    "reset_validity_warnings",
]
