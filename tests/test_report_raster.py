"""coverage.tif read back with tifffile: GeoKeys, tie point, pixel scale, no-data, values."""

from __future__ import annotations

import numpy as np
import pytest
import tifffile

from report_plan_factory import make_raster
from scenario_factory import make_scenario
from siteplan import read_scenario
from siteplan.exceptions import ModelError
from siteplan.io.geotiff import GeoRaster
from siteplan.report import NODATA, write_coverage_raster
from siteplan.report.raster import as_coverage_raster

# Tag and key numbers from the GeoTIFF 1.0 specification (Ritter & Ruth 1995, sections 2.4 and
# 2.7; OGC GeoTIFF standard 19-008r4 keeps them): ModelPixelScaleTag 33550, ModelTiepointTag
# 33922, GeoKeyDirectoryTag 34735, GTModelTypeGeoKey 1024 (1 = projected), GTRasterTypeGeoKey
# 1025 (1 = PixelIsArea), ProjectedCSTypeGeoKey 3072. GDAL_NODATA 42113 is GDAL's private tag
# (gdal.org, GTiff driver: "nodata value ... stored in the TIFFTAG_GDAL_NODATA tag" as ASCII).
MODEL_PIXEL_SCALE, MODEL_TIEPOINT, GEO_KEY_DIRECTORY, GDAL_NODATA = 33550, 33922, 34735, 42113
GT_MODEL_TYPE, GT_RASTER_TYPE, PROJECTED_CS_TYPE = 1024, 1025, 3072


@pytest.fixture(scope="module")
def scenario(tmp_path_factory):
    return read_scenario(make_scenario(tmp_path_factory.mktemp("report_raster") / "s"))


def _tags(path):
    with tifffile.TiffFile(path) as tif:
        page = tif.pages[0]
        return {t.code: t.value for t in page.tags.values()}, page.asarray(), page.dtype


def _geokeys(directory):
    d = [int(x) for x in directory]
    return {d[4 + 4 * k]: (d[5 + 4 * k], d[7 + 4 * k]) for k in range(d[3])}


def test_georeference_read_back(scenario, tmp_path):
    rsrp, g = make_raster(scenario)
    path = write_coverage_raster(tmp_path / "coverage.tif", rsrp, g)
    tags, data, dtype = _tags(path)
    assert dtype == np.float32 and data.shape == rsrp.shape
    assert tuple(tags[MODEL_PIXEL_SCALE]) == (100.0, 100.0, 0.0)
    assert tuple(tags[MODEL_TIEPOINT]) == (0.0, 0.0, 0.0, g["x_min"], g["y_max"], 0.0)
    keys = _geokeys(tags[GEO_KEY_DIRECTORY])
    assert keys[GT_MODEL_TYPE] == (0, 1)          # projected
    assert keys[GT_RASTER_TYPE] == (0, 1)         # PixelIsArea
    assert keys[PROJECTED_CS_TYPE] == (0, 32650)  # UTM 50N, the scenario's CRS
    assert str(tags[GDAL_NODATA]).strip("\x00 ") == "-9999"
    # no-data where the input had none, values elsewhere (float32)
    assert (data[:3, :4] == NODATA).all()
    ok = np.isfinite(rsrp)
    np.testing.assert_array_equal(data[ok], rsrp[ok].astype(np.float32))


def test_georeference_puts_sites_on_their_cells(scenario, tmp_path):
    """make_raster peaks (-60 dBm within 50 m) at every site: locate each site through the
    file's own tie point and scale and read that cell."""
    rsrp, g = make_raster(scenario)
    path = write_coverage_raster(tmp_path / "coverage.tif", rsrp, g)
    tags, data, _ = _tags(path)
    _, _, _, x0, y0, _ = tags[MODEL_TIEPOINT]
    sx, sy, _ = tags[MODEL_PIXEL_SCALE]
    for x, y in zip(scenario.sites.x_m, scenario.sites.y_m):
        i, j = int((y0 - y) // sy), int((x - x0) // sx)
        assert data[i, j] > -66.0, (x, y, data[i, j])
        # a cell 1.5 km north is weaker: rows grow southwards
        assert data[max(i - 15, 0), j] < data[i, j]


def test_terrain_georef_and_shape_check(scenario, tmp_path):
    t = scenario.terrain
    arr = np.full((t.ny, t.nx), -95.5)
    arr[0, 0] = np.inf
    path = write_coverage_raster(tmp_path / "c.tif", arr, t)
    tags, data, _ = _tags(path)
    assert tuple(tags[MODEL_TIEPOINT])[3:5] == (t.x_min, t.y_max)
    assert tuple(tags[MODEL_PIXEL_SCALE])[:2] == (t.cell_m, t.cell_m)
    assert data[0, 0] == NODATA and data[1, 1] == np.float32(-95.5)
    with pytest.raises(ModelError, match="differs from its georeference grid"):
        write_coverage_raster(tmp_path / "bad.tif", arr[:-1], t)
    assert not (tmp_path / "bad.tif").exists()


@pytest.mark.parametrize("bad, message", [
    (np.zeros(5), "2-D"),
    (np.zeros((2, 2), dtype=complex), "real numbers"),
])
def test_bad_arrays(tmp_path, bad, message):
    g = {"x_min": 0.0, "y_max": 0.0, "cell_size": 10.0, "crs": "EPSG:32650"}
    with pytest.raises(ModelError, match=message):
        write_coverage_raster(tmp_path / "x.tif", bad, g)


def test_georef_forms(tmp_path):
    arr = np.zeros((2, 3))
    with pytest.raises(ModelError, match="lacks 'crs'"):
        write_coverage_raster(tmp_path / "x.tif", arr, {"x_min": 0.0, "y_max": 0.0, "cell_size": 1.0})
    with pytest.raises(ModelError, match="cannot take"):
        write_coverage_raster(tmp_path / "x.tif", arr, object())

    class Grid:              # any object with the attributes works (e.g. a coverage grid)
        x_min, y_max, cell_m, crs, shape = 100.0, 900.0, 25.0, "EPSG:32650", (2, 3)

    write_coverage_raster(tmp_path / "g.tif", arr - 90.0, Grid())
    with tifffile.TiffFile(tmp_path / "g.tif") as tif:
        tags = {t.code: t.value for t in tif.pages[0].tags.values()}
    assert tuple(tags[MODEL_TIEPOINT]) == (0.0, 0.0, 0.0, 100.0, 900.0, 0.0)
    assert tuple(tags[MODEL_PIXEL_SCALE]) == (25.0, 25.0, 0.0)
    with pytest.raises(ModelError, match="differs"):
        write_coverage_raster(tmp_path / "g2.tif", np.zeros((3, 3)), Grid())
    gr = GeoRaster(np.array([[-80.0, -9999.0]]), 10.0, 20.0, 5.0, 5.0, "EPSG:32650", nodata=-9999.0)
    cr = as_coverage_raster(gr)
    assert cr.rsrp_dbm.tolist() == [[-80.0, NODATA]] and cr.georef.cell_x == 5.0
    with pytest.raises(ModelError, match="raster must be"):
        as_coverage_raster([1, 2])
