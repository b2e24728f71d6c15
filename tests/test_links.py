"""Links that open a lesson in a given state: query parsing, routing to sections, the link itself."""
import pytest

from lessons import build_lesson
from widgets.views import page
from widgets.views.feature_scaling import ScalingAndLearningRate, TanhLayer, TanhSaturation


@pytest.fixture
def lesson1():
    page.reset()
    secs = [TanhSaturation(), TanhLayer(), ScalingAndLearningRate()]
    yield page.PageHeader(), secs
    page.reset()


def test_a_link_sets_the_controls_it_names(lesson1):
    header, (tanh, layer, lr) = lesson1
    header.apply("w=0.3&x=7&units=16&lr.steps=20")
    assert tanh.values()["w"] == 0.3 and tanh.values()["x"] == 7 and layer.values()["units"] == 16
    assert lr.values()["steps"] == 20 and header.message.value == ""
    assert "2.1" in tanh.numbers.value and "0.9705" in tanh.numbers.value   # z = 2.1, tanh(2.1)


@pytest.mark.parametrize("query,kept,why", [
    ("x=abc", ("x", 20.0), "is not a number"),
    ("x=1e9", ("x", 20.0), "from -100 to 100"),
    ("x=nan", ("x", 20.0), "finite"),
    ("w=inf", ("w", 0.1), "finite"),
    ("nosuch=1", ("w", 0.1), "no control of this lesson"),
    ("tanh.units=16", ("w", 0.1), "no control of this lesson"),
])
def test_bad_values_keep_their_defaults_and_are_listed_at_the_top(lesson1, query, kept, why):
    header, (tanh, *_rest) = lesson1
    header.apply(query)
    assert tanh.values()[kept[0]] == kept[1]
    assert why in header.message.value and "keep their defaults" in header.message.value


def test_html_in_a_link_is_escaped_at_the_top(lesson1):
    header, _ = lesson1
    header.apply("%3Cscript%3Ealert(1)%3C/script%3E=1&x=%3Cimg%20src=x%20onerror=alert(1)%3E")
    assert "<script" not in header.message.value and "<img" not in header.message.value
    assert "&lt;script&gt;" in header.message.value


def test_a_very_long_link_is_cut_with_a_note(lesson1):
    header, (tanh, *_r) = lesson1
    header.apply("w=0.3&" + "a=1&" * 2000)
    assert tanh.values()["w"] == 0.3 and "only its start was read" in header.message.value


def test_a_name_two_sections_share_needs_its_section_prefix():
    class Twin(TanhSaturation):
        name, words = "twin", "tanh"

    page.reset()
    a, b = TanhSaturation(), Twin()
    header = page.PageHeader()
    header.apply("w=0.5&twin.w=0.2")
    assert a.values()["w"] == 0.1 and b.values()["w"] == 0.2
    assert "several sections have it: write tanh.w or twin.w" in header.message.value
    assert page.link_query([a, b]) == "twin.w=0.2"
    page.reset()


def test_the_link_names_every_control_that_differs_and_round_trips(lesson1):
    header, (tanh, layer, lr) = lesson1
    tanh.controls["w"].set(0.3)
    layer.controls["standardised"].set(True)
    lr.controls["lr_raw"].set(1e-5)
    query = page.link_query(page.sections())
    assert query == "w=0.3&standardised=true&lr_raw=1e-05"
    page.reset()
    fresh = [TanhSaturation(), TanhLayer(), ScalingAndLearningRate()]
    page.PageHeader().apply(query)
    assert [s.values() for s in fresh] == [tanh.values(), layer.values(), lr.values()]


def test_the_link_button_shows_an_escaped_address(lesson1):
    header, (tanh, *_r) = lesson1
    header.bridge.address = "http://127.0.0.1:8866/voila/render/01_feature_scaling.ipynb"
    tanh.controls["x"].set(7)
    header.make_link()
    assert "href='http://127.0.0.1:8866/voila/render/01_feature_scaling.ipynb?x=7'" in header.link.value


def test_in_a_notebook_the_button_explains_keyword_arguments(lesson1):
    header, _ = lesson1
    header.make_link()
    assert "tanh_saturation(w=0.3, x=7)" in header.link.value


def test_the_bridge_report_applies_the_query_once(lesson1):
    header, (tanh, *_r) = lesson1
    header.bridge.query = "w=0.3"
    header.bridge.reported = True
    assert tanh.values()["w"] == 0.3
    tanh.controls["w"].set(0.5)
    header.bridge.reported = False
    header.bridge.reported = True
    assert tanh.values()["w"] == 0.5


def test_without_preheat_sections_read_the_kernels_query_string(monkeypatch):
    monkeypatch.setenv("QUERY_STRING", "w=0.3&x=7&layer.units=16&lr.x=1")
    page.reset()
    tanh, layer = TanhSaturation(), TanhLayer()
    assert tanh.values()["w"] == 0.3 and tanh.values()["x"] == 7 and layer.values()["units"] == 16
    page.reset()


@pytest.mark.parametrize("address,lang,expected", [
    ("http://h/voila/render/01_feature_scaling.ipynb", "zh", "http://h/voila/render/zh/01_feature_scaling.ipynb"),
    ("http://h/voila/render/zh/01_feature_scaling.ipynb", "en", "http://h/voila/render/01_feature_scaling.ipynb"),
    ("http://h/user/x/voila/render/notebooks/03_bottleneck.ipynb", "zh",
     "http://h/user/x/voila/render/notebooks/zh/03_bottleneck.ipynb"),
])
def test_the_language_switch_opens_the_other_edition(address, lang, expected):
    assert page.other_language_address(address, lang) == expected


def test_the_language_switch_keeps_the_state(lesson1):
    header, (tanh, *_r) = lesson1
    header.bridge.address = "http://h/voila/render/01_feature_scaling.ipynb"
    tanh.controls["x"].set(7)
    header.switch_language()
    assert header.bridge.navigate == "http://h/voila/render/zh/01_feature_scaling.ipynb?x=7"
    assert header.switch.description == "中文"


def test_an_ambiguous_plain_name_taken_while_building_is_given_back(monkeypatch):
    """Without pre-heat the first section takes `w` from QUERY_STRING before a later one shows `w` is shared."""
    class Twin(TanhSaturation):
        name, words = "twin", "tanh"

    monkeypatch.setenv("QUERY_STRING", "w=0.5")
    page.reset()
    a, b = TanhSaturation(), Twin()
    header = page.PageHeader()
    header.apply("w=0.5")
    assert a.values()["w"] == 0.1 and b.values()["w"] == 0.1
    assert "several sections have it" in header.message.value
    page.reset()


def test_the_switch_shows_only_when_the_other_edition_exists(lesson1):
    header, _ = lesson1
    assert header.switch.layout.display == "none"
    header.bridge.address = "http://h/voila/render/zz_no_such_lesson.ipynb"
    header.bridge.reported = True
    assert header.switch.layout.display == "none"
    assert page.other_edition_exists("http://h/voila/render/01_feature_scaling.ipynb", "zh")
    assert page.other_edition_exists("http://h/voila/render/zh/01_feature_scaling.ipynb", "en")
    assert page.other_edition_exists("", "zh")


def test_every_telling_state_on_the_landing_page_opens_without_a_refusal():
    from urllib.parse import urlsplit

    from widgets.views.index import _states

    for stem, states in _states().items():
        for target, _nums in states:
            parts = urlsplit(target)
            on_page = build_lesson(stem, header=False)
            header = page.PageHeader()
            header.apply(parts.query)
            assert header.message.value == "", (stem, target, header.message.value)
            assert parts.fragment in {s.name for s in on_page}, (stem, parts.fragment)
    page.reset()


def test_lesson3_calculator_takes_its_sizes_from_a_link():
    """The issue's example: ?ch_in=64 gives 28·28·32·5·5·64 = 40,140,800 direct multiplications."""
    on_page = build_lesson("03_bottleneck", header=False)
    page.PageHeader().apply("ch_in=64")
    cost = next(s for s in on_page if s.name == "cost")
    text = " ".join(str(getattr(v, "value", "")) for v in vars(cost).values())
    assert "40,140,800" in text
    page.reset()


def test_the_landing_pages_state_numbers_match_independent_references():
    """The telling-state lines quote tanh(4) and its slope, 28·28·(192·4 + 5·5·4·32) multiplications,
    and four stacked inception 3a modules as counted by the explorer's closed form."""
    import math

    from widgets.views.index import _states

    st = _states()
    one = st["01_feature_scaling"][0][1]
    assert one == {"a": f"{math.tanh(4.0):.4f}", "slope": f"{1 - math.tanh(4.0) ** 2:.5f}"}
    three = st["03_bottleneck"][0][1]
    assert three == {"macs": f"{28 * 28 * (192 * 4 + 5 * 5 * 4 * 32):,}", "direct": f"{28 * 28 * 32 * 5 * 5 * 192:,}"}
    four = st["04_inception"][0][1]
    assert float(four["naive"]) > float(four["reduced"]) > 0
