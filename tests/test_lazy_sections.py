"""Sections below the fold are built when they come into view (widgets/views/lazy.py), without a browser:
what a lesson page's kernel does when the placeholder reports `visible`, a link names a lower section,
or Python code asks a waiting section for its controls. The browser side: test_lazy_sections_browser.py."""
import pytest

from widgets.views import lazy, page
from widgets.views.feature_scaling import ScalingAndLearningRate, TanhLayer, TanhSaturation


@pytest.fixture
def lesson1_page(monkeypatch):
    """Lesson 1 as its notebook builds it: page_header() first, then its three sections."""
    page.reset()
    monkeypatch.delenv("QUERY_STRING", raising=False)
    monkeypatch.delenv("LESSONS_LAZY", raising=False)
    monkeypatch.setattr(page, "lazy", False)
    page.page_header()
    assert page.lazy
    secs = [TanhSaturation(), TanhLayer(), ScalingAndLearningRate()]
    yield secs
    page.reset()


def _placeholder_shown(s) -> bool:
    return any(isinstance(w, lazy.Placeholder) for w in s.widget.children)


def test_only_the_first_section_is_built_on_a_lesson_page(lesson1_page):
    tanh, layer, lr = lesson1_page
    assert tanh.built and not _placeholder_shown(tanh) and tanh.figures
    for s in (layer, lr):
        assert not s.built and _placeholder_shown(s) and s.figures == {}
        assert "Preparing this section" in s.placeholder.text
        assert "lesson-section" in s.widget._dom_classes and f"section-{s.name}" in s.widget._dom_classes


def test_coming_into_view_builds_the_section_and_puts_it_in_place(lesson1_page):
    _, layer, _ = lesson1_page
    layer.placeholder.visible = True
    assert layer.built and not _placeholder_shown(layer)
    assert layer.figures and all(f in layer.widget.children or _inside(layer.widget, f) for f in layer.figures.values())
    before = layer.numbers.value
    layer.controls["units"].widget.value = 16       # it answers
    assert layer.numbers.value != before and layer.status.value == ""


def test_the_placeholder_says_building_before_the_build_starts(lesson1_page, monkeypatch):
    _, layer, _ = lesson1_page
    seen, build = [], TanhLayer.build
    monkeypatch.setattr(TanhLayer, "build", lambda self: seen.append(self.placeholder.text) or build(self))
    layer.placeholder.visible = True
    assert seen == ["Building this section…"] and layer.built


def _inside(box, w) -> bool:
    return any(c is w or (hasattr(c, "children") and _inside(c, w)) for c in getattr(box, "children", ()))


def test_python_that_asks_a_waiting_section_for_its_controls_gets_it_built_but_not_shown(lesson1_page):
    _, layer, lr = lesson1_page
    assert lr.values()["steps"] == lr.controls["steps"].default
    assert lr.built and _placeholder_shown(lr)       # built in the kernel; shown when it comes into view
    lr.placeholder.visible = True
    assert not _placeholder_shown(lr) and _inside(lr.widget, lr.controls["steps"].widget)
    assert not layer.built                           # nothing else was built on the way


def test_a_link_to_a_lower_section_opens_it_in_that_state_and_reports_a_refused_value(lesson1_page):
    _, layer, lr = lesson1_page
    header = page.PageHeader()
    header.apply("lr.steps=20&units=abc")
    assert lr.values()["steps"] == 20 and layer.values()["units"] == layer.controls["units"].default
    assert "units" in header.message.value and "not a number" in header.message.value
    lr.placeholder.visible = True
    assert lr.controls["steps"].value == 20 and not _placeholder_shown(lr)


def test_an_empty_link_builds_nothing(lesson1_page):
    _, layer, lr = lesson1_page
    page.PageHeader().apply("")
    assert not layer.built and not lr.built


def test_sections_built_by_python_code_are_built_at_once():
    page.reset()
    assert not page.lazy or pytest.fail("page.lazy left on by another test")
    secs = [TanhSaturation(), TanhLayer()]
    assert all(s.built and not _placeholder_shown(s) for s in secs)
    page.reset()


def test_lessons_lazy_0_turns_it_off(monkeypatch):
    page.reset()
    monkeypatch.setattr(page, "lazy", False)
    monkeypatch.setenv("LESSONS_LAZY", "0")
    page.page_header()
    secs = [TanhSaturation(), TanhLayer()]
    assert all(s.built for s in secs)
    page.reset()


def test_a_section_whose_build_fails_says_so_in_its_box_without_a_traceback(lesson1_page):
    class Broken(TanhLayer):
        name, words = "broken", "layer"

        def build(self):
            raise RuntimeError("no <b>data</b>")

    broken = Broken()
    broken.placeholder.visible = True
    assert broken.widget.children[-1] is broken.status
    assert "no &lt;b&gt;data&lt;/b&gt;" in broken.status.value and "Traceback" not in broken.status.value


def test_lesson3s_cost_calculator_times_only_once_it_is_built(monkeypatch):
    """Its first timing run (torch's FLOP counter and the clock) starts when the section is built: on
    the page, when it comes into view, not while the page loads (CostCalculator.after_build)."""
    from widgets.views import bottleneck as V

    page.reset()
    monkeypatch.delenv("QUERY_STRING", raising=False)
    monkeypatch.delenv("LESSONS_LAZY", raising=False)
    monkeypatch.setattr(page, "lazy", False)
    page.page_header()
    started = []
    monkeypatch.setattr(V.CostCalculator, "start_timing", lambda self: started.append(self.shape))
    try:
        V.single_channel()
        calc = V.CostCalculator()
        assert not calc.built and started == []
        calc.placeholder.visible = True
        assert calc.built and len(started) == 1
        assert len(V.CostCalculator(autorun_timing=False).controls) and len(started) == 1
    finally:
        page.reset()


def test_a_lazy_build_that_fails_shows_its_own_message_when_seen(lesson1_page, monkeypatch):
    """A build reached from Python (a link) that fails leaves the section failed, not half-built: seen
    later, its box shows the build's own error, once, and it is not built again."""
    _, layer, _ = lesson1_page
    calls = []

    def broken(self):
        calls.append(1)
        raise ValueError("no <data>")

    monkeypatch.setattr(type(layer), "build", broken)
    with pytest.raises(ValueError):
        layer.ensure_built()
    layer.placeholder.visible = True
    assert not layer.built and layer.status in layer.widget.children and not _placeholder_shown(layer)
    assert "ValueError: no &lt;data&gt;" in layer.status.value and "_content" not in layer.status.value
    assert calls == [1]


def test_the_link_of_a_page_with_waiting_sections_names_sections_and_builds_none(lesson1_page):
    """The link button on a lazy page builds nothing; its keys name their section, so the link, opened,
    builds only the sections it names."""
    tanh, layer, lr = lesson1_page
    tanh.controls["w"].set(0.3)
    assert page.link_query(page.sections()) == "tanh.w=0.3"
    assert not layer.built and not lr.built
    page.reset()
    fresh = [TanhSaturation(), TanhLayer(), ScalingAndLearningRate()]
    page.PageHeader().apply("tanh.w=0.3")
    assert fresh[0].values()["w"] == 0.3 and not fresh[1].built and not fresh[2].built


def test_running_the_header_cell_again_starts_a_new_page(lesson1_page):
    page.page_header()
    assert page.sections() == []
    assert TanhSaturation().built      # the first section of the new page is built at once
