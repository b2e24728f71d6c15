"""The course's words, one catalogue per language: widgets/views/locales/<lang>/*.json
(one file per lesson, and common.json for what every page shares, merged into one
catalogue; a key defined twice is an error).

A key names where a string is used: `<section name>.<what>` (e.g. `tanh.w` is the label of
lesson 1's weight slider), or `common.<what>` for words every page shares. A string may hold
`str.format` fields (`{w:g}`); the same fields appear in every language. Code identifiers and
units stay as they are in every language.

`t(lang, key, **fields)` returns the string in `lang`; a key the catalogue lacks raises
KeyError (tests/test_i18n.py checks that every key exists in every language, so a missing
translation is found by the tests, not by a learner).
"""
from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path

LOCALES = Path(__file__).resolve().parent / "locales"
LANGUAGES = ("en", "zh")
LANGUAGE_NAMES = {"en": "English", "zh": "中文"}


@lru_cache(maxsize=None)
def catalogue(lang: str) -> dict[str, str]:
    if lang not in LANGUAGES:
        raise ValueError(f"no catalogue for language {lang!r}: choose one of {', '.join(LANGUAGES)}")
    merged: dict[str, str] = {}
    for path in sorted((LOCALES / lang).glob("*.json")):
        part = json.loads(path.read_text(encoding="utf-8"))
        twice = merged.keys() & part.keys()
        if twice:
            raise ValueError(f"{path.name} defines {sorted(twice)[:5]} again")
        merged.update(part)
    return merged


def t(lang: str, key: str, **fields) -> str:
    text = catalogue(lang)[key]
    return text.format(**fields) if fields else text
