"""The catalogues: every key in every language, the same format fields, and sections that use them."""
import re
import string

import pytest

from widgets.views import i18n
from widgets.views.feature_scaling import ScalingAndLearningRate, TanhLayer, TanhSaturation

FIELDS = string.Formatter()


def fields(text: str) -> set[str]:
    return {f for _, f, _, _ in FIELDS.parse(text) if f}


def test_every_key_is_in_every_language():
    keys = {lang: set(i18n.catalogue(lang)) for lang in i18n.LANGUAGES}
    for lang, ks in keys.items():
        assert ks == keys["en"], f"{lang}: missing {sorted(keys['en'] - ks)[:10]}, extra {sorted(ks - keys['en'])[:10]}"


def test_translations_keep_the_same_format_fields():
    en = i18n.catalogue("en")
    for lang in i18n.LANGUAGES:
        for key, text in i18n.catalogue(lang).items():
            assert fields(text) == fields(en[key]), f"{lang}:{key}"


def test_chinese_strings_are_translated():
    """A zh string identical to its English one is allowed only when it has no English words (formulas, units)."""
    en, zh = i18n.catalogue("en"), i18n.catalogue("zh")
    for key, text in zh.items():
        words = re.findall(r"[A-Za-z]{4,}", re.sub(r"<[^>]+>|\{[^}]*\}|&\w+;", "", text))
        english = [w for w in words if w.lower() not in {"tanh", "atanh", "hessian", "relu"}]
        assert not (text == en[key] and english), f"zh:{key} is still English: {text}"


def test_an_unknown_language_is_refused_with_the_choices():
    with pytest.raises(ValueError, match="en, zh"):
        TanhSaturation(lang="fr")


@pytest.mark.parametrize("cls", [TanhSaturation, TanhLayer, ScalingAndLearningRate])
def test_numbers_do_not_depend_on_the_language(cls):
    en, zh = cls(), cls(lang="zh")
    nums = lambda html: re.findall(r"-?\d+\.\d+", html)  # noqa: E731
    assert nums(en.numbers.value) == nums(zh.numbers.value)
    assert [c.widget.description for c in zh.controls.values()] != [c.widget.description for c in en.controls.values()]


def test_lesson1_zh_shows_the_notes_numbers():
    s = TanhSaturation(lang="zh")
    assert "0.0997" in s.cases.value and "0.9640" in s.cases.value and "权重 w" == s.controls["w"].widget.description
