"""Every control of every lesson section parses what a link or a keyword may give it:
a value in range, out of range, of the wrong type, and an HTML/script payload."""
import importlib
import inspect
import math
import pkgutil

import ipywidgets as ipw
import pytest

from widgets import ui
from widgets.views import page
from widgets.views.section import Section

LESSONS = ["feature_scaling", "batch_norm", "bottleneck", "inception", "live_training"]
PAYLOAD = "<script>alert(1)</script>"


def section_classes():
    found = []
    for lesson in LESSONS:
        pkg = importlib.import_module(f"widgets.views.{lesson}")
        mods = [pkg] + [importlib.import_module(f"{pkg.__name__}.{m.name}")
                        for m in pkgutil.iter_modules(getattr(pkg, "__path__", []))]
        for mod in mods:
            for obj in vars(mod).values():
                if inspect.isclass(obj) and issubclass(obj, Section) and obj.name and obj not in found:
                    found.append(obj)
    return found


CLASSES = section_classes()
BUILT = {cls: cls() for cls in CLASSES}     # one instance each, built once at collection
page.reset()


@pytest.fixture(scope="module")
def built():
    return BUILT


def controls():
    return [(cls, name) for cls in CLASSES for name in BUILT[cls].controls]


def test_every_lesson_has_sections_with_named_controls():
    lessons = {cls.__module__.split(".")[2] for cls in CLASSES}
    assert lessons == set(LESSONS)
    assert sum(len(s.controls) for s in BUILT.values()) >= 40


def _out_of_range(widget):
    if isinstance(widget, ui.NumberField):
        return widget.max * 10 + 1
    if isinstance(widget, ipw.FloatLogSlider):
        return widget.base ** widget.max * 10
    if isinstance(widget, (ipw.FloatSlider, ipw.IntSlider)):
        return widget.max + abs(widget.max) + 10
    return None


@pytest.mark.parametrize("cls,name", [pytest.param(c, n, id=f"{c.name}.{n}") for c, n in controls()])
def test_each_control_parses_links(built, cls, name):
    c = built[cls].controls[name]
    default = c.default
    # in range: its own default, written as a link writes it, comes back as itself
    assert c.parse(page._text(default)) == pytest.approx(default) if isinstance(default, float) \
        else c.parse(page._text(default)) == default
    # out of range, wrong type, payload: each refused with a reason
    bad = [PAYLOAD, "nan" if isinstance(default, (int, float)) and not isinstance(default, bool) else "zz-not-an-option"]
    far = _out_of_range(c.widget)
    if far is not None:
        bad.append(str(far))
    if isinstance(default, (int, float)) and not isinstance(default, bool):
        bad.append("abc")
    for raw in bad:
        with pytest.raises(ValueError):
            c.parse(raw)


@pytest.mark.parametrize("cls", CLASSES, ids=lambda c: c.name)
def test_a_payload_through_a_section_keeps_defaults_and_is_escaped(cls):
    page.reset()
    values = {name: PAYLOAD for name in BUILT[cls].controls}
    values["no_such_control"] = "1"
    s = cls(**values)
    fresh = BUILT[cls]
    for name, v in s.values().items():
        w = fresh.values()[name]
        assert (math.isclose(v, w) if isinstance(v, float) else v == w), name
    assert "<script" not in s.status.value and "no_such_control" in s.status.value
    if fresh.controls:
        assert "&lt;script&gt;" in s.status.value
    page.reset()


def test_the_readme_names_every_section_and_control():
    """The README's table of link names is the lessons' own: every section and control, nothing else."""
    import re
    from pathlib import Path

    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text()
    table = readme.split("## Links that open a state", 1)[1].split("\n## ", 1)[0]
    written = {}
    for sec, names in re.findall(r"`([a-z0-9_-]+)`: ([a-z0-9_, ]+)", table):
        written[sec] = {n.strip() for n in names.split(",")}
    actual = {s.name: set(s.controls) for s in BUILT.values() if s.controls}
    assert written == actual
