"""Best-server RSRP rasters by radial sweep, and their GeoTIFF output.

For each site, a polar grid of diffraction loss is swept along radials (step = DEM
cell, radials spaced so that the arc between them at the site's radius is at most one
cell) with the running-maximum identity of the reference file: the Tx-horizon slope is
a running maximum along a radial, so visibility and the Tx-horizon edge cost O(1) per
sample. Every pixel within the site's pruning radius then takes its diffraction loss
and LOS state from the nearest polar sample (O(1)), its path loss and antenna gain from
its exact geometry, and the raster keeps the best site.

The raster's diffraction is Bullington's construction on the single Tx-horizon edge,
a lower bound of the full Bullington loss on the same profile (see
``_radial_sweep_kernel``); the coverage matrices use the full method. The raster is for
maps; decisions use the matrices.
"""

from __future__ import annotations

import math
import os
from pathlib import Path

import numpy as np

from siteplan.coverage import _kernels as CK
from siteplan.coverage.core import (
    RMA_LOS_MODES,
    LinkParams,
    TerrainGrid,
    _band_arrays,
    _check,
    _f64,
    _progress,
    max_useful_distance,
)
from siteplan.propagation import _kernels as PK
from siteplan.propagation.pathloss import HATA_ENVIRONMENTS
from siteplan.units import EARTH_RADIUS_M, SPEED_OF_LIGHT_M_S

__all__ = ["best_server_raster", "radial_sweep", "write_raster_geotiff", "NODATA_DBM"]

#: Value of pixels no site reaches in the written GeoTIFF [dBm].
NODATA_DBM = -9999.0


def radial_sweep(terrain, site_x, site_y, site_height_m, radius_m, frequency_mhz,
                 mobile_height_m=1.5, k_factor=4.0 / 3.0):
    """Polar grid around one site: (loss [dB], los [bool]) of shape (n_rad, n_step) for
    points at distance (k + 1) * cell on radial r (bearing 360 r / n_rad [deg]). The
    loss is Bullington's final formula on the Tx-horizon edge's v (see
    ``_radial_sweep_kernel``)."""
    tg = TerrainGrid.from_any(terrain)
    dem = tg.dem()
    step = tg.cell_m
    n_step = max(1, int(math.ceil(radius_m / step)))
    n_rad = max(8, int(math.ceil(2.0 * math.pi * radius_m / step)))
    sg = np.empty(1)
    PK._bilinear_kernel(dem, tg.x_min, tg.y_max, step, np.array([float(site_x)]),
                        np.array([float(site_y)]), sg)
    v = np.empty((n_step, n_rad), dtype=np.float32)  # step-major, as the raster uses it
    los = np.empty((n_step, n_rad), dtype=np.uint8)
    lam = SPEED_OF_LIGHT_M_S / (float(frequency_mhz) * 1e6)
    CK._radial_sweep_kernel(dem, tg.x_min, tg.y_max, step, float(site_x), float(site_y),
                            float(sg[0] + site_height_m), float(mobile_height_m), n_rad,
                            n_step, step, lam, 1.0 / (k_factor * EARTH_RADIUS_M), v, los)
    vv = v.T.astype(np.float64)
    t = vv - 0.1
    with np.errstate(invalid="ignore"):
        j = np.where(vv > -0.78, 6.9 + 20.0 * np.log10(np.sqrt(t * t + 1.0) + t), 0.0)
    d_km = step * np.arange(1, n_step + 1) / 1000.0
    loss = j + (1.0 - np.exp(-j / 6.0)) * (10.0 + 0.02 * d_km)[None, :]
    return loss, np.ascontiguousarray(los.T).astype(bool)


def best_server_raster(site_x, site_y, site_height_m, params: LinkParams, terrain,
                       point_loss_db=0.0, radii=None, *, use_terrain=True, progress=None):
    """Best-server RSRP [dBm] on the terrain grid and the index of the serving site.

    Returns ``(rsrp, server)``: float32 (ny, nx) with ``-inf`` where no site reaches the
    pixel within its pruning radius, and int32 (ny, nx) site index or -1. Pixel values
    below the threshold are kept (the map shows them); ``point_loss_db`` is a constant.
    """
    _check(params)
    tg = TerrainGrid.from_any(terrain)
    dem = tg.dem()
    sx = _f64("site_x", site_x)
    n_s = sx.size
    sy = _f64("site_y", site_y, n_s)
    sh = _f64("site_height_m", site_height_m, n_s)
    if radii is None:
        radii = max_useful_distance(sh, params, float(point_loss_db))
    radii = _f64("radii", radii, n_s)
    b_model, b_f, b_eirp, _ = _band_arrays(params)
    n_b = b_f.size
    env = HATA_ENVIRONMENTS[params.environment]
    ny, nx = dem.shape
    best = np.full((ny, nx), -np.inf, dtype=np.float32)
    server = np.full((ny, nx), -1, dtype=np.int32)
    sg = np.empty(n_s)
    PK._bilinear_kernel(dem, tg.x_min, tg.y_max, tg.cell_m, sx, sy, sg)
    az = np.ascontiguousarray(np.asarray(params.azimuths_deg, dtype=np.float64))
    inv_ae = 1.0 / (params.k_factor * EARTH_RADIUS_M)
    step = tg.cell_m
    use_polar = bool(use_terrain and params.diffraction != "none")
    ftab, gtab = CK.j_tables()
    bar = _progress(n_s, "raster", progress)
    buf_v = np.empty(0, dtype=np.float32)
    buf_los = np.empty(0, dtype=np.uint8)
    try:
        for s in range(n_s):
            r = float(radii[s])
            if r <= 0.0:
                if bar is not None:
                    bar.update(1)
                continue
            if use_polar:
                n_step = max(1, int(math.ceil(r / step)))
                n_rad = max(8, int(math.ceil(2.0 * math.pi * r / step)))
                # v per band and LOS, step-major, in buffers reused across sites
                m = n_rad * n_step
                if buf_v.size < n_b * m:
                    buf_v = np.empty(n_b * m, dtype=np.float32)
                    buf_los = np.empty(m, dtype=np.uint8)
                polar = buf_v[:n_b * m].reshape(n_b, n_step, n_rad)
                polar_los = buf_los[:m].reshape(n_step, n_rad)
                sweep = (CK._radial_sweep_serial if n_rad * n_step < CK.SERIAL_WORK_LIMIT
                         else CK._radial_sweep_kernel)
                for b in range(n_b):
                    lam = SPEED_OF_LIGHT_M_S / (b_f[b] * 1e6)
                    sweep(dem, tg.x_min, tg.y_max, step, sx[s], sy[s],
                                            sg[s] + sh[s], float(params.mobile_height_m),
                                            n_rad, n_step, step, lam, inv_ae, polar[b],
                                            polar_los)
            else:
                n_rad = 8
                polar = np.full((n_b, 1, 1), -np.inf, dtype=np.float32)
                polar_los = np.ones((1, 1), dtype=np.uint8)
            n_px = math.pi * (r / step) ** 2
            site_kernel = (CK._raster_site_serial if n_px < CK.SERIAL_WORK_LIMIT
                           else CK._raster_site_kernel)
            site_kernel(
                dem, tg.x_min, tg.y_max, step, sx[s], sy[s], sg[s], sh[s], r, polar,
                polar_los, n_rad, step, use_polar, b_model, b_f, b_eirp, env,
                float(params.mobile_height_m), float(params.building_height_m),
                float(params.street_width_m), RMA_LOS_MODES[params.rma_los],
                float(point_loss_db), float(params.shadow_margin_db), az,
                float(params.downtilt_deg), float(params.h_beamwidth_deg),
                float(params.v_beamwidth_deg), float(params.front_to_back_db),
                float(params.sla_v_db), float(params.gain_dbi), ftab, gtab, best, server, s)
            if bar is not None:
                bar.update(1)
    finally:
        if bar is not None:
            bar.close()
    return best, server


def write_raster_geotiff(path: str | os.PathLike, rsrp: np.ndarray, terrain, crs: str) -> Path:
    """Write a best-server RSRP raster [dBm] as a float32 GeoTIFF (GeoKeys: projected
    EPSG CRS, PixelIsArea; GDAL_NODATA = -9999) that GDAL and QGIS open."""
    from siteplan.io.geotiff import write_geotiff

    tg = TerrainGrid.from_any(terrain)
    data = np.where(np.isfinite(rsrp), rsrp, NODATA_DBM).astype(np.float32)
    return write_geotiff(path, data, x_min=tg.x_min, y_max=tg.y_max, cell_size=tg.cell_m,
                         crs=crs, nodata=NODATA_DBM)
