"""report.html in headless Chromium (Debian's ``chromium``): the page renders without a
console message and its first map is drawn (not blank).

Chromium is installed by ``.ci/install-chromium``. Without it the tests skip, except under
CI (env ``CI`` set and not false), where a missing browser is a failure.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

from report_plan_factory import make_plan, make_raster
from scenario_factory import make_scenario
from siteplan import read_scenario
from siteplan.report import write_report_html
from siteplan.report._style import MAP_BACKGROUND, VILLAGE_COVERED, VILLAGE_UNCOVERED, operator_colour

WINDOW = (1280, 2000)


def _chromium(which=shutil.which, exists=os.path.exists, env=os.environ) -> str:
    exe = which("chromium") or ("/usr/bin/chromium" if exists("/usr/bin/chromium") else None)
    if exe is None:
        if env.get("CI", "").strip().lower() not in ("", "0", "false", "no"):
            pytest.fail("chromium is missing under CI: .ci/install-chromium must install it")
        pytest.skip("chromium not installed (run .ci/install-chromium); required under CI")
    return exe


def render(page: Path, tmp: Path) -> tuple[np.ndarray, list[str]]:
    """Screenshot ``page`` (RGB uint8 array) and the page's console lines from Chromium's log."""
    exe = _chromium()
    profile = tmp / "profile"
    profile.mkdir()
    shot = tmp / "shot.png"
    cmd = [exe, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
           "--disable-background-networking", "--disable-component-update", "--disable-sync",
           "--disable-extensions", "--hide-scrollbars", f"--user-data-dir={profile}", "--enable-logging=stderr",
           "--v=0", f"--screenshot={shot}", f"--window-size={WINDOW[0]},{WINDOW[1]}", page.resolve().as_uri()]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=90, env={**os.environ, "LANG": "C.UTF-8"})
    assert shot.exists(), f"chromium wrote no screenshot (rc {proc.returncode}):\n{proc.stderr[-3000:]}"
    console = [line for line in proc.stderr.splitlines()
               if ":CONSOLE" in line or "Uncaught" in line or "console error" in line.lower()]
    import matplotlib.image as mpimg

    img = mpimg.imread(shot)
    rgb = np.round(img[..., :3] * 255).astype(np.uint8)
    return rgb, console


def _rgb(hex_colour: str) -> np.ndarray:
    h = hex_colour.lstrip("#")
    return np.array([int(h[i:i + 2], 16) for i in (0, 2, 4)], dtype=np.uint8)


def first_map_region(rgb: np.ndarray) -> tuple[slice, slice] | None:
    """The first map on the page: the first run of columns (then rows) rich in the map
    background colour. None when no map background is visible."""
    bg = (rgb == _rgb(MAP_BACKGROUND)).all(axis=-1)
    if bg.sum() < 100 * 100:
        return None
    cols = bg.sum(axis=0)
    on = cols > 0.5 * cols.max()
    j0 = int(np.argmax(on))
    j1 = j0 + int(np.argmin(on[j0:])) if not on[j0:].all() else len(on)
    rows = bg[:, j0:j1].sum(axis=1)
    on_r = rows > 0.5 * rows.max()
    i0 = int(np.argmax(on_r))
    i1 = i0 + int(np.argmin(on_r[i0:])) if not on_r[i0:].all() else len(on_r)
    return slice(i0, i1), slice(j0, j1)


def map_drawn(rgb: np.ndarray, colours: list[str]) -> tuple[bool, str]:
    """Whether the first map region shows content: enough variance and non-background
    pixels, and each of ``colours`` present. Returns (ok, explanation)."""
    region = first_map_region(rgb)
    if region is None:
        return False, "no map background visible"
    r = rgb[region]
    h, w = r.shape[:2]
    if h < 200 or w < 200:
        return False, f"map region only {w}x{h} px"
    bg = (r == _rgb(MAP_BACKGROUND)).all(axis=-1)
    share = 1.0 - bg.mean()
    var = float(r.astype(float).var(axis=(0, 1)).sum())
    missing = [c for c in colours if not (r == _rgb(c)).all(axis=-1).any()]
    ok = share > 0.002 and var > 5.0 and not missing
    return ok, f"{w}x{h} px, non-background {share:.4f}, variance {var:.1f}, missing colours {missing}"


@pytest.fixture(scope="module")
def scenario(tmp_path_factory):
    return read_scenario(make_scenario(tmp_path_factory.mktemp("report_browser") / "s"))


def test_report_renders_in_chromium(scenario, tmp_path):
    page = write_report_html(make_plan(), scenario, tmp_path / "report.html", raster=make_raster(scenario))
    rgb, console = render(page, tmp_path)
    assert rgb.shape[:2] == (WINDOW[1], WINDOW[0])
    assert console == [], "console messages from the page:\n" + "\n".join(console)
    # phase p1: a covered and an uncovered village, stations of both operators
    ok, why = map_drawn(rgb, [VILLAGE_COVERED, VILLAGE_UNCOVERED, operator_colour(0), operator_colour(1)])
    assert ok, why
    # the map sits near the top of the page, below the notice and the quota table
    rows, cols = first_map_region(rgb)
    assert rows.start < 1200 and cols.stop - cols.start > 400


def test_checks_catch_a_broken_page(tmp_path):
    """A page with an external image, a script error and a blank map must fail both checks."""
    page = tmp_path / "broken.html"
    page.write_text(
        "<!DOCTYPE html><html><head><meta charset='utf-8'></head><body>"
        f"<svg width='600' height='500'><rect width='600' height='500' fill='{MAP_BACKGROUND}'/></svg>"
        "<img src='https://cdn.invalid/logo.png'><script>undefined_function();</script></body></html>",
        encoding="utf-8")
    rgb, console = render(page, tmp_path)
    assert any("Uncaught" in line for line in console), console
    ok, why = map_drawn(rgb, [VILLAGE_COVERED])
    assert not ok, why
    assert re.search(r"non-background 0\.0+,", why), why


@pytest.mark.parametrize("env, outcome", [({"CI": "true"}, pytest.fail.Exception), ({}, pytest.skip.Exception),
                                          ({"CI": "false"}, pytest.skip.Exception)])
def test_missing_chromium_fails_only_under_ci(env, outcome):
    with pytest.raises(outcome):
        _chromium(which=lambda name: None, exists=lambda path: False, env=env)
    assert _chromium(which=lambda name: "/opt/chromium", exists=lambda path: False, env=env) == "/opt/chromium"
