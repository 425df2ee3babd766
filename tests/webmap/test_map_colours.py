"""The map's colours can be told apart (issue 12, point 5): by colour-blind viewers, against the
base map, and under text. Pure computation on webmap.style's colours; the browser tests check
that the page draws these colours (test_browser.py, test_map_browser.py)."""

from __future__ import annotations

import colorsys
import itertools

import numpy as np
import pytest

from webmap import style

#: Machado, Oliveira & Fernandes (2009), severity 1.0, on linear RGB
MACHADO = {
    "deuteranopia": np.array(
        [
            [0.367322, 0.860646, -0.227968],
            [0.280085, 0.672501, 0.047413],
            [-0.011820, 0.042940, 1.968637],
        ]
    ),
    "protanopia": np.array(
        [
            [0.152286, 1.052583, -0.204868],
            [0.114503, 0.786281, 0.099216],
            [-0.003882, -0.048116, 1.051998],
        ]
    ),
}
#: what "distinct" means here: a CIE76 difference that small symbols keep at a glance (the old
#: red and orange, 22 apart for deuteranopes, read as one olive)
DISTINCT = 30.0
#: OpenStreetMap's land colour, the light end of the base maps in use
OSM_LAND = "#f2efe9"


def lab(linear) -> np.ndarray:
    """CIELAB (D65) of linear-light RGB."""
    rgb = np.clip(np.asarray(linear, dtype=float), 0, 1)
    xyz = (
        np.array(
            [
                [0.4124, 0.3576, 0.1805],
                [0.2126, 0.7152, 0.0722],
                [0.0193, 0.1192, 0.9505],
            ]
        )
        @ rgb
        / np.array([0.95047, 1.0, 1.08883])
    )
    f = np.where(xyz > 0.008856, np.cbrt(xyz), 7.787 * xyz + 16 / 116)
    return np.array([116 * f[1] - 16, 500 * (f[0] - f[1]), 200 * (f[1] - f[2])])


def difference(a: str, b: str, matrix=None) -> float:
    """CIE76 difference of two colours, as seen through ``matrix`` (None: normal vision)."""
    la, lb = np.array(style.linear_rgb(a)), np.array(style.linear_rgb(b))
    if matrix is not None:
        la, lb = matrix @ la, matrix @ lb
    return float(np.linalg.norm(lab(la) - lab(lb)))


def blend(colour: str, over: str, opacity: float) -> str:
    """``colour`` at ``opacity`` over ``over`` (sRGB, as a browser composites)."""
    a = [int(colour[i : i + 2], 16) for i in (1, 3, 5)]
    b = [int(over[i : i + 2], 16) for i in (1, 3, 5)]
    return "#" + "".join(
        f"{round(opacity * x + (1 - opacity) * y):02x}" for x, y in zip(a, b, strict=True)
    )


def hue(colour: str) -> float:
    r, g, b = (int(colour[i : i + 2], 16) / 255 for i in (1, 3, 5))
    return colorsys.rgb_to_hls(r, g, b)[0] * 360


@pytest.mark.parametrize("vision", [None, *MACHADO])
def test_the_tiers_stay_apart_for_colour_blind_viewers(vision):
    matrix = MACHADO.get(vision)
    colours = style.tier_colours()
    for (a, ca), (b, cb) in itertools.combinations(colours.items(), 2):
        assert difference(ca, cb, matrix) >= DISTINCT, (vision, a, b)


def test_the_old_red_and_orange_were_not_apart_so_the_check_can_fail():
    # the colours before issue 12: red and orange became the same olive for deuteranopes
    assert difference("#d7191c", "#fd8d3c", MACHADO["deuteranopia"]) < DISTINCT
    assert style.contrast("#fd8d3c", style.BASEMAP_GREY) < 3


def test_every_tier_has_its_own_shape():
    assert set(style.TIER_SHAPES) == set(style.tier_colours())
    assert len(set(style.TIER_SHAPES.values())) == 3


@pytest.mark.parametrize("ground", [style.BASEMAP_GREY, OSM_LAND])
def test_symbols_stand_out_3_to_1_against_the_base_map(ground):
    # every symbol is outlined: the outline alone reaches 3:1 whatever the fill ...
    assert style.contrast(style.SYMBOL_OUTLINE, ground) >= 3
    # ... and on the choropleth's darkest class too
    assert style.contrast(style.SYMBOL_OUTLINE, blend(style.CHOROPLETH[-1], ground, 0.35)) >= 3
    # the high and low fills reach it on their own (orange, the medium tier, needs the outline)
    for name in ("high", "low"):
        assert style.contrast(style.tier_colours()[name], ground) >= 3, name
    # the overdue mark (dark, ringed white) stands out against the map as well
    assert style.contrast(style.OVERDUE_COLOUR, ground) >= 3


def test_text_on_tier_badges_meets_wcag_aa():
    for name, colour in style.tier_colours().items():
        assert style.contrast(style.TIER_TEXT[name], colour) >= 4.5, name


def test_the_choropleth_is_purple_and_the_tier_red_stays_clear_of_it():
    for colour in style.CHOROPLETH[1:]:
        assert 240 <= hue(colour) <= 300, colour  # blue-violet to purple
    high = style.tier_colours()["high"]
    for colour in style.CHOROPLETH:
        shown = blend(colour, style.BASEMAP_GREY, 0.35)  # the layer's fill opacity
        for vision in (None, *MACHADO.values()):
            assert difference(high, shown, vision) >= DISTINCT, colour


def test_the_heatmap_does_not_pass_through_blue():
    for colour in style.HEAT_GRADIENT.values():
        assert not 150 <= hue(colour) <= 300, colour  # yellow, orange, red: no blue or cyan
    # and it starts light and ends dark
    stops = [c for _, c in sorted(style.HEAT_GRADIENT.items())]
    assert style.luminance(stops[0]) > style.luminance(stops[-1])


def test_contrast_is_wcag_contrast():
    assert style.contrast("#ffffff", "#000000") == pytest.approx(21)
    assert style.contrast("#777777", "#ffffff") == pytest.approx(4.48, abs=0.01)
