"""Sections below the fold are built when they come into view (widgets/views/lazy.py), in Voilà and Chromium.

For every lesson (and lesson 1 in Chinese), one page load: right after it opens, the sections far below
the first screen are placeholders (busy, in the page's language, no figure); scrolled to in turn, each
section is built, its figures are drawn, and it answers a control moved with the keyboard (a figure or a
line the kernel writes changes). Lesson 1 is opened with a link to its last section's state, which that
section shows once it is scrolled to. Not timed: the speed is benchmarks/dashboards.py's.
"""
from __future__ import annotations

import pytest

from browser import LESSON_READY, assert_no_error, close, plot_signature, settled, wait_until
from widgets.devtools.serving import OffHostRequests

pytestmark = [pytest.mark.browser]

# notebook -> (sections on the page, a link opening a lower section in a state, what that section then shows)
PAGES = {
    "01_feature_scaling.ipynb": (3, "lr.steps=20", ("lr", "20")),
    "02_batch_norm.ipynb": (8, "", None),
    "03_bottleneck.ipynb": (4, "", None),
    "04_inception.ipynb": (5, "", None),
    "05_live_training.ipynb": (5, "", None),
    "zh/01_feature_scaling.ipynb": (3, "", None),
}
PLACEHOLDER_TEXT = {"en": "Preparing this section", "zh": "正在准备本节"}

STATE = """() => [...document.querySelectorAll('.lesson-section')].map(s => {
  const p = s.querySelector('.lazy-placeholder:not(.lazy-part)');
  const plots = [...s.querySelectorAll('.js-plotly-plot')];
  return {name: [...s.classList].find(c => c.startsWith('section-')).slice(8),
          waiting: !!p, busy: p ? p.getAttribute('aria-busy') : null, text: p ? p.innerText : '',
          parts: s.querySelectorAll('.lazy-part').length, top: s.getBoundingClientRect().top, plots: plots.length,
          drawn: plots.filter(f => f.querySelector('.main-svg')).length};
})"""
# What the kernel writes into a section: its figures' drawing and its HTML lines (not a control's own
# readout, which the browser changes by itself).
ANSWER = """(i) => {
  const s = document.querySelectorAll('.lesson-section')[i];
  const parts = [...s.querySelectorAll('.js-plotly-plot path, .js-plotly-plot text')]
    .map(e => (e.getAttribute('d') || '') + (e.textContent || ''));
  s.querySelectorAll('.widget-html-content').forEach(h => parts.push(h.innerText));
  return parts.join('|');
}"""


def sections(page) -> list[dict]:
    return page.evaluate(STATE)


def open_lesson(browser, url: str, notebook: str, query: str, n_sections: int):
    context = browser.new_context(viewport={"width": 1400, "height": 700})
    watch = OffHostRequests(context, url)
    page = context.new_page()
    page.set_default_timeout(30_000)
    page.goto(f"{url}/voila/render/{notebook}" + (f"?{query}" if query else ""), timeout=180_000, wait_until="commit")
    wait_until(page, lambda: len(sections(page)) == n_sections and sections(page)[0]["drawn"] == sections(page)[0]["plots"] > 0
               or (notebook.endswith("05_live_training.ipynb") and len(sections(page)) == n_sections),
               180, f"{notebook}: its first section drawn")
    page.wait_for_timeout(4000)   # the placeholders look for the screen only once the page is idle (lazy.py)
    return context, watch, page


def answers(page, i: int, name: str) -> bool:
    """Move one of section i's controls with the keyboard until what the kernel draws there changes."""
    box = page.locator(".lesson-section").nth(i)
    tries = [(box.locator(".widget-slider .noUi-handle"), ["ArrowRight", "ArrowRight", "ArrowLeft"]),
             (box.locator(".widget-checkbox input"), ["Space"]),
             (box.locator(".widget-toggle-buttons button:not(.mod-active)"), ["Enter"]),
             (box.locator(".widget-dropdown select"), ["ArrowDown"]),
             (box.locator(".lesson-number-field input"), None)]
    for locator, keys in tries:
        if locator.count() == 0:
            continue
        control = locator.first
        before = page.evaluate(ANSWER, i)
        control.focus()
        for key in keys or ["x"]:
            if keys is None:      # a typed number: bad text gets the kernel's message beside the field
                control.fill("")
                control.press_sequentially("abc")
                control.press("Enter")
            else:
                control.press(key)
            try:
                wait_until(page, lambda: page.evaluate(ANSWER, i) != before, 20, f"{name} to answer")
                return True
            except AssertionError:
                continue
    return False


@pytest.mark.parametrize("notebook", list(PAGES))
def test_every_section_builds_and_answers_when_scrolled_to(browser, voila_url, notebook):
    n_sections, query, linked = PAGES[notebook]
    lang = "zh" if notebook.startswith("zh/") else "en"
    context, watch, page = open_lesson(browser, voila_url, notebook, query, n_sections)
    try:
        first = sections(page)
        assert not first[0]["waiting"], f"{notebook}: the first section is not built at once"
        far = [s for s in first if s["top"] > 2.5 * 700]
        assert far, f"{notebook}: no section far below the first screen: {first}"
        for s in far:   # not built yet: the placeholder, busy, in the page's language, no figure
            assert s["waiting"] and s["busy"] == "true" and s["plots"] == 0, f"{notebook}: {s['name']} built early: {s}"
            assert PLACEHOLDER_TEXT[lang] in s["text"], s
        for i, s in enumerate(first):
            page.locator(".lesson-section").nth(i).scroll_into_view_if_needed()
            page.evaluate("(i) => document.querySelectorAll('.lesson-section')[i].scrollIntoView({block: 'start'})", i)
            wait_until(page, lambda: not sections(page)[i]["waiting"], 60, f"{notebook}: {s['name']} built")
            while sections(page)[i]["parts"]:   # a part of it made when seen (lesson 5's results): scrolled to
                parts = sections(page)[i]["parts"]
                page.locator(".lesson-section").nth(i).locator(".lazy-part").first.scroll_into_view_if_needed()
                wait_until(page, lambda: sections(page)[i]["parts"] < parts, 60, f"{notebook}: {s['name']}'s part")
            now = settled(page, lambda: sections(page)[i], 1.5, 90, f"{notebook}: {s['name']}")
            assert now["drawn"] == now["plots"], f"{notebook}: {s['name']}'s figures not all drawn: {now}"
            if s["name"] == (linked or ("",))[0]:
                readouts = page.locator(".lesson-section").nth(i).locator(".widget-readout").all_inner_texts()
                assert linked[1] in readouts, f"{notebook}: the link's {query} not shown in {readouts}"
            has_controls = page.locator(".lesson-section").nth(i).locator("input, select, .noUi-handle").count()
            if has_controls:
                assert answers(page, i, s["name"]), f"{notebook}: {s['name']} built but does not answer its controls"
        total = sum(s["plots"] for s in sections(page))
        if notebook.rpartition("/")[2][:-6] in LESSON_READY:
            selector, count = LESSON_READY[notebook.rpartition("/")[2][:-6]]
            assert selector != ".js-plotly-plot" or total == count, f"{notebook}: {total} figures, not {count}"
        assert_no_error(page)
        watch.assert_none(notebook)
    finally:
        close(page)
        context.close()
