"""Lesson 5's words: Saids from the maths (widgets.run_results, widgets.history) and the engine's
English lines (widgets.train's progress and end messages, suggest_threads' reason) said in the page's
language. The catalogue is locales/<lang>/live_training.json: `live.<kind>` for a Said's kind,
`train.<key>` for the dashboard's own words. An engine line of a shape not known here is shown as it came.
"""
from __future__ import annotations

import re

from widgets import history as H
from widgets.views import i18n


def say(lang: str, said: H.Said) -> str:
    """A Said (kind, fields) in `lang`: nested Saids worded first, lists joined by `live.sep_<field>`."""
    return H.word(said, lambda kind: i18n.t(lang, f"live.{kind}"), lambda field: i18n.t(lang, f"live.sep_{field}"))


def says(lang: str, saids: list[H.Said]) -> list[str]:
    return [say(lang, s) for s in saids]


def config_label(lang: str, c) -> str:
    """TrainConfig.label() in `lang` (data set, width, lr and schedule are code names in both)."""
    t = lambda key, **f: i18n.t(lang, f"train.{key}", **f)  # noqa: E731
    parts = [c.dataset, f"w{c.width:g}", "BN" if c.bn else t("label_no_bn"), "aux" if c.aux else t("label_no_aux"),
             f"lr {c.lr:g}", c.schedule]
    if c.augment:
        parts.append(t("label_crops"))
    if not c.averaging:
        parts.append(t("label_no_avg"))
    return t("label_sep").join(parts)


# The engine's lines (widgets/train.py, widgets/train_device.py), as they are written there.
_ENGINE = [
    ("finished", re.compile(r"Finished (?P<n>\d+) epochs? in (?P<seconds>[\d.]+) s: test top-1 (?P<top1>\S+)\.$")),
    ("stopped_saved", re.compile(r"Stopped by request at step (?P<step>\d+) \(epoch (?P<epoch>\d+)\); "
                                 r"the checkpoint (?P<path>.+) holds the last whole epoch\.$")),
    ("stopped", re.compile(r"Stopped by request at step (?P<step>\d+) \(epoch (?P<epoch>\d+)\); "
                           r"nothing was lost but this run\.$")),
    ("diverged_step", re.compile(r"Diverged at step (?P<step>\d+) \(epoch (?P<epoch>\d+)\): the loss became "
                                 r"(?P<loss>\S+)\. Lower the learning rate \(it was (?P<lr>\S+)\) or turn BN on\.$")),
    ("diverged_epoch", re.compile(r"Diverged in epoch (?P<epoch>\d+): the test loss became (?P<loss>\S+)\. "
                                  r"Lower the learning rate \(it was (?P<lr>\S+)\) or turn BN on\.$")),
    ("threads_busy", re.compile(r"1 thread: the machine is busy \(load (?P<load>[\d.]+) on (?P<cores>\d+) cores\)$")),
    ("threads_n", re.compile(r"(?P<n>\d+) threads?$")),
]


def engine_line(lang: str, text: str) -> str:
    """One of the engine's English lines in `lang` (as it came, if it has another shape)."""
    if lang == "en":
        return text
    for kind, pattern in _ENGINE:
        m = pattern.match(text)
        if m:
            return i18n.t(lang, f"train.engine_{kind}", **m.groupdict())
    return text
