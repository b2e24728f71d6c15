"""The landing page: a card per lesson with its promise and a link, the device in use, and the
course's other editions (English <-> 中文).

Each edition is a folder of notebooks: the English one is notebooks/, the others notebooks/<lang>/
(notebooks/zh/). A card links to the lesson in the page's own edition when that notebook exists;
otherwise it says the lesson is coming and links the English one. The words are in
widgets/views/locales/<lang>/index.json (keys `index.*`); the numbers come from the lessons' maths
and are formatted the same way in every language.
"""
from __future__ import annotations

import ast
import html
import importlib.util
import os
import sys
from pathlib import Path

import ipywidgets as ipw

from widgets.bottleneck import NOTES_SHAPE, ConvShape, bottleneck_cost, direct_cost
from widgets.inception_module import stack_costs
from widgets.inception_paper import printed_module_spec
from widgets.scaling import tanh_unit
from widgets.views import i18n, palette
from widgets.views.page import HTML_LANG, PageBridge

NOTEBOOKS = Path(__file__).resolve().parents[2] / "notebooks"
LESSONS = ("01_feature_scaling", "02_batch_norm", "03_bottleneck", "04_inception", "05_live_training")
CARD_STYLE = f"border:1px solid {palette.var('border')};border-radius:8px;padding:12px 16px;margin:8px 0;max-width:820px"


def edition(lang: str) -> Path:
    """The folder of the `lang` edition's notebooks."""
    return NOTEBOOKS if lang == "en" else NOTEBOOKS / lang


def _href(target: Path, lang: str) -> str:
    """`target` relative to the `lang` edition's folder, as a page link (./x.ipynb, ../x.ipynb, ./zh/x.ipynb)."""
    rel = Path(os.path.relpath(target, edition(lang))).as_posix()
    return rel if rel.startswith("../") else f"./{rel}"


def _numbers() -> dict[str, str]:
    """The numbers the cards quote, from the lessons' own maths (language-independent)."""
    sat = tanh_unit(0.1, 20.0)
    notes = ConvShape(**NOTES_SHAPE)
    return {"a": f"{sat.a:.3f}", "slope": f"{sat.dadz:.3f}",
            "direct": f"{direct_cost(notes).macs:,}", "bottleneck": f"{bottleneck_cost(notes).macs:,}"}


def _promises(lang: str = "en") -> list[tuple[str, str, str]]:
    """(notebook stem, title, one-line promise) for each lesson, in `lang`."""
    nums = _numbers()
    return [(stem, i18n.t(lang, f"index.{stem}.title"), i18n.t(lang, f"index.{stem}.promise", **nums))
            for stem in LESSONS]


def _link(stem: str, lang: str) -> str:
    """The card's link: the lesson in this edition, else 'coming soon' and the English lesson."""
    t = lambda key, **f: html.escape(i18n.t(lang, f"index.{key}", **f))  # noqa: E731
    own = edition(lang) / f"{stem}.ipynb"
    if own.exists():
        return (f"<a class='lesson-link' href='{_href(own, lang)}' target='_self' style='font-weight:600'>"
                f"{t('open', num=int(stem[:2]))}</a>")
    soon = f"<span class='coming-soon' style='color:{palette.var('muted')}'>{t('coming_soon')}</span>"
    english = NOTEBOOKS / f"{stem}.ipynb"
    if lang == "en" or not english.exists():
        return soon
    return (f"{soon} &nbsp;<a class='lesson-link-en' href='{_href(english, lang)}' target='_self' hreflang='en'>"
            f"{t('read_english')}</a>")


def _states() -> dict[str, list[tuple[str, dict]]]:
    """Telling states a teacher can open directly: (query#section, the numbers the line quotes) per lesson.

    The query names the lesson's controls as the page's links do (widgets/views/page.py); each line's
    numbers are computed here by the lesson's own maths, at that state: the explorer's closed form for
    inception 3a's printed row (torch-free; tests/test_startup.py checks the row against the measured model).
    """
    narrow = ConvShape(**{**NOTES_SHAPE, "ch_red": 4})
    st = stack_costs(4, **printed_module_spec("inception3a"))
    return {
        "01_feature_scaling": [("?x=40#tanh", {"a": f"{tanh_unit(0.1, 40.0).a:.4f}",
                                                "slope": f"{tanh_unit(0.1, 40.0).dadz:.5f}"})],
        "02_batch_norm": [("?noise.m=2#noise", {})],
        "03_bottleneck": [("?ch_red=4#cost", {"macs": f"{bottleneck_cost(narrow).macs:,}",
                                               "direct": f"{direct_cost(narrow).macs:,}"})],
        "04_inception": [("?n=4#explorer", {"naive": f"{sum(st['naive_macs']) / 1e9:.2f}",
                                            "reduced": f"{sum(st['reduced_macs']) / 1e9:.2f}"})],
    }


def _tries(stem: str, lang: str, states: dict) -> str:
    """The card's 'try this' links into telling states of the lesson (in this edition, if it has the lesson)."""
    own = edition(lang) / f"{stem}.ipynb"
    if not own.exists() or stem not in states:
        return ""
    links = [f"<a class='state-link' href='{html.escape(_href(own, lang) + target, quote=True)}' target='_self'>"
             f"{html.escape(i18n.t(lang, f'index.{stem}.try{i}', **nums))}</a>"
             for i, (target, nums) in enumerate(states[stem])]
    return (f"<div class='lesson-states' style='margin:4px 0'>{html.escape(i18n.t(lang, 'index.try'))} "
            f"{' · '.join(links)}</div>")


def _card(stem: str, title: str, promise: str, lang: str = "en", states: dict | None = None) -> str:
    return (f"<div class='lesson-card' style='{CARD_STYLE}'>"
            f"<div style='font-size:1.15em;font-weight:600'>{int(stem[:2])}. {html.escape(title)}</div>"
            f"<div style='margin:6px 0;color:{palette.var('text')}'>{html.escape(promise)}</div>"
            f"{_tries(stem, lang, states or {})}{_link(stem, lang)}</div>")


def _editions(lang: str) -> str:
    """A line linking the landing page of every other edition that exists (its name in its own language)."""
    links = [f"<a class='edition-link' href='{_href(edition(o) / '00_index.ipynb', lang)}' target='_self' "
             f"hreflang='{o}' lang='{o}' style='font-weight:600'>{html.escape(i18n.LANGUAGE_NAMES[o])}</a>"
             for o in i18n.LANGUAGES if o != lang and (edition(o) / "00_index.ipynb").exists()]
    if not links:
        return ""
    return (f"<div class='editions' style='margin:8px 0;max-width:820px'>"
            f"{html.escape(i18n.t(lang, 'index.other_editions'))} {' · '.join(links)}</div>")


def _torch_build() -> dict | None:
    """torch's build facts (`cuda`, `hip`) read from its torch/version.py without importing torch
    (2 s and ~200 MB of a kernel). None if torch or the file is not found or not as expected."""
    try:
        spec = importlib.util.find_spec("torch")
        tree = ast.parse((Path(spec.origin).parent / "version.py").read_text())
    except (ImportError, AttributeError, TypeError, OSError, SyntaxError, ValueError):
        return None
    found = {}
    for node in tree.body:
        target = node.target if isinstance(node, ast.AnnAssign) else (node.targets[0] if isinstance(node, ast.Assign) else None)
        if isinstance(target, ast.Name) and target.id in ("cuda", "hip") and isinstance(node.value, ast.Constant):
            found[target.id] = node.value.value
    return found if set(found) == {"cuda", "hip"} else None


def _torch_default_threads() -> int | None:
    """The intra-op thread count torch starts with, as torch picks it (ATen's intraop_default_num_threads):
    None if OMP_NUM_THREADS or MKL_NUM_THREADS is set or the process may use only some processors (then
    torch is asked); else cpuinfo's physical cores
    when fewer than its logical processors, else the processors (Linux's /sys topology; None elsewhere)."""
    if os.environ.get("OMP_NUM_THREADS") or os.environ.get("MKL_NUM_THREADS"):
        return None
    cpus = sorted(Path("/sys/devices/system/cpu").glob("cpu[0-9]*/topology"))
    try:
        cores = {((t / "physical_package_id").read_text().strip(), (t / "core_id").read_text().strip()) for t in cpus}
    except OSError:
        return None
    if not cpus:
        return None
    try:    # pinned to fewer processors (taskset, a container's cpuset): torch's OpenMP counts those; ask it
        if len(os.sched_getaffinity(0)) != len(cpus):
            return None
    except (AttributeError, OSError):
        return None
    return len(cores) if 0 < len(cores) < len(cpus) else len(cpus)


def probe_cpu_only() -> int | None:
    """Torch's default thread count if training here can only run on the CPU, told without importing
    torch: a CPU-only build (no CUDA, no ROCm) off macOS (no Apple GPU). None when unsure."""
    build = _torch_build()
    if build is None or build["cuda"] is not None or build["hip"] is not None or sys.platform == "darwin":
        return None
    return _torch_default_threads()


def device_sentence(lang: str = "en") -> str:
    """Which device training will use and why: select_device()'s choice, said in `lang`.

    The landing page imports no torch: on a CPU-only torch build the sentence is told from the build
    and the machine (`probe_cpu_only`; tests/test_startup.py checks it against select_device). With a
    GPU build, on a Mac, or once torch is loaded anyway, torch itself is asked."""
    t = lambda key, **f: i18n.t(lang, f"index.{key}", **f)  # noqa: E731
    threads = None if "torch" in sys.modules else probe_cpu_only()
    if threads is not None:
        return t("device_cpu_build", threads=t("one_thread") if threads == 1 else t("threads", n=threads))
    import torch

    from widgets.train import select_device

    dev = select_device()[0]
    if dev.type == "cuda":
        return t("device_cuda", name=torch.cuda.get_device_name(dev))
    if dev.type == "mps":
        return t("device_mps")
    n = torch.get_num_threads()
    threads = t("one_thread") if n == 1 else t("threads", n=n)
    return t("device_cpu_build" if torch.version.cuda is None else "device_cpu_no_cuda", threads=threads)


def course_index(lang: str = "en") -> ipw.Widget:
    """The lesson cards in `lang`, a banner naming the device training will use, and the other editions."""
    i18n.catalogue(lang)  # an unknown language is refused here, with the choices
    banner = ipw.HTML(f"<div class='device-banner' style='padding:8px 12px;background:{palette.var('panel')};border-radius:6px;"
                      f"max-width:820px'><b>{html.escape(i18n.t(lang, 'index.device'))}</b> "
                      f"{html.escape(device_sentence(lang))}</div>")
    editions = ipw.HTML(_editions(lang))
    states = _states()
    cards = ipw.HTML("".join(_card(*row, lang=lang, states=states) for row in _promises(lang)))
    box = ipw.VBox([PageBridge(lang=HTML_LANG[lang]), banner, editions, cards])   # the bridge: theme, landmarks, <html lang>
    box.add_class("course-index")
    box.add_class(f"lang-{lang}")
    return box
