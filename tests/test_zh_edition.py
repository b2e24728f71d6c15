"""The Chinese edition (notebooks/zh/): every zh notebook is its English twin with the prose translated
and `lang="zh"` added to each builder call; the landing page links each edition's own lessons.

The pairs are found by globbing notebooks/zh/, so a lesson's zh notebook is checked as soon as it exists.
"""
from __future__ import annotations

import ast
import json
import re
from collections import Counter
from pathlib import Path

import pytest

from widgets.views import i18n, index

NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"
EDITIONS = [lang for lang in i18n.LANGUAGES if lang != "en"]
PAIRS = [(NOTEBOOKS / p.name, p) for lang in EDITIONS for p in sorted((NOTEBOOKS / lang).glob("*.ipynb"))]
IDS = [f"{p.parent.name}/{p.stem}" for _, p in PAIRS]
CJK = re.compile(r"[\u4e00-\u9fff]")


def cells(path: Path, kind: str) -> list[str]:
    nb = json.loads(path.read_text(encoding="utf-8"))
    return ["".join(c["source"]) for c in nb["cells"] if c["cell_type"] == kind]


def formulas(text: str) -> Counter:
    """The LaTeX of a markdown cell ($...$ and $$...$$)."""
    found = re.findall(r"\$\$(.+?)\$\$|\$(.+?)\$", text, re.S)
    return Counter((display or inline).strip() for display, inline in found)


def numbers(text: str) -> set[str]:
    """Numbers that say something (a decimal point, or two digits or more); LaTeX included."""
    return set(re.findall(r"\d+\.\d+|\d{2,}", text))


def without_lang(src: str, lang: str) -> tuple[str, list]:
    """The cell's AST dumped with the final call's `lang=` keyword removed, and what that keyword was."""
    tree = ast.parse(src)
    call = tree.body[-1].value
    given = [k for k in call.keywords if k.arg == "lang"]
    call.keywords = [k for k in call.keywords if k.arg != "lang"]
    return ast.dump(tree), [ast.literal_eval(k.value) for k in given]


def test_the_chinese_edition_has_the_landing_page_and_lesson_1():
    names = {p.name for _, p in PAIRS}
    assert {"00_index.ipynb", "01_feature_scaling.ipynb"} <= names


@pytest.mark.parametrize("en,other", PAIRS, ids=IDS)
def test_every_edition_notebook_has_an_english_twin_of_the_same_shape(en, other):
    assert en.exists(), f"{other} has no English twin {en.name}"
    kinds = lambda p: [c["cell_type"] for c in json.loads(p.read_text())["cells"]]  # noqa: E731
    assert kinds(other) == kinds(en)
    meta_en, meta = (json.loads(p.read_text())["metadata"] for p in (en, other))
    assert meta["kernelspec"] == meta_en["kernelspec"]
    assert meta.get("title") and meta["title"] != meta_en.get("title"), "the page title is translated"


@pytest.mark.parametrize("en,other", PAIRS, ids=IDS)
def test_code_cells_differ_only_by_the_language_argument(en, other):
    lang = other.parent.name
    for src_en, src in zip(cells(en, "code"), cells(other, "code"), strict=True):
        tree_en, lang_en = without_lang(src_en, lang)
        tree, given = without_lang(src, lang)
        assert lang_en in ([], ["en"]), f"{en.name}: the English cell names a language:\n{src_en}"
        assert given == [lang], f"{other}: the builder call must say lang={lang!r}:\n{src}"
        assert tree == tree_en, f"{other}: this cell differs from the English one beyond lang=:\n{src}\n---\n{src_en}"


@pytest.mark.parametrize("en,other", PAIRS, ids=IDS)
def test_prose_is_translated_and_keeps_the_formulas_and_numbers(en, other):
    for i, (md_en, md) in enumerate(zip(cells(en, "markdown"), cells(other, "markdown"), strict=True)):
        where = f"{other.parent.name}/{other.name}, markdown cell {i}"
        assert CJK.search(md), f"{where} has no Chinese in it"
        assert formulas(md) == formulas(md_en), f"{where}: the LaTeX differs from the English cell"
        assert numbers(md) == numbers(md_en), (
            f"{where}: numbers {sorted(numbers(md) ^ numbers(md_en))} are in one edition only")
        # In Chinese a newline inside a paragraph shows as a stray space: paragraphs are one line each.
        for para in re.split(r"\n\s*\n", md):
            lines = para.split("\n")
            soft = [a for a, b in zip(lines, lines[1:]) if not re.match(r"\s*(\* |#)", b)]
            assert not soft, f"{where}: a line break inside a paragraph after {soft[0][-30:]!r}"


# --------------------------------------------------------------------------- the landing page
def test_cards_say_the_same_numbers_in_every_language():
    def nums(lang):
        return [re.findall(r"\d[\d,.]*\d|\d", f"{title} {promise}") for _, title, promise in index._promises(lang)]

    assert nums("zh") == nums("en")
    text = " ".join(p for _, _, p in index._promises("zh"))
    assert "0.964" in text and "120,422,400" in text and "12,443,648" in text


def test_the_english_device_sentence_is_select_devices_own():
    from widgets.train import select_device

    assert index.device_sentence("en") == select_device()[1]
    assert CJK.search(index.device_sentence("zh"))


def _fake_course(tmp_path, zh_lessons):
    for stem in ("00_index", *index.LESSONS):
        (tmp_path / f"{stem}.ipynb").write_text("{}")
    (tmp_path / "zh").mkdir()
    for stem in zh_lessons:
        (tmp_path / "zh" / f"{stem}.ipynb").write_text("{}")
    return tmp_path


def _hrefs(widget, css):
    html = "".join(getattr(child, "value", "") for child in widget.children)
    return re.findall(rf"class='{css}' href='([^']+)'", html), html


def test_zh_cards_link_zh_lessons_and_the_english_ones_not_yet_translated(tmp_path, monkeypatch):
    monkeypatch.setattr(index, "NOTEBOOKS", _fake_course(tmp_path, ["00_index", "01_feature_scaling"]))
    page = index.course_index(lang="zh")
    own, html = _hrefs(page, "lesson-link")
    english, _ = _hrefs(page, "lesson-link-en")
    assert own == ["./01_feature_scaling.ipynb"]
    assert english == [f"../{stem}.ipynb" for stem in index.LESSONS[1:]]
    assert html.count("即将推出") == 4 and "打开第 1 课" in html
    assert _hrefs(page, "edition-link")[0] == ["../00_index.ipynb"]


def test_english_cards_link_every_lesson_and_offer_the_chinese_edition(tmp_path, monkeypatch):
    monkeypatch.setattr(index, "NOTEBOOKS", _fake_course(tmp_path, ["00_index"]))
    page = index.course_index()
    assert _hrefs(page, "lesson-link")[0] == [f"./{stem}.ipynb" for stem in index.LESSONS]
    edition, html = _hrefs(page, "edition-link")
    assert edition == ["./zh/00_index.ipynb"] and ">中文</a>" in html


def test_no_edition_link_to_a_landing_page_that_does_not_exist(tmp_path, monkeypatch):
    monkeypatch.setattr(index, "NOTEBOOKS", _fake_course(tmp_path, []))
    assert _hrefs(index.course_index(), "edition-link")[0] == []


def test_the_real_editions_link_each_other():
    assert _hrefs(index.course_index(), "edition-link")[0] == ["./zh/00_index.ipynb"]
    zh = index.course_index(lang="zh")
    assert _hrefs(zh, "edition-link")[0] == ["../00_index.ipynb"]
    assert "./01_feature_scaling.ipynb" in _hrefs(zh, "lesson-link")[0]


def test_an_unknown_language_is_refused():
    with pytest.raises(ValueError, match="en, zh"):
        index.course_index(lang="fr")


# --------------------------------------------------------------------------- the page bridge
def test_zh_pages_say_they_are_chinese_and_name_their_regions_in_chinese():
    """<html lang=zh-CN> makes Chromium draw Han characters in their Chinese forms (not the Japanese ones)."""
    from widgets.views import page
    from widgets.views.feature_scaling import TanhSaturation

    page.reset()
    try:
        header, tanh = page.PageHeader(lang="zh"), TanhSaturation(lang="zh")
        assert header.bridge.lang == "zh-CN"
        assert header.bridge.titles[tanh.name] == i18n.t("zh", "tanh.title")
        assert page.PageHeader().bridge.lang == "en"
    finally:
        page.reset()
    bridges = {lang: index.course_index(lang=lang).children[0] for lang in ("en", "zh")}
    assert {lang: b.lang for lang, b in bridges.items()} == {"en": "en", "zh": "zh-CN"}
