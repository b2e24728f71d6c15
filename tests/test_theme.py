"""The course's palette and themes, without a browser: colour-blind-safe pairs, WCAG contrast of
every text colour in both themes, figures that follow the page's theme, legends clear of titles."""
from __future__ import annotations

import re

import numpy as np
import pytest

from widgets import ui
from widgets.views import page, palette, theme

# --------------------------------------------------------------------------- colour-blind simulation
# Independent reference: Viénot, Brettel & Mollon (1999) for protanopia and deuteranopia, and
# Machado, Oliveira & Fernandes (2009, severity 1.0) for tritanopia; matrices act on linear RGB.
CVD = {
    "protanopia": np.array([[0.11238, 0.88762, 0.0], [0.11238, 0.88762, 0.0], [0.00401, -0.00401, 1.0]]),
    "deuteranopia": np.array([[0.29275, 0.70725, 0.0], [0.29275, 0.70725, 0.0], [-0.02234, 0.02234, 1.0]]),
    "tritanopia": np.array([[1.255528, -0.076749, -0.178779], [-0.078411, 0.930809, 0.147602],
                            [0.004733, 0.691367, 0.303900]]),
}


def _linear(color: str) -> np.ndarray:
    c = np.array(palette._rgb(color)) / 255
    return np.where(c <= 0.04045, c / 12.92, ((c + 0.055) / 1.055) ** 2.4)


def _lab(linear_rgb: np.ndarray) -> np.ndarray:
    xyz = np.array([[0.4124, 0.3576, 0.1805], [0.2126, 0.7152, 0.0722], [0.0193, 0.1192, 0.9505]]) @ np.clip(
        linear_rgb, 0, 1)
    t = xyz / np.array([0.95047, 1.0, 1.08883])
    f = np.where(t > (6 / 29) ** 3, np.cbrt(t), t / (3 * (6 / 29) ** 2) + 4 / 29)
    return np.array([116 * f[1] - 16, 500 * (f[0] - f[1]), 200 * (f[1] - f[2])])


def seen_apart(a: str, b: str) -> float:
    """The smallest CIELAB distance (ΔE76) between a and b, for normal vision and the three dichromacies."""
    la, lb = _linear(a), _linear(b)
    return min([float(np.linalg.norm(_lab(la) - _lab(lb)))] +
               [float(np.linalg.norm(_lab(m @ la) - _lab(m @ lb))) for m in CVD.values()])


APART = 40  # ΔE76; red #d62728 against green #2ca02c falls to 8 for a deuteranope


def test_the_old_red_green_pair_is_what_this_check_catches():
    assert seen_apart("#d62728", "#2ca02c") < 10


def test_the_two_compared_cases_stay_apart_for_every_colour_vision():
    assert seen_apart(palette.FIRST.color, palette.SECOND.color) > APART
    assert seen_apart(palette.COLORWAY[0], palette.COLORWAY[1]) > APART


def test_compared_cases_differ_in_a_second_cue_as_well():
    a, b = palette.FIRST, palette.SECOND
    assert a.dash != b.dash and a.symbol != b.symbol
    assert a.line()["dash"] == a.dash and b.marker()["symbol"] == b.symbol


def test_the_palette_is_okabe_ito():
    assert palette.OKABE_ITO == ("#000000", "#E69F00", "#56B4E9", "#009E73", "#F0E442", "#0072B2", "#D55E00",
                                 "#CC79A7")
    assert set(palette.COLORWAY) <= set(palette.OKABE_ITO) | {palette.GREY}
    assert len(set(palette.COLORWAY)) == len(palette.COLORWAY)


# --------------------------------------------------------------------------- WCAG contrast
def test_contrast_matches_wcag_reference_values():
    assert palette.contrast("#000000", "#FFFFFF") == pytest.approx(21.0)
    assert palette.contrast("#767676", "#FFFFFF") == pytest.approx(4.54, abs=0.01)  # the AA grey
    assert palette.contrast("#777777", "#FFFFFF") == pytest.approx(4.48, abs=0.01)  # just misses it
    assert palette.contrast("#FFFFFF", "#777777") == palette.contrast("#777777", "#FFFFFF")


@pytest.mark.parametrize("theme_name", palette.THEMES)
@pytest.mark.parametrize("role", list(palette.TEXT))
def test_every_text_colour_passes_aa_on_every_background_of_its_theme(theme_name, role):
    fg = palette.value(role, theme_name)
    for bg in palette.BACKGROUNDS[theme_name]:
        assert palette.contrast(fg, bg) >= 4.5, (role, theme_name, fg, bg)


@pytest.mark.parametrize("theme_name", palette.THEMES)
def test_the_focus_ring_stands_out_from_the_page(theme_name):
    for bg in palette.BACKGROUNDS[theme_name]:
        assert palette.contrast(palette.value("focus", theme_name), bg) >= 3.0


def test_the_old_grey_labels_failed_on_dark():
    assert palette.contrast("#555555", "#212121") < 4.5   # axe's color-contrast finding on lesson 1, dark


def test_css_variables_name_every_role_in_both_themes():
    css = palette.css_variables()
    for role in (*palette.TEXT, *palette.SURFACE):
        assert css.count(f"--course-{role}:") == 2
    assert "data-jp-theme-light='false'" in css
    assert palette.var("muted") == "var(--course-muted, #555555)"


# --------------------------------------------------------------------------- markup from widgets/ui.py
def _fixed_colours(markup: str) -> list[str]:
    """Colours in `markup` that are not the fallback of a var()."""
    no_vars = re.sub(r"var\([^)]*\)", "", markup)
    return re.findall(r"#[0-9a-fA-F]{3,6}\b", no_vars)


def test_messages_and_tables_use_the_themes_variables():
    for kind in ("error", "ok"):
        assert _fixed_colours(ui.message("x", kind)) == []
        assert f"--course-{kind}" in ui.message("x", kind)
    table = ui.stat_table([("name", "1")])
    assert _fixed_colours(table) == [] and "--course-muted" in table


def test_the_stylesheet_gives_focus_and_narrow_screen_rules():
    css = theme.stylesheet()
    assert ":focus-visible" in css and "outline:3px solid var(--course-focus" in css
    assert "@media (max-width: 700px)" in css
    assert palette.css_variables() in css


# --------------------------------------------------------------------------- figures
@pytest.fixture
def light_page():
    theme.apply("light")
    yield
    theme.apply("light")


def test_a_figures_legend_sits_below_it_and_its_title_pushes_the_plot_down(light_page):
    fig = ui.figure(title="tanh(z) and its derivative")
    assert fig.layout.legend.yref == "container" and fig.layout.legend.y == 0
    assert fig.layout.legend.yanchor == "bottom"
    assert fig.layout.title.automargin is True and fig.layout.title.yanchor == "top"


def test_a_fixed_width_becomes_a_class_so_the_figure_can_shrink(light_page):
    fig = ui.figure(width=560)
    assert fig.layout.width is None and "lesson-fig-w560" in fig._dom_classes


def test_figures_follow_the_pages_theme_and_keep_their_ink_visible(light_page):
    fig = ui.figure()
    fig.add_scatter(x=[1], y=[1], name="now", marker=dict(color=palette.INK))
    fig.add_scatter(x=[1], y=[1], name="curve", line=dict(color=palette.BLUE))
    fig.add_shape(type="line", x0=0, x1=1, y0=0, y1=1, line=dict(color="black"))
    assert fig.layout.template.layout.colorway == tuple(palette.COLORWAY)
    theme.apply("dark")
    assert fig.layout.template.layout.font.color == "#f2f5fa"          # plotly_dark's text
    assert fig.layout.template.layout.paper_bgcolor == "rgba(0,0,0,0)"
    assert fig.data[0].marker.color == palette.INK_DARK and fig.data[1].line.color == palette.BLUE
    assert fig.layout.shapes[0].line.color == palette.INK_DARK
    theme.apply("light")
    assert fig.data[0].marker.color == palette.INK
    assert fig.layout.template.layout.font.color == "#2a3f5f"          # plotly_white's text


def test_a_figure_built_on_a_dark_page_is_dark_from_the_start(light_page):
    theme.apply("dark")
    fig = ui.figure()
    assert fig.layout.template.layout.font.color == "#f2f5fa"


@pytest.mark.parametrize("reported,expected", [("dark", "dark"), ("JupyterLab Dark", "dark"), ("light", "light"),
                                               ("", "light"), (None, "light"), ("<b>", "light")])
def test_theme_names_are_normalised(reported, expected):
    assert theme.normalise(reported) == expected


def test_before_any_report_the_kernel_reads_voilas_theme_parameter(monkeypatch):
    monkeypatch.setenv("QUERY_STRING", "w=0.3&theme=dark")
    monkeypatch.setitem(theme._state, "theme", None)
    assert theme.current() == "dark" and theme.template() == "course_dark"
    monkeypatch.setitem(theme._state, "theme", None)
    monkeypatch.setenv("QUERY_STRING", "")
    assert theme.current() == "light"


# --------------------------------------------------------------------------- the page bridge
@pytest.fixture
def lesson1(light_page):
    from widgets.views.feature_scaling import ScalingAndLearningRate, TanhLayer, TanhSaturation

    page.reset()
    header = page.PageHeader()
    secs = [TanhSaturation(), TanhLayer(), ScalingAndLearningRate()]
    yield header, secs
    page.reset()


def test_voilas_theme_parameter_is_not_reported_as_an_ignored_control(lesson1):
    header, (tanh, *_r) = lesson1
    header.apply("theme=dark&w=0.3")
    assert tanh.values()["w"] == 0.3 and header.message.value == ""


def test_the_bridge_names_each_section_region_by_its_title(lesson1):
    header, secs = lesson1
    assert header.bridge.titles == {s.name: s.title for s in secs}
    assert header.bridge.css == theme.stylesheet()


def test_the_reported_theme_redraws_every_section_figure(lesson1):
    header, secs = lesson1
    header.bridge.theme = "dark"
    figs = [f for s in secs for f in s.figures.values()]
    assert figs and all(f.layout.template.layout.font.color == "#f2f5fa" for f in figs)
    header.bridge.theme = "light"
    assert all(f.layout.template.layout.font.color == "#2a3f5f" for f in figs)
