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
``_sweep_batch_kernel``); the coverage matrices use the full method. The raster is for
maps; decisions use the matrices.
"""

from __future__ import annotations

import contextlib
import math
import os
from pathlib import Path

import numba
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
    ``_sweep_batch_kernel``)."""
    tg = TerrainGrid.from_any(terrain)
    dem = tg.dem()
    step = tg.cell_m
    n_step = max(1, int(math.ceil(radius_m / step)))
    n_rad = max(8, int(math.ceil(2.0 * math.pi * radius_m / step)))
    sg = np.empty(1)
    PK._bilinear_kernel(dem, tg.x_min, tg.y_max, step, np.array([float(site_x)]),
                        np.array([float(site_y)]), sg)
    blk_r0 = np.arange(0, n_rad, CK.SWEEP_BLOCK, dtype=np.int64)
    stride = _stride(n_rad)
    v = np.empty((1, stride * n_step), dtype=np.float32)
    los = np.empty(stride * n_step, dtype=np.uint8)
    lam = SPEED_OF_LIGHT_M_S / (float(frequency_mhz) * 1e6)
    CK._sweep_batch_kernel(dem, tg.x_min, tg.y_max, step, np.array([float(site_x)]),
                           np.array([float(site_y)]), sg + float(site_height_m),
                           np.array([n_rad]), np.array([n_step]), np.zeros(1, np.int64),
                           np.zeros(blk_r0.size, np.int64), blk_r0, float(mobile_height_m),
                           step, np.array([lam]), 1.0 / (k_factor * EARTH_RADIUS_M), True,
                           np.inf, v, los)
    # the kernel's grid is step-major; this function returns it radial-major
    v = v.reshape(n_step, stride)[:, :n_rad]
    los = los.reshape(n_step, stride)[:, :n_rad]
    vv = v.T.astype(np.float64)
    t = vv - 0.1
    with np.errstate(invalid="ignore"):
        j = np.where(vv > -0.78, 6.9 + 20.0 * np.log10(np.sqrt(t * t + 1.0) + t), 0.0)
    d_km = step * np.arange(1, n_step + 1) / 1000.0
    loss = j + (1.0 - np.exp(-j / 6.0)) * (10.0 + 0.02 * d_km)[None, :]
    return loss, np.ascontiguousarray(los.T).astype(bool)


#: Default bound of one batch's polar grids: sites are swept and rastered in batches whose
#: grids hold at most this many float32 values (n_band x samples) - 128 MiB.
BATCH_POLAR_VALUES = 1 << 25


@contextlib.contextmanager
def _dynamic_chunks():
    """Hand parallel loop iterations to threads one at a time (numba's default splits
    the range into one equal part per thread: unbalanced when the sites cluster, and
    the whole pass waits for a thread that the OS has descheduled on a busy machine)."""
    old = numba.get_parallel_chunksize()
    numba.set_parallel_chunksize(1)
    try:
        yield
    finally:
        numba.set_parallel_chunksize(old)


def _stride(n_rad):
    """Row length of the kernels' step-major polar grids (see CK._polar_stride)."""
    return -(-int(n_rad) // CK.SWEEP_BLOCK) * CK.SWEEP_BLOCK


def _aligned_empty(n, dtype):
    """Uninitialised 1-D array of n items whose data starts on a 64-byte boundary."""
    it = np.dtype(dtype).itemsize
    raw = np.empty(n * it + 64, dtype=np.uint8)
    start = (-raw.ctypes.data) % 64
    return raw[start:start + n * it].view(dtype)


def _polar_shape(radius, step):
    """(n_rad, n_step) of a site's polar grid: step = DEM cell, radials spaced so that
    the arc between them at the site's radius is at most one step."""
    n_step = max(1, int(math.ceil(radius / step)))
    n_rad = max(8, int(math.ceil(2.0 * math.pi * radius / step)))
    return n_rad, n_step


def best_server_raster(site_x, site_y, site_height_m, params: LinkParams, terrain,
                       point_loss_db=0.0, radii=None, *, use_terrain=True, progress=None,
                       batch_values=BATCH_POLAR_VALUES):
    """Best-server RSRP [dBm] on the terrain grid and the index of the serving site.

    Returns ``(rsrp, server)``: float32 (ny, nx) with ``-inf`` where no site reaches the
    pixel within its pruning radius, and int32 (ny, nx) site index or -1. Pixel values
    below the threshold are kept (the map shows them); ``point_loss_db`` is a constant.
    Ties go to the lowest site index.

    Sites are processed in batches (consecutive indices; the batch's polar grids hold at
    most ``batch_values`` float32 values, at least one site per batch): one parallel
    sweep over all radials of the batch, then one parallel raster pass in which each
    thread owns whole rows and applies the row's sites in index order. The result is
    therefore identical for every batch size and thread count (``batch_values=1``
    processes one site at a time).
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
    lam = np.ascontiguousarray(SPEED_OF_LIGHT_M_S / (b_f * 1e6))
    use_polar = bool(use_terrain and params.diffraction != "none")
    # the polar LOS flags are read only by RMa bands with terrain LOS
    want_los = bool(RMA_LOS_MODES[params.rma_los] == CK.RMA_TERRAIN
                    and np.any(b_model == PK.MODEL_RMA))
    ftab, gtab = CK.j_tables()
    n_rad = np.full(n_s, 8, dtype=np.int64)
    n_step = np.ones(n_s, dtype=np.int64)
    if use_polar:
        for s in range(n_s):
            if radii[s] > 0.0:
                n_rad[s], n_step[s] = _polar_shape(float(radii[s]), step)
    stride = (n_rad + CK.SWEEP_BLOCK - 1) // CK.SWEEP_BLOCK * CK.SWEEP_BLOCK
    size = np.where(radii > 0.0, stride * n_step, 0) if use_polar else np.zeros(n_s, np.int64)
    active = np.flatnonzero(radii > 0.0)
    bar = _progress(n_s, "raster", progress)
    buf_v = np.empty(0, dtype=np.float32)
    buf_los = np.empty(0, dtype=np.uint8)
    try:
        done = 0
        lo = 0
        while lo < active.size:
            # the batch: consecutive active sites while their grids fit in batch_values
            hi = lo + 1
            tot = int(size[active[lo]])
            while hi < active.size and (tot + int(size[active[hi]])) * n_b <= batch_values:
                tot += int(size[active[hi]])
                hi += 1
            idx = active[lo:hi]
            offset = np.zeros(idx.size, dtype=np.int64)
            np.cumsum(size[idx][:-1], out=offset[1:])
            if use_polar:
                if buf_v.size < n_b * tot:
                    buf_v = _aligned_empty(n_b * tot, np.float32)
                    buf_los = _aligned_empty(tot, np.uint8)
                polar = buf_v[:n_b * tot].reshape(n_b, tot)
                polar_los = buf_los[:tot]
                nbk = (n_rad[idx] + CK.SWEEP_BLOCK - 1) // CK.SWEEP_BLOCK
                blk_site = np.repeat(np.arange(idx.size, dtype=np.int64), nbk)
                first = np.repeat(np.cumsum(nbk) - nbk, nbk)
                blk_r0 = (np.arange(blk_site.size, dtype=np.int64) - first) * CK.SWEEP_BLOCK
                sweep = (CK._sweep_batch_serial if tot < CK.SERIAL_WORK_LIMIT
                         else CK._sweep_batch_kernel)
                with _dynamic_chunks():
                    sweep(dem, tg.x_min, tg.y_max, step, sx[idx], sy[idx], sg[idx] + sh[idx],
                          n_rad[idx], n_step[idx], offset, blk_site, blk_r0,
                          float(params.mobile_height_m), step, lam, inv_ae, want_los,
                          CK.SWEEP_CLIP_MARGIN, polar, polar_los)
            else:
                polar = np.full((n_b, 1), -np.inf, dtype=np.float32)
                polar_los = np.ones(1, dtype=np.uint8)
            row_ptr, row_site = CK._raster_rows_index(tg.y_max, step, sy[idx], radii[idx], ny)
            n_px = math.pi * float(np.sum((radii[idx] / step) ** 2))
            kernel = (CK._raster_batch_serial if n_px < CK.SERIAL_WORK_LIMIT
                      else CK._raster_batch_kernel)
            with _dynamic_chunks():
                kernel(
                    dem, tg.x_min, tg.y_max, step, sx[idx], sy[idx], sg[idx], sh[idx], radii[idx],
                    row_ptr, row_site, polar, polar_los, offset, n_rad[idx], n_step[idx], step,
                    use_polar, b_model, b_f, b_eirp, env, float(params.mobile_height_m),
                    float(params.building_height_m), float(params.street_width_m),
                    RMA_LOS_MODES[params.rma_los], float(point_loss_db),
                    float(params.shadow_margin_db), az, float(params.downtilt_deg),
                    float(params.h_beamwidth_deg), float(params.v_beamwidth_deg),
                    float(params.front_to_back_db), float(params.sla_v_db),
                    float(params.gain_dbi), ftab, gtab, best, server, idx.astype(np.int64))
            lo = hi
            if bar is not None:
                bar.update(int(idx[-1]) + 1 - done)
                done = int(idx[-1]) + 1
        if bar is not None and done < n_s:
            bar.update(n_s - done)
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
