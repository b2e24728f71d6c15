"""Recorded runs for lesson 5's replay: where they may come from, what a valid one holds, and how
a long one is drawn and played back in a fixed time. No UI code here.

A history is the JSON `python -m widgets.train --history FILE` writes (format
`widgets.train.history/1`): the run's settings, its final numbers and its events. A file that
reaches the page is untrusted:

* `find_history(text, roots)` accepts only an existing `.json` file under one of `roots` (the
  shipped recordings and the learner's history folder), symbolic links resolved; everything else
  gets one and the same message, so the page says nothing about other files.
* `read_history(path)` refuses a file over `MAX_BYTES` before reading it, text that is not UTF-8
  or not JSON, and, through `check_history`, more than `MAX_EVENTS` events, a missing or non-finite
  field, a negative loss, an accuracy outside [0, 1]: each message names the field.
* Strings that end up in a legend or a message pass through `plain_text` (plotly renders
  `<a href>` and a few other tags inside legends).
* `thin(x, y)` keeps at most `MAX_POINTS` points of a curve per redraw (each bucket's lowest and
  highest point, so a spike stays visible); `replay_due` says how many events a replay of a
  fixed duration has shown after a given time, so a long replay ends when its label says.
"""
from __future__ import annotations

import dataclasses
import json
import math
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from widgets import train as T

MAX_BYTES = 16 * 2**20      # 16 MiB: ~50,000 events; the shipped recording is 37 kB
MAX_EVENTS = 50_000         # step and epoch events; record with --log-every N for longer runs
MAX_POINTS = 2_000          # points per trace per redraw
MAX_CROPS = 10              # multi-crop rows shown
REPLAY_SECONDS = 6.0        # a replay lasts this long, whatever the number of events


Said = tuple   # (kind: str, fields: dict): one sentence, as a catalogue key and what it quotes

# The English of every HistoryError kind (and of the phrases inside them), for the CLI, logs and str().
# The page words a HistoryError from its kind and fields in its own language (lesson 5's catalogue,
# `live.<kind>`; tests/test_zh_live_training.py checks the English catalogue says exactly these).
EN = {
    "nothing_to_replay": "no recorded run to replay",
    "not_found": "no file {text} among the run histories this page reads (.json files in {roots})",
    "sep_roots": " or ",
    "too_big": "{name} is {mb:.1f} MB; the page replays files up to {cap:.0f} MB (record with --log-every 10 or more)",
    "not_utf8": "{name} is not a text file (not UTF-8)",
    "over_cap": "the history is over {cap:.0f} MB",
    "not_json": "not a JSON run history (it does not parse)",
    "not_json_line": "not a JSON run history (it does not parse, line {line})",
    "not_history": "not a run history in format {format}",
    "events_not_list": "field 'events' must be a list of events",
    "too_many_events": "the history has {n:,} events; the page replays at most {cap:,} (record with --log-every 10 or more)",
    "no_events": "the history has no step or epoch events to replay",
    "extras_not_object": "field 'extras' must be an object",
    "event_not_object": "event {i} is not an object",
    "event_no_field": "event {i} ({event}) has no field '{field}'",
    "config_not_object": "field 'config' must be an object",
    "must_be_bool": "{where} must be true or false",
    "out_of_rule": "{where} {rule}, not {v:g}",
    "short_text": "{where} must be a short text",
    "one_of": "{where} must be one of {choices}",
    "final_not_object": "field 'final' must be an object",
    "predictions_list": "final.predictions must be a list of class numbers",
    "confidence_list": "final.confidence must be a list as long as final.predictions",
    "crops_list": "extras.crops must be a list of at most {cap} rows",
    "crop_not_object": "extras.crops[{i}] is not an object",
    "crop_no_field": "extras.crops[{i}] has no field '{field}'",
    "not_a_number": "{where} must be a number, not {raw}",
    "not_finite": "{where} is {v}; it must be a finite number",
    "not_whole": "{where} is {v:g}; it must be a whole number",
    "at_least": "{where} is {v:g}; it must be at least {lo:g}",
    "from_to": "{where} is {v:g}; it must be from {lo:g} to {hi:g}",
    "where_event": "event {i} ({event}): field '{field}'",
    "rule_positive": "must be a positive number",
    "rule_gt": "must be greater than {lo}",
    "rule_ge": "must be at least {lo}",
    "rule_lt": "must be less than {hi}",
    "rule_le": "must be at most {hi}",
    "rule_from_to": "must be from {lo} to {hi}",
    "rule_in": "must be in {left}{lo}, {hi}{right}",
}


def word(said: Said, template, sep) -> str:
    """A Said in words: `template(kind)` gives a kind's text, `sep(field)` the separator of a list field.
    Nested Saids are worded first; a list is its items worded and joined; anything else is formatted as is."""
    kind, fields = said

    def one(v):
        if isinstance(v, tuple) and len(v) == 2 and isinstance(v[0], str) and isinstance(v[1], dict):
            return word(v, template, sep)
        return v

    done = {k: (sep(k).join(str(one(x)) for x in v) if isinstance(v, list) else one(v)) for k, v in fields.items()}
    return template(kind).format(**done)


def english(said: Said) -> str:
    return word(said, EN.__getitem__, lambda field: EN[f"sep_{field}"])


class HistoryError(ValueError):
    """A history that cannot be replayed: its `kind` and `fields` (a Said) say why; str() is the English."""

    def __init__(self, kind: str, **fields: Any):
        self.kind, self.fields = kind, fields
        super().__init__(english((kind, fields)))

    @property
    def said(self) -> Said:
        return (self.kind, self.fields)


def rule(spec, whole: bool) -> Said:
    """A TrainConfig field's range (`Spec.rule`'s words) as a Said."""
    (lo, hi), num = spec.bounds(), (lambda v: f"{int(v):,}" if whole else f"{v:g}")
    if hi is None:
        if lo == 0 and spec.low_open:
            return ("rule_positive", {})
        return ("rule_gt" if spec.low_open else "rule_ge", {"lo": num(lo)})
    if lo is None:
        return ("rule_lt" if spec.high_open else "rule_le", {"hi": num(hi)})
    if whole and not (spec.low_open or spec.high_open):
        return ("rule_from_to", {"lo": num(lo), "hi": num(hi)})
    return ("rule_in", {"left": "(" if spec.low_open else "[", "lo": num(lo), "hi": num(hi),
                        "right": ")" if spec.high_open else "]"})


def default_history_dir() -> Path:
    """The learner's history folder: $WIDGETS_HISTORY_DIR, else ~/.cache/widgets/histories."""
    return Path(os.environ.get("WIDGETS_HISTORY_DIR", Path.home() / ".cache" / "widgets" / "histories"))


# --------------------------------------------------------------------------- where from
def find_history(text: str, roots: list[Path]) -> Path:
    """The file `text` names: an existing .json file inside one of `roots` (a bare name is looked
    up in each root in turn). Anything else raises HistoryError with one message for every case."""
    text = str(text).strip()
    refused = HistoryError("not_found", text=plain_text(text, 120), roots=[str(r) for r in roots])
    if not text or "\x00" in text:
        raise refused
    given = Path(text).expanduser()
    candidates = [given] if given.is_absolute() else [Path(r) / given for r in roots]
    for cand in candidates:
        try:
            path = cand.resolve(strict=True)
        except (OSError, RuntimeError):
            continue
        if path.suffix.lower() == ".json" and path.is_file() and any(_inside(path, r) for r in roots):
            return path
    raise refused


def _inside(path: Path, root: Path) -> bool:
    try:
        return path.is_relative_to(Path(root).resolve())
    except OSError:
        return False


def read_history(path: str | os.PathLike) -> "History":
    """Read and check a history file (see the module docstring for what is refused)."""
    path = Path(path)
    with open(path, "rb") as f:
        size = os.fstat(f.fileno()).st_size
        if size > MAX_BYTES:
            raise HistoryError("too_big", name=path.name, mb=size / 2**20, cap=MAX_BYTES / 2**20)
        raw = f.read(MAX_BYTES + 1)
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise HistoryError("not_utf8", name=path.name) from None
    return parse_history(text)


def parse_history(text: str) -> "History":
    """A history from its JSON text, checked."""
    if len(text) > MAX_BYTES:
        raise HistoryError("over_cap", cap=MAX_BYTES / 2**20)
    try:
        h = json.loads(text)
    except (json.JSONDecodeError, RecursionError) as exc:
        if isinstance(exc, json.JSONDecodeError):
            raise HistoryError("not_json_line", line=exc.lineno) from None
        raise HistoryError("not_json") from None
    return check_history(h)


# --------------------------------------------------------------------------- what it holds
# The fields the page draws from each kind of event: (lowest, highest, whole number?).
FRACTION = (0.0, 1.0, False)
NON_NEGATIVE = (0.0, math.inf, False)
STEP_FIELDS = {"step": (0, 1e12, True), "epoch": NON_NEGATIVE, "loss": NON_NEGATIVE,
               "main_loss": NON_NEGATIVE, "train_top1": FRACTION, "lr": NON_NEGATIVE,
               "images_per_s": NON_NEGATIVE}
EPOCH_FIELDS = {"epoch": (0, 1e9, True), "step": (0, 1e12, True), "test_loss": NON_NEGATIVE,
                "test_top1": FRACTION, "test_top5": FRACTION}
FINAL_FIELDS = {"test_top1": FRACTION, "test_top5": FRACTION, "test_loss": NON_NEGATIVE,
                "raw_test_top1": FRACTION, "raw_test_top5": FRACTION}
CROP_FIELDS = {"crops": (1, 1000, True), "top1": FRACTION, "top5": FRACTION,
               "seconds": NON_NEGATIVE, "flops_per_image": (1, math.inf, False)}
NOT_REPLAYED = ("data_dir", "save", "resume", "threads")   # settings of the recording machine, not of the run


@dataclass
class History:
    """A checked run history: only values of the right type and range, strings made plain."""

    config: T.TrainConfig
    events: list[dict]                    # "step" and "epoch" events in recorded order, checked fields only
    final: dict = field(default_factory=dict)
    crops: list[dict] = field(default_factory=list)
    recorded: str = ""
    device: str = ""
    device_reason: str = ""
    note: str = ""
    seconds: float | None = None
    diverged: bool = False
    stopped: bool = False

    @property
    def total_steps(self) -> int:
        return max([int(e["step"]) for e in self.events] + [1])


def check_history(h: Any) -> History:
    """Check a parsed history; HistoryError names the first bad field."""
    if not isinstance(h, dict) or h.get("format") != T.HISTORY_FORMAT:
        raise HistoryError("not_history", format=T.HISTORY_FORMAT)
    raw_events = h.get("events")
    if not isinstance(raw_events, list):
        raise HistoryError("events_not_list")
    if len(raw_events) > MAX_EVENTS:
        raise HistoryError("too_many_events", n=len(raw_events), cap=MAX_EVENTS)
    events = [ev for i, e in enumerate(raw_events) if (ev := check_event(e, i)) is not None]
    if not events:
        raise HistoryError("no_events")
    seconds, extras = h.get("seconds"), h.get("extras") or {}
    if not isinstance(extras, dict):
        raise HistoryError("extras_not_object")
    return History(
        config=check_config(h.get("config", {})), events=events, final=check_final(h.get("final", {})),
        crops=check_crops(extras.get("crops")),
        recorded=plain_text(h.get("recorded", ""), 40), device=plain_text(h.get("device", ""), 40),
        device_reason=plain_text(h.get("device_reason", ""), 160), note=plain_text(h.get("note", ""), 600),
        seconds=_number(seconds, "seconds", NON_NEGATIVE) if seconds is not None else None,
        diverged=h.get("diverged") is True, stopped=h.get("stopped") is True)


def check_event(e: Any, i: int) -> dict | None:
    """The checked fields of event `i` (None for an event the replay does not draw: start, end)."""
    if not isinstance(e, dict):
        raise HistoryError("event_not_object", i=i)
    spec = {"step": STEP_FIELDS, "epoch": EPOCH_FIELDS}.get(e.get("event"))
    if spec is None:
        return None
    out = {"event": e["event"]}
    for name, bounds in spec.items():
        if name not in e:
            raise HistoryError("event_no_field", i=i, event=e["event"], field=name)
        out[name] = _number(e[name], ("where_event", {"i": i, "event": e["event"], "field": name}), bounds)
    return out


def check_config(d: Any) -> T.TrainConfig:
    """The run's settings: known TrainConfig fields, each of its type and within the engine's own bounds
    (the field's metadata); unknown keys and the recording machine's paths and threads are dropped."""
    if not isinstance(d, dict):
        raise HistoryError("config_not_object")
    return T.TrainConfig(**{f.name: _config_value(f, d[f.name]) for f in dataclasses.fields(T.TrainConfig)
                            if f.name in d and f.name not in NOT_REPLAYED})


def _config_value(f: dataclasses.Field, v: Any) -> Any:
    """`v` checked against the TrainConfig field `f`: its annotation ("int | None") and its Spec."""
    where, spec = f"config.{f.name}", f.metadata.get("spec")
    kinds = {t.strip() for t in str(f.type).split("|")}
    if v is None and "None" in kinds:
        return None
    if "bool" in kinds:
        if not isinstance(v, bool):
            raise HistoryError("must_be_bool", where=where)
        return v
    if kinds & {"int", "float"}:
        whole = "float" not in kinds
        v = _number(v, where, (-math.inf, math.inf, whole))
        if spec is not None and not spec.contains(v):
            raise HistoryError("out_of_rule", where=where, rule=rule(spec, whole), v=v)
        return v
    if not isinstance(v, str) or len(v) > 200:
        raise HistoryError("short_text", where=where)
    if spec is not None and spec.choices and v not in spec.choices:
        raise HistoryError("one_of", where=where, choices=", ".join(map(str, spec.choices)))
    return v


def check_final(final: Any) -> dict:
    """The final numbers the page shows: accuracies, loss, test predictions and confidences."""
    if not isinstance(final, dict):
        raise HistoryError("final_not_object")
    out = {k: _number(final[k], f"final.{k}", b) for k, b in FINAL_FIELDS.items() if final.get(k) is not None}
    preds, conf = final.get("predictions"), final.get("confidence")
    if preds is not None:
        if not isinstance(preds, list) or len(preds) > 1_000_000:
            raise HistoryError("predictions_list")
        out["predictions"] = [_number(p, f"final.predictions[{i}]", (0, 999, True)) for i, p in enumerate(preds)]
        if conf is not None:
            if not isinstance(conf, list) or len(conf) != len(preds):
                raise HistoryError("confidence_list")
            out["confidence"] = [_number(c, f"final.confidence[{i}]", FRACTION) for i, c in enumerate(conf)]
    return out


def check_crops(crops: Any) -> list[dict]:
    """Multi-crop rows (extras.crops): views, accuracy, cost; at most MAX_CROPS of them."""
    if crops is None:
        return []
    if not isinstance(crops, list) or len(crops) > MAX_CROPS:
        raise HistoryError("crops_list", cap=MAX_CROPS)
    out = []
    for i, r in enumerate(crops):
        if not isinstance(r, dict):
            raise HistoryError("crop_not_object", i=i)
        row = {}
        for name, bounds in CROP_FIELDS.items():
            if name not in r:
                raise HistoryError("crop_no_field", i=i, field=name)
            row[name] = _number(r[name], f"extras.crops[{i}].{name}", bounds)
        row["mirrored"] = r.get("mirrored") is True
        out.append(row)
    return out


def _number(v: Any, where: str | Said, bounds: tuple) -> float | int:
    """`v` checked; `where` names it: a code path ("final.test_top1") or a Said (an event's field)."""
    lo, hi, whole = bounds
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        raise HistoryError("not_a_number", where=where, raw=plain_text(repr(v)[:20], 20))
    if not math.isfinite(v):
        raise HistoryError("not_finite", where=where, v=v)
    if whole and v != int(v):
        raise HistoryError("not_whole", where=where, v=v)
    if not lo <= v <= hi:
        if hi == math.inf:
            raise HistoryError("at_least", where=where, v=v, lo=lo)
        raise HistoryError("from_to", where=where, v=v, lo=lo, hi=hi)
    return int(v) if whole else float(v)


_TAG = re.compile(r"<[^>]*>?")
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")


def plain_text(s: Any, limit: int = 80) -> str:
    """`s` as plain text: tags removed, no '<', '>' or '&' left, no control characters, at most `limit` chars.
    (plotly renders <a href>, <b>, <br> ... in legends and hover text, and decodes entities.)"""
    s = _CONTROL.sub(" ", _TAG.sub("", str(s)))
    s = s.replace("<", "").replace(">", "").replace("&", "+")
    s = " ".join(s.split())
    return s if len(s) <= limit else s[: limit - 1] + "…"


# --------------------------------------------------------------------------- drawing and timing
def thin(x, y, max_points: int = MAX_POINTS) -> tuple[np.ndarray, np.ndarray]:
    """At most `max_points` points of the curve (x, y): the first and last, and in each of about
    max_points / 2 equal buckets the lowest and the highest point, in their order."""
    x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    n = len(y)
    if n <= max_points:
        return x, y
    buckets = max(1, (max_points - 4) // 2)           # 2 per bucket, first and last, 2 left over
    width = (n - 2) // buckets                       # interior points 1 .. n-2, whole buckets
    body = y[1:1 + buckets * width].reshape(buckets, width)
    start = 1 + width * np.arange(buckets)
    keep = np.concatenate(([0], start + body.argmin(axis=1), start + body.argmax(axis=1), [n - 1]))
    rest = np.arange(1 + buckets * width, n - 1)     # the few left over after whole buckets
    if len(rest):
        keep = np.concatenate((keep, [rest[np.argmin(y[rest])], rest[np.argmax(y[rest])]]))
    keep = np.unique(keep)
    return x[keep], y[keep]


def replay_due(elapsed: float, n_events: int, duration: float = REPLAY_SECONDS) -> int:
    """How many of `n_events` a replay lasting `duration` seconds has shown after `elapsed` seconds."""
    if duration <= 0 or elapsed >= duration:
        return n_events
    return min(n_events, math.ceil(n_events * max(0.0, elapsed) / duration))
