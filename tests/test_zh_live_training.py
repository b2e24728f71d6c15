"""Lesson 5 in Chinese without a browser: the dashboard and the measured notes built in en and zh show
the same numbers and draw the same data (at the defaults, through every setting, after a replay of the
shipped recording); no English is left in the zh controls, buttons, figure titles, axes, legends or
table headings; the maths' sentence kinds (run_results, history) and the engine's lines are said in
both languages with the same numbers; the results grid tells wrong from right by more than colour."""
from __future__ import annotations

import dataclasses
import re
from collections import Counter

import pytest

from widgets import history as H
from widgets import run_results as R
from widgets import train as T
from widgets.views import i18n, palette
from widgets.views import live_training as L
from widgets.views.live_training import results as RS
from widgets.views.live_training.words import _ENGINE, config_label, engine_line, say

NUM = re.compile(r"\d[\d,.]*\d|\d")
CJK = re.compile(r"[\u4e00-\u9fff]")
# Latin words a zh page may show: code names, units, the paper's terms kept as in the notes
ALLOWED = {"GoogLeNet", "digits", "cifar", "CIFAR", "onecycle", "step", "BN", "aux", "lr", "w", "top", "MFLOPs",
           "GFLOPs", "Polyak", "epoch", "one", "cycle", "px", "cpu", "JSON", "x", "s", "ms", "torch", "MB"}
SETTINGS = {"width": 0.125, "size": 24, "schedule": "step", "dataset": "cifar10", "bn": False, "aux": False,
            "averaging": False, "augment": True, "lr": 0.05, "batch": 32, "epochs": 3, "seed": 3}


def nums(text: str) -> Counter:
    """The numbers in a text, in any order (a sentence may put them in another order in Chinese)."""
    return Counter(NUM.findall(re.sub(r"<[^>]+>|&#?\w+;|var\([^)]*\)|#[0-9A-Fa-f]{6}|\d+(?:\.\d+)?px|font-size:[\d.]+em", " ", text)))


@pytest.fixture
def pages(tmp_path, monkeypatch):
    monkeypatch.setenv("WIDGETS_HISTORY_DIR", str(tmp_path))
    both = {lang: L.LiveTraining(lang=lang) for lang in ("en", "zh")}
    yield both
    for s in both.values():
        s.task.stop_event.set()
        s.task.join(10)


def shown(s) -> dict[str, str]:
    return {"banner": s.banner.value, "summary": s.summary.value, "info": s.replay_info.value,
            "results": s.results.title.value + s.results.numbers.value, "live": s.charts.live.value,
            "status": s.task.status.value}


def drawn(s) -> dict:
    """Every trace's data and every annotation's numbers, by figure."""
    out = {}
    for name, fig in s.figures.items():
        out[name] = [(tuple(map(str, tr.x)) if getattr(tr, "x", None) is not None else None,
                      tuple(map(str, tr.y)) if getattr(tr, "y", None) is not None else None,
                      str(tr.z) if getattr(tr, "z", None) is not None else None) for tr in fig.data]
        out[name + " annotations"] = [nums(a.text) for a in fig.layout.annotations or ()]
    return out


def assert_same_numbers(en, zh):
    a, b = shown(en), shown(zh)
    for key in a:
        assert nums(a[key]) == nums(b[key]), f"{key}:\n{a[key]}\n{b[key]}"
    assert drawn(en) == drawn(zh)


def test_the_defaults_show_the_same_numbers(pages):
    assert_same_numbers(pages["en"], pages["zh"])
    assert "654,902" in pages["zh"].summary.value and CJK.search(pages["zh"].summary.value)


def test_every_setting_shows_the_same_numbers(pages):
    for name, value in SETTINGS.items():
        for s in pages.values():
            s.controls[name].set(value)
        assert nums(pages["en"].summary.value) == nums(pages["zh"].summary.value), name
    assert nums(pages["en"].summary.value) == nums(pages["zh"].summary.value)


def test_a_replay_of_the_shipped_recording_draws_the_same_in_both(pages):
    for s in pages.values():
        s.replay_seconds = 0.3
        s.replay_path.value = ""
        s.start_replay()
        s.task.join(30)
        assert not s.task.running
    assert "Replay finished" in pages["en"].task.status.value and "回放结束" in pages["zh"].task.status.value
    assert len(pages["zh"].tr("acc", "top1_1").x) == 5
    assert_same_numbers(pages["en"], pages["zh"])


def test_a_refused_history_is_said_in_chinese_with_the_same_numbers(pages, tmp_path):
    import json

    h = json.loads(L.page.SHIPPED.read_text())
    h["events"][3]["step"] = -111
    (tmp_path / "bad.json").write_text(json.dumps(h))
    for s in pages.values():
        s.replay_path.value = "bad.json"
        s.start_replay()
    en, zh = (pages[k].task.status.value for k in ("en", "zh"))
    assert "Cannot replay: event 3 (step)" in en and "无法回放：事件 3（step）" in zh
    assert nums(en) == nums(zh)


@pytest.mark.parametrize("note", [L.cpu_benchmark, L.recorded_losses, L.recorded_crops, L.benchmarks])
def test_the_measured_notes_quote_the_same_numbers(note):
    en, zh = note().children[0].value, note(lang="zh").children[0].value
    assert nums(en) == nums(zh) and CJK.search(zh)


def label(widget) -> str:
    return widget.text.description if hasattr(widget, "text") else widget.description


def test_no_english_in_the_zh_controls_figures_and_tables(pages):
    s = pages["zh"]
    texts = [label(c.widget) for c in s.controls.values()]
    texts += [lab for n in ("dataset", "width", "size", "schedule") for lab in s.controls[n].widget._options_labels]
    texts += [b.description for b in (*s.task.start_buttons, s.task.stop_button)]
    texts += [s.replay_path.description, s.replay_path.placeholder, s.task.start_button.tooltip]
    for fig in s.figures.values():
        lay = fig.layout
        texts += [lay.title.text, lay.xaxis.title.text, lay.yaxis.title.text]
        texts += [re.sub(r"^#\d+: ", "", tr.name) for tr in fig.data if tr.name]
    texts.append(s.figures["speed"].layout.yaxis2.title.text)
    texts += re.findall(r"<td class='lesson-stat-name'[^>]*>([^<]*)<", s.results.numbers.value)
    texts += re.findall(r"<h3[^>]*>([^<]*)<", "".join(getattr(w, "value", "") for w in s.layout()))
    bad = [(w, t) for t in texts if t for w in re.findall(r"[A-Za-z]+", re.sub(r"/\S+", "", str(t)))  # not paths
           if w not in ALLOWED]
    assert not bad, bad[:10]
    assert len(texts) > 40
    assert label(s.controls["lr"].widget) == "学习率" and label(pages["en"].controls["lr"].widget) == "Learning rate"


# ---------------------------------------------------------------- the maths' sentences in both languages
def test_every_history_kind_reads_in_english_as_history_says_it():
    """The page's English (the catalogue) is history.EN word for word, so str(HistoryError) and the page agree."""
    for kind, text in H.EN.items():
        assert i18n.t("en", f"live.{kind}") == text, kind
        assert CJK.search(i18n.t("zh", f"live.{kind}")) or kind.startswith("sep_"), kind


def test_rule_says_what_spec_rule_says():
    for f in dataclasses.fields(T.TrainConfig):
        spec = f.metadata.get("spec")
        if spec is None or spec.choices:
            continue
        for whole in (True, False):
            try:
                expected = spec.rule(whole)
            except TypeError:
                continue
            assert H.english(H.rule(spec, whole)) == expected, f.name


RESULT = {"machine": {"date": "2026-11-24", "cpu_count": 2, "torch": "2.13.0", "load_average_1_5_15min": [0.3, 1, 1]},
          "runs": [{"threads": 2, "seconds": 9.34, "final_test_top1": 0.9833, "first_epoch_at_97": 5,
                    "seconds_to_97": 8.87, "load_average_before": [0.28]},
                   {"threads": 1, "seconds": 10.36, "final_test_top1": 0.9806, "load_average_before": None}],
          "rows": [{"name": "ours", "images_per_s": 454.5, "ms_per_step": 140.8},
                   {"name": "torchvision", "skipped": "torchvision not importable (ModuleNotFoundError)"}],
          "batch_size": 64, "image_size": 32, "median_epoch_s_watched": 1.266, "median_epoch_s_unwatched": 1.282,
          "callback_share_of_run": 0.0067}


def _all_saids() -> list:
    h = H.read_history(L.page.SHIPPED)
    saids = (R.cpu_default_sentences(RESULT) + R.throughput_sentences(RESULT) + R.watch_sentences(RESULT)
             + R.loss_sentences(h) + R.crop_sentences(h) + [R.banner_timing(RESULT), R.missing("watch_cost")]
             + R.crop_sentences(dataclasses.replace(h, crops=[]))
             + R.thread_verdict([R.CpuRun(1, 9.0, 0.9, None, None, None), R.CpuRun(2, 18.0, 0.9, None, None, 1.9)], 2))
    crops = [dict(r) for r in h.crops]
    crops[1]["top1"] = crops[0]["top1"] + 0.01
    saids += R.crop_sentences(dataclasses.replace(h, crops=crops))
    crops[1]["top1"] = crops[0]["top1"]
    return saids + R.crop_sentences(dataclasses.replace(h, crops=crops))


def test_every_run_results_sentence_is_said_in_both_languages_with_the_same_numbers():
    kinds = set()
    for said in _all_saids():
        en, zh = say("en", said), say("zh", said)
        assert nums(en) == nums(zh), f"{said[0]}:\n{en}\n{zh}"
        assert CJK.search(zh), zh
        kinds.add(said[0])
    assert {"cpu_head", "cpu_run", "faster_one", "faster_many", "not_busy", "throughput_row", "throughput_skipped",
            "watch", "first_loss", "test_losses", "crop_rows", "crops_worse", "crops_better", "crops_same",
            "no_crops", "banner_timing", "missing"} <= kinds


def test_the_english_sentences_are_the_ones_the_page_showed_before():
    out = [say("en", s) for s in R.cpu_default_sentences(RESULT)]
    assert out[0] == ("Measured by benchmarks/cpu_default.py (2026-11-24, 2 cores, torch 2.13.0, load average 0.30 "
                      "at the start):")
    assert out[1] == ("2 threads: final test top-1 98.33% in 9.34 s; 97% first reached after epoch 5 (8.87 s); "
                      "load average 0.28 before the run.")
    assert out[2] == "1 thread: final test top-1 98.06% in 10.36 s; 97% not reached; load not recorded."
    assert say("en", R.banner_timing(RESULT)) == "measured on a 2-core CPU (2026-11-24), a run took 9.3 s with 2 threads"


# ---------------------------------------------------------------- the engine's lines
ENGINE_LINES = [
    "Finished 5 epochs in 9.3 s: test top-1 0.9833.",
    "Finished 1 epoch in 2.1 s: test top-1 0.5000.",
    "Stopped by request at step 17 (epoch 1); nothing was lost but this run.",
    "Stopped by request at step 44 (epoch 3); the checkpoint /tmp/ck.pt holds the last whole epoch.",
    "Diverged at step 3 (epoch 1): the loss became nan. Lower the learning rate (it was 10) or turn BN on.",
    "Diverged in epoch 2: the test loss became inf. Lower the learning rate (it was 0.2) or turn BN on.",
    "1 thread: the machine is busy (load 1.7 on 2 cores)",
    "2 threads",
]


@pytest.mark.parametrize("line", ENGINE_LINES)
def test_the_engines_lines_are_said_in_chinese_with_their_numbers(line):
    zh = engine_line("zh", line)
    assert zh != line and CJK.search(zh) and nums(zh) == nums(line)
    assert engine_line("en", line) == line
    assert sum(1 for _k, p in _ENGINE if p.match(line)) >= 1


def test_the_engines_own_messages_have_the_shapes_the_view_knows():
    """A real run's end message, from widgets/train.py (stopped after its first step)."""
    import threading

    from widgets import data as D

    stop = threading.Event()
    cfg = dataclasses.replace(T.lesson_default("digits"), width=0.0625, epochs=1, threads=1, device="cpu")
    r = T.train(cfg, lambda ev: stop.set() if ev["event"] == "step" else None, stop, data=D.load_digits_data())
    assert r.stopped and engine_line("zh", r.message) != r.message, r.message
    assert engine_line("zh", T.suggest_threads()[1]) != T.suggest_threads()[1]


def test_run_labels_keep_the_code_names_and_translate_the_words():
    c = dataclasses.replace(T.lesson_default("digits"), bn=False, aux=False, augment=True, averaging=False)
    assert config_label("en", c) == c.label()
    assert config_label("zh", c) == "digits，w0.25，无 BN，无 aux，lr 0.2，onecycle，随机裁剪，不平均"


# ---------------------------------------------------------------- issue 17: not by colour alone
def test_the_results_grid_marks_wrong_and_right_beyond_colour(pages):
    for s in pages.values():
        texts = [a.text for a in s.figures["grid"].layout.annotations]
        marks = Counter(t.split(" ")[0] for t in texts)
        assert set(marks) == {"✗", "✓"} and marks["✗"] == 6, marks
        for t in texts:
            pred, true = t.split(" ")[1].split("/")
            assert (pred == true) == t.startswith("✓"), t
    assert {RS.WRONG, RS.RIGHT} <= set(palette.OKABE_ITO)
    assert "✗" in i18n.t("en", "train.fig_grid") and "✓" in i18n.t("zh", "train.fig_grid")
    assert "red frame" not in i18n.t("en", "train.fig_grid")
