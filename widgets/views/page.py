"""The page around the sections: links that open a lesson in a given state, and the link button.

Every Section registers itself here when it is built. A lesson's first code cell,
`page_header()`, shows one message line (what a link asked for that could not be used)
and a "Link to this view" button, and carries a tiny front-end bridge (an anywidget) that
tells the kernel the page's query string, fragment and address. The same bridge reports the
page's theme (figures follow it: widgets/views/theme.py) and gives every page its landmarks,
control names, focus ring and narrow-screen rules (widgets/views/access.py), and beats while the
page exists, so that a run whose page is gone stops (widgets/views/alive.py).

The query string names controls. A name that only one section of the page uses may be
written alone (`?w=0.3&x=7`); otherwise, or always, it is prefixed with its section's name
(`?tanh.w=0.3`). Each value goes through the control's own parsing and bounds; what is
refused keeps its default and is listed at the top of the page, escaped.

Why a front-end bridge: under `make serve`, Voilà's pre-heated kernels run the notebook
before the request arrives, so the kernel's QUERY_STRING is empty when the sections are
built. The bridge reads `window.location` in the browser once the page shows and sends it to
the kernel, on every serving route. Where the kernel already has QUERY_STRING (no pre-heat),
sections take their values while they are built, so the first drawing is already right.
"""
from __future__ import annotations

import html
import logging
import os
import threading
import weakref
from pathlib import Path
from typing import TYPE_CHECKING, Iterable
from urllib.parse import parse_qsl, quote, urlencode

import anywidget
import ipywidgets as ipw
import traitlets

from widgets import ui
from widgets.views import access, alive, i18n, theme

if TYPE_CHECKING:
    from widgets.views.section import Section

log = logging.getLogger("widgets")

MAX_QUERY = 2000       # characters of query string read at most
MAX_PAIRS = 64         # name=value pairs read at most
# <html lang> per catalogue language: without zh-CN, Chromium draws Han characters in the
# Japanese forms of Noto CJK (门, 直 …), the fallback for an unmarked page (measured in Debian's chromium).
HTML_LANG = {"en": "en", "zh": "zh-CN"}
SERVER_PARAMS = ("theme", "template")   # Voilà's own (`?theme=dark`): not controls, never "ignored"

_ESM = access.JS + """
// Keep the section named by the fragment at the top while the page is still being laid out
// (widgets render one by one and push it down), until the learner scrolls or 20 s pass.
function keepInView(selector) {
  let userMoved = false, frame = 0;
  const stop = () => { userMoved = true; };
  for (const ev of ["wheel", "keydown", "mousedown", "touchstart"]) window.addEventListener(ev, stop, { once: true, capture: true });
  const place = () => {
    frame = 0;
    const t = document.querySelector(selector);
    if (t && !userMoved && Math.abs(t.getBoundingClientRect().top) > 2) t.scrollIntoView({ block: "start" });
  };
  const obs = new MutationObserver(() => { if (!frame && !userMoved) frame = requestAnimationFrame(place); });
  obs.observe(document.body, { childList: true, subtree: true, attributes: true });
  place();
  setTimeout(() => obs.disconnect(), 20000);
}

// The page's heartbeat (widgets/views/alive.py): a message to the kernel every `beat_ms` while the
// page exists. The ticks come from a Web Worker, whose timers browsers do not throttle in a hidden
// tab as they throttle the page's own (to once a minute); the page's own timer is the fallback.
function heartbeat(model) {
  const ms = model.get("beat_ms");
  if (!(ms > 0)) return () => {};
  const beat = () => model.send({ beat: 1 });
  let worker = null, timer = null;
  const fallback = () => { if (worker) worker.terminate(); worker = null; if (!timer) timer = setInterval(beat, ms); };
  try {
    const src = `setInterval(() => postMessage(0), ${Number(ms)});`;
    const url = URL.createObjectURL(new Blob([src], { type: "text/javascript" }));
    worker = new Worker(url);
    URL.revokeObjectURL(url);
    worker.onmessage = beat;
    worker.onerror = fallback;
  } catch (e) { fallback(); }
  document.addEventListener("visibilitychange", beat);
  beat();
  return () => { if (worker) worker.terminate(); clearInterval(timer); document.removeEventListener("visibilitychange", beat); };
}

function render({ model, el }) {
  el.style.display = "none";
  const onVoila = window.location.pathname.includes("/voila/render/");
  model.set("address", onVoila ? window.location.origin + window.location.pathname : "");
  model.set("query", onVoila ? window.location.search.replace(/^[?]/, "") : "");
  model.set("fragment", onVoila ? decodeURIComponent(window.location.hash.replace(/^#/, "")) : "");
  model.set("theme", pageTheme());
  if (model.get("lang")) document.documentElement.lang = model.get("lang");   // Han glyphs in the page's script
  model.set("reported", true);
  model.save_changes();
  model.on("change:navigate", () => { const to = model.get("navigate"); if (to) window.location.assign(to); });
  const target = model.get("fragment");
  if (target) keepInView(".section-" + CSS.escape(target));
  const stopBeat = heartbeat(model);
  const undo = installAccess(model, onVoila);   // styles, names, landmarks, theme (widgets/views/access.py)
  return () => { stopBeat(); if (typeof undo === "function") undo(); };
}
export default { render };
"""


class PageBridge(anywidget.AnyWidget):
    """Reports the page's address, query string and fragment from the browser (Voilà pages only),
    and the page's theme (every page); gives the page its styles, landmarks and control names."""

    _esm = traitlets.Unicode(_ESM).tag(sync=True)
    address = traitlets.Unicode("").tag(sync=True)
    query = traitlets.Unicode("").tag(sync=True)
    fragment = traitlets.Unicode("").tag(sync=True)
    reported = traitlets.Bool(False).tag(sync=True)
    navigate = traitlets.Unicode("").tag(sync=True)        # set by Python: the browser goes there
    theme = traitlets.Unicode("").tag(sync=True)           # "light" or "dark", from the browser
    css = traitlets.Unicode("").tag(sync=True)             # theme.stylesheet(), installed once per page
    titles = traitlets.Dict().tag(sync=True)               # section name -> title (each box's region name)
    lang = traitlets.Unicode("").tag(sync=True)            # the page's language as <html lang>: see HTML_LANG
    beat_ms = traitlets.Int(0).tag(sync=True)              # the page beats this often (widgets/views/alive.py)

    def __init__(self, **kw):
        beat_ms = round(1000 * alive.beat_interval_s(alive.silent_limit_s()))
        super().__init__(css=theme.stylesheet(), titles=_titles(sections()), beat_ms=beat_ms, **kw)
        _bridges.add(self)
        self.observe(self._on_theme, names="theme")
        self.on_msg(self._on_msg)

    @staticmethod
    def _on_msg(_widget, content, _buffers) -> None:
        """The page's heartbeat: the page exists (runs stop when it falls silent: widgets/views/alive.py)."""
        if isinstance(content, dict) and "beat" in content:
            alive.CLOCK.beat()

    def _on_theme(self, change) -> None:
        """Redraw every figure of the page in the reported theme (never raises into the comm)."""
        try:
            theme.apply(change["new"], [f for s in sections() for f in s.figures.values()])
        except Exception:  # noqa: BLE001 - a figure left in the other theme is no reason to break the page
            log.exception("theme %r not applied", change["new"])


_bridges: "weakref.WeakSet[PageBridge]" = weakref.WeakSet()


def _titles(on_page: list["Section"]) -> dict[str, str]:
    return {s.name: s.heading_text() for s in on_page if getattr(s, "title", "")}


# --------------------------------------------------------------------------- the registry
_sections: list[weakref.ref] = []
_lock = threading.RLock()
# Set by page_header(): on a lesson page (a Voilà page, or a notebook once its header cell has run), the
# sections after the first are built when they come into view (widgets/views/lazy.py). Off for Python
# code that builds sections without a page header (tests, scripts); LESSONS_LAZY=0 turns it off.
lazy = False


def register(section: "Section") -> None:
    with _lock:
        _sections[:] = [r for r in _sections if r() is not None]
        _sections.append(weakref.ref(section))
    for bridge in list(_bridges):   # the section's box becomes a named region of the page
        bridge.titles = {**bridge.titles, **_titles([section])}
    theme.apply(theme.current(), section.figures.values())   # built in the page's theme, ink included


def sections() -> list["Section"]:
    with _lock:
        return [s for s in (r() for r in _sections) if s is not None]


def reset() -> None:
    """Forget the sections built so far (tests; a kernel serves one page)."""
    with _lock:
        _sections.clear()


# --------------------------------------------------------------------------- reading a query
def parse_query(query: str, lang: str = "en") -> tuple[list[tuple[str, str]], list[str]]:
    """(name, value) pairs from a query string, and what was refused before any control saw it."""
    notes = []
    if len(query) > MAX_QUERY:
        notes.append(i18n.t(lang, "page.too_long", n=MAX_QUERY))
        query = query[:MAX_QUERY]
    pairs = [(k, v) for k, v in parse_qsl(query, keep_blank_values=True) if k not in SERVER_PARAMS]
    if len(pairs) > MAX_PAIRS:
        notes.append(i18n.t(lang, "page.too_many", n=MAX_PAIRS))
        pairs = pairs[:MAX_PAIRS]
    return pairs, notes


def route(pairs: Iterable[tuple[str, str]], on_page: list["Section"], lang: str = "en") -> tuple[dict, list[str]]:
    """Send each name to its section: {section: {control: raw}}, and a reason for each name that fits none."""
    by_section: dict = {}
    refused = []
    for key, raw in pairs:
        owner, name = _owner(key, on_page, lang)
        if owner is None:
            refused.append(name)
        else:
            by_section.setdefault(owner, {})[name] = raw
    return by_section, refused


def _owner(key: str, on_page: list["Section"], lang: str = "en"):
    """(section, control name), or (None, why not)."""
    sec_name, dot, name = key.partition(".")
    unknown = i18n.t(lang, "page.no_control", name=key[:40])
    if dot:
        owner = next((s for s in on_page if s.name == sec_name and name in s.controls), None)
        return (owner, name) if owner else (None, unknown)
    owners = [s for s in on_page if key in s.controls]
    if len(owners) == 1:
        return owners[0], key
    if owners:
        return None, i18n.t(lang, "page.ambiguous", name=key[:40],
                            choices=i18n.t(lang, "page.or").join(f"{s.name}.{key}" for s in owners))
    return None, unknown


def values_from_environment(section: "Section") -> dict[str, str]:
    """The values the kernel's QUERY_STRING (set by Voilà without pre-heat) holds for `section`."""
    query = os.environ.get("QUERY_STRING", "")
    if not query:
        return {}
    pairs, _ = parse_query(query)
    values = {}
    for key, raw in pairs:
        sec_name, dot, name = key.partition(".")
        if dot and sec_name == section.name and name in section.controls:
            values[name] = raw
        elif not dot and key in section.controls:
            values[key] = raw
    return values


def link_query(on_page: list["Section"]) -> str:
    """The query string of what is on screen: every control that differs from its default.

    A lazy section not built yet (widgets/views/lazy.py) is at its defaults and stays unbuilt: its
    control names are unknown, so while one waits every key names its section (`tanh.w`), which also
    lets the link, opened, build only the sections it names."""
    built = [s for s in on_page if getattr(s, "built", True)]
    counts: dict[str, int] = {}
    for s in built:
        for name in s.controls:
            counts[name] = counts.get(name, 0) + 1
    short = len(built) == len(on_page)
    items = []
    for s in built:
        for name, value in s.changed_values().items():
            key = name if short and counts[name] == 1 else f"{s.name}.{name}"
            items.append((key, _text(value)))
    return urlencode(items, quote_via=quote)


def _text(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return f"{value:.6g}"
    return str(value)


# --------------------------------------------------------------------------- the header
class PageHeader:
    """The message line, the link button and the language switch at the top of a lesson."""

    def __init__(self, lang: str = "en"):
        i18n.catalogue(lang)
        self.lang = lang
        self.bridge = PageBridge(lang=HTML_LANG[lang])
        self.message = ipw.HTML("")
        self.message.add_class("page-message")
        self.link = ipw.HTML("")
        self.link.add_class("page-link")
        self.button = ipw.Button(description=self.t("link_button"), icon="link", tooltip=self.t("link_tooltip"))
        self.button.on_click(ui.guarded(self.make_link, self.message, lang))
        self.other = "en" if lang == "zh" else "zh"
        self.switch = ipw.Button(description=i18n.LANGUAGE_NAMES[self.other], icon="language",
                                 tooltip=self.t("switch_tooltip"))
        self.switch.add_class("language-switch")
        self.switch.layout.display = "none"      # shown once the other edition of this page is known to exist
        self.switch.on_click(ui.guarded(self.switch_language, self.message, lang))
        self.applied = False
        self.bridge.observe(ui.guarded(self._on_report, self.message, lang), names="reported")
        self.widget = ipw.VBox([self.bridge, ipw.HBox([self.button, self.switch, self.link],
                                                      layout=ipw.Layout(align_items="center", flex_flow="row wrap")),
                                self.message])
        self.widget.add_class("page-header")

    def t(self, key: str, **fields) -> str:
        return i18n.t(self.lang, f"page.{key}", **fields)

    def _on_report(self, _change=None) -> None:
        if self.applied or not self.bridge.reported:
            return
        self.applied = True
        self.switch.layout.display = "" if other_edition_exists(self.bridge.address, self.other) else "none"
        self.apply(self.bridge.query)

    def apply(self, query: str) -> None:
        """Set the page's controls from `query`; say at the top what was not used."""
        pairs, notes = parse_query(query, self.lang)
        on_page = sections()
        by_section, unknown = route(pairs, on_page, self.lang)
        for s in on_page:
            mine = by_section.get(s, {})
            # a plain name a section took from QUERY_STRING while it was built, before the sections
            # after it existed, may turn out to be ambiguous: give that control its default back
            undo = {n: s.controls[n].default for n in getattr(s, "from_link", {}) if n not in mine}
            with s.lock:
                s.set_values(undo)
                s.ignored = s.set_values(mine)
            notes += [f"{s.name}: {why}" for why in s.ignored]
        notes += unknown
        self.message.value = ui.message(self.t("ignored", items="; ".join(notes))) if notes else ""

    def make_link(self, _b=None) -> None:
        query = link_query(sections())
        address = self.bridge.address
        if not address:
            self.link.value = f"<span class='lesson-msg'>{self.t('no_address')}</span>"
            return
        url = address + ("?" + query if query else "")
        self.link.value = (f"<a class='view-link' href='{html.escape(url, quote=True)}' target='_blank' "
                           f"rel='noopener'>{html.escape(url)}</a>")


    def switch_language(self, _b=None) -> None:
        """Open the same lesson, in the same state, in the other language (notebooks/zh/ holds the Chinese)."""
        address = self.bridge.address
        if not address:
            self.link.value = f"<span class='lesson-msg'>{self.t('no_address_switch')}</span>"
            return
        query = link_query(sections())
        self.bridge.navigate = other_language_address(address, self.other) + ("?" + query if query else "")


NOTEBOOKS = Path(__file__).resolve().parents[2] / "notebooks"


def other_edition_exists(address: str, lang: str) -> bool:
    """True in a notebook (no address: the switch then says where the other edition's files are),
    and on a dashboard whose lesson has an edition in `lang` (notebooks/zh/ for Chinese)."""
    if not address:
        return True
    name = address.rpartition("/")[2]
    return (NOTEBOOKS / name if lang == "en" else NOTEBOOKS / "zh" / name).is_file()


def other_language_address(address: str, lang: str) -> str:
    """/voila/render/[notebooks/]01_x.ipynb <-> /voila/render/[notebooks/]zh/01_x.ipynb."""
    head, _, name = address.rpartition("/")
    if head.endswith("/zh"):
        head = head[: -len("/zh")]
    return f"{head}/{name}" if lang == "en" else f"{head}/zh/{name}"


def page_header(lang: str = "en") -> ipw.Widget:
    """A lesson's first cell: the link button, the language switch, and what a link could not set."""
    global lazy
    reset()   # a page starts here: sections of an earlier run of the cells are forgotten
    lazy = os.environ.get("LESSONS_LAZY", "1") != "0"
    return PageHeader(lang).widget
