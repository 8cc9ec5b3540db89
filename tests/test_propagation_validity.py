"""Validity-range behaviour: warn once, raise when strict, never a silent NaN; and one run
of the kernels with numba disabled (NUMBA_DISABLE_JIT=1) in a subprocess."""

import os
import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import pytest

from siteplan.exceptions import InputError, SiteplanError
from siteplan.propagation import (
    PropagationInputError,
    ValidityRangeError,
    ValidityRangeWarning,
    cost231_loss,
    diffraction_loss,
    free_space_loss,
    hata_loss,
    knife_edge_loss,
    rma_loss,
    reset_validity_warnings,
)

ROOT = Path(__file__).resolve().parents[1]


def test_warns_once_per_model_and_quantity():
    reset_validity_warnings()
    with warnings.catch_warnings(record=True) as rec:
        warnings.simplefilter("always")
        hata_loss(25000.0, 900.0, 30.0, 1.5, "suburban")
        hata_loss(30000.0, 900.0, 30.0, 1.5, "suburban")
        hata_loss(30000.0, 900.0, 30.0, 1.5, "open")
    msgs = [str(w.message) for w in rec if issubclass(w.category, ValidityRangeWarning)]
    assert len(msgs) == 1
    assert "hata" in msgs[0] and "distance_m" in msgs[0] and "25000" in msgs[0]


def test_inside_range_is_silent():
    reset_validity_warnings()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        hata_loss(5000.0, 900.0, 30.0, 1.5, "suburban")
        cost231_loss(5000.0, 1800.0, 30.0, 1.5)
        rma_loss(3000.0, 2600.0, 35.0, 1.5, False)


@pytest.mark.parametrize("call", [
    lambda: hata_loss(5000.0, 2600.0, 30.0, 1.5, "suburban", strict=True),
    lambda: hata_loss(5000.0, 900.0, 20.0, 1.5, "suburban", strict=True),
    lambda: cost231_loss(500.0, 1800.0, 30.0, 1.5, strict=True),
    lambda: rma_loss(8000.0, 2600.0, 35.0, 1.5, False, strict=True),
    lambda: rma_loss(12000.0, 2600.0, 35.0, 1.5, True, strict=True),
])
def test_strict_raises_typed_error(call):
    with pytest.raises(ValidityRangeError) as exc:
        call()
    assert isinstance(exc.value, InputError) and isinstance(exc.value, SiteplanError)
    assert "valid for" in str(exc.value)


@pytest.mark.parametrize("call", [
    lambda: free_space_loss(0.0, 900.0),
    lambda: free_space_loss(100.0, -1.0),
    lambda: hata_loss(np.nan, 900.0, 30.0, 1.5, "suburban"),
    lambda: hata_loss(1000.0, 900.0, 30.0, 0.0, "urban_large"),
    lambda: hata_loss(1000.0, 900.0, 30.0, 1.5, "downtown"),
    lambda: rma_loss(1000.0, 2600.0, 1.0, 1.5, True),
    lambda: knife_edge_loss(np.inf),
    lambda: diffraction_loss([0, 10, 5], [0, 0, 0], 10, 10, 900),
    lambda: diffraction_loss([0, 10, 20], [0, 0, 0], 10, 10, 900, method="fresnel"),
    lambda: diffraction_loss([0, 10, 20], [0, 0, 0], 10, 10, 900, effective_earth_radius_m=0),
])
@pytest.mark.filterwarnings("ignore::siteplan.propagation.ValidityRangeWarning")
def test_nonphysical_inputs_raise(call):
    with pytest.raises(PropagationInputError):
        call()


def test_out_of_range_values_are_finite():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        vals = [hata_loss([1.0, 1e6], 5000.0, 1.0, 0.1, "urban_large"),
                cost231_loss([1.0, 1e6], 100.0, 500.0, 30.0, True),
                rma_loss([0.5, 1e6], 100e3, 200.0, 0.5, False, 100.0, 100.0)]
    assert all(np.all(np.isfinite(v)) for v in vals)


def test_kernels_with_jit_disabled():
    """The same kernels run as plain Python (NUMBA_DISABLE_JIT=1) and agree with the twins."""
    script = r'''
import math, numpy as np, warnings
warnings.simplefilter("ignore")
import naive_propagation as naive
from siteplan.propagation import (hata_loss, cost231_loss, rma_loss, free_space_loss,
    knife_edge_loss, diffraction_loss, diffraction_loss_dem, terrain_profile, sector_gain)
from siteplan.propagation import _kernels
import numba
assert numba.config.DISABLE_JIT
assert abs(hata_loss(2000.0, 869.0, 30.0, 1.0, "urban_large") - 137.93) < 0.05
assert abs(cost231_loss(2000.0, 2114.0, 30.0, 1.0, True) - 153.52) < 0.005
assert abs(rma_loss(1000.0, 5000.0, 35.0, 1.5, False) - 133.5223) < 1e-3
assert abs(free_space_loss(1000.0, 900.0) - 91.53) < 0.005
assert np.allclose(knife_edge_loss([0.0, 1.0]), [6.033, 13.926], atol=5e-4)
rng = np.random.default_rng(0)
d = np.linspace(0, 8000, 25); e = rng.uniform(0, 120, 25)
for m, ref in (("bullington", naive.bullington(d, e, e[0] + 30, e[-1] + 1.5, 900.0, 8494667.0)),
               ("deygout", naive.deygout(d, e, e[0] + 30, e[-1] + 1.5, 900.0, 8494667.0, 2)),
               ("epstein_peterson", naive.epstein_peterson(d, e, e[0] + 30, e[-1] + 1.5, 900.0, 8494667.0))):
    got = diffraction_loss(d, e, 30.0, 1.5, 900.0, m)
    assert abs(got - ref) < 1e-7 * max(1.0, abs(ref)), (m, got, ref)
dem = rng.uniform(0, 100, (20, 20)).astype(np.int16)
a = diffraction_loss_dem(dem, 0.0, 600.0, 30.0, [10.0, 50.0], [20.0, 500.0], 30.0, [590.0, 400.0], [580.0, 30.0], 1.5, 900.0, 21)
pd, pe = terrain_profile(dem, 0.0, 600.0, 30.0, [10.0, 50.0], [20.0, 500.0], [590.0, 400.0], [580.0, 30.0], 21)
b = [naive.bullington(pd[k], pe[k], pe[k][0] + 30.0, pe[k][-1] + 1.5, 900.0, 8494667.0) for k in range(2)]
assert np.allclose(a, b, rtol=1e-7, atol=1e-9)
assert abs(sector_gain(32.5, 4.0, 0.0) + 3.0) < 1e-12
from siteplan.propagation import path_loss_matrix
for m in ("hata", "rma"):
    args = (m, [0.0, 500.0], [0.0, 50.0], [30.0, 40.0], [1000.0, 2000.0, 0.3], [0.0, 5.0, 0.0], 1.5, 900.0)
    m64 = path_loss_matrix(*args)
    m32 = path_loss_matrix(*args, dtype=np.float32)
    exp = [[naive.model_loss(m, "suburban", max(math.hypot(x - sx, y - sy), 1.0), 900.0, hb, 1.5, False)
            for x, y in ((1000.0, 0.0), (2000.0, 5.0), (0.3, 0.0))]
           for sx, sy, hb in ((0.0, 0.0, 30.0), (500.0, 50.0, 40.0))]
    assert np.allclose(m64, exp, rtol=0, atol=1e-9), (m, m64, exp)
    assert m32.dtype == np.float32 and np.max(np.abs(m32 - m64)) <= 2e-4

print("ok")
'''
    env = dict(os.environ, NUMBA_DISABLE_JIT="1",
               PYTHONPATH=os.pathsep.join([str(ROOT / "src"), str(ROOT / "tests")]))
    res = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True,
                         text=True, timeout=300)
    assert res.returncode == 0, res.stderr[-3000:]
    assert res.stdout.strip().endswith("ok")


def test_compiled_kernels_are_cached_between_processes():
    """cache=True (siteplan.config): a second process loads the compiled kernel from
    the on-disk cache instead of compiling it again."""
    script = r'''
import json, numpy as np
from siteplan.propagation import path_loss_matrix
from siteplan.propagation import _kernels as K
path_loss_matrix("hata", [0.0], [0.0], [30.0], [1000.0, 2000.0], [0.0, 5.0], 1.5, 900.0)
st = K._loss_matrix_serial.stats  # small input: the serial twin runs
print(json.dumps({"hits": sum(st.cache_hits.values()), "misses": sum(st.cache_misses.values())}))
'''
    env = dict(os.environ, PYTHONPATH=str(ROOT / "src"))
    env.pop("NUMBA_DISABLE_JIT", None)
    env.pop("SITEPLAN_NUMBA_CACHE", None)
    runs = []
    for _ in range(2):
        res = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True,
                             text=True, timeout=300)
        assert res.returncode == 0, res.stderr[-2000:]
        import json

        runs.append(json.loads(res.stdout.strip().splitlines()[-1]))
    assert runs[1]["hits"] >= 1 and runs[1]["misses"] == 0
