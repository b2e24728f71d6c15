"""widgets/history.py: which files a replay may read, what a valid history holds, thinning and pacing
(issue 18 items 10-13)."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from widgets import history as H
from widgets import train as T

SHIPPED = Path(H.__file__).resolve().parent / "recordings" / "replay_cpu_digits.json"


def history(events=None, **top) -> dict:
    """A small valid history (three steps and one epoch), with fields replaced by `top`."""
    step = {"event": "step", "step": 1, "epoch": 0.5, "loss": 3.0, "main_loss": 2.3, "train_top1": 0.1,
            "lr": 0.01, "images_per_s": 100.0}
    h = {"format": T.HISTORY_FORMAT, "recorded": "2026-01-01 00:00 UTC", "device": "cpu", "device_reason": "CPU",
         "config": T.TrainConfig().to_dict(), "final": {"test_top1": 0.5, "test_top5": 0.9}, "seconds": 1.0,
         "events": events if events is not None else [
             {"event": "start", "total_steps": 3},
             step, {**step, "step": 2, "epoch": 1.0},
             {"event": "epoch", "epoch": 1, "step": 2, "test_loss": 1.5, "test_top1": 0.4, "test_top5": 0.8},
             {"event": "end", "step": 2}]}
    h.update(top)
    return h


def test_the_shipped_recording_is_valid():
    h = H.read_history(SHIPPED)
    assert len(h.events) == 115 and h.total_steps == 110
    assert h.config.label() == "digits, w0.25, BN, aux, lr 0.2, onecycle"
    assert len(h.final["predictions"]) == 360 and [r["crops"] for r in h.crops] == [1, 10]


def test_start_and_end_events_are_skipped_and_fields_kept():
    h = H.check_history(history())
    assert [e["event"] for e in h.events] == ["step", "step", "epoch"]
    assert h.events[0]["main_loss"] == 2.3 and h.total_steps == 2


# ---- item 11: every event checked, the message names the field
@pytest.mark.parametrize("field,value,words", [
    ("main_loss", float("nan"), "field 'main_loss' is nan"),
    ("lr", float("inf"), "field 'lr' is inf"),
    ("step", -111, "field 'step' is -111; it must be from 0"),
    ("train_top1", -1.98, "field 'train_top1' is -1.98; it must be from 0 to 1"),
    ("train_top1", 1.5, "field 'train_top1' is 1.5"),
    ("images_per_s", "fast", "field 'images_per_s' must be a number"),
    ("epoch", True, "field 'epoch' must be a number"),
    ("step", 2.5, "field 'step' is 2.5; it must be a whole number"),
])
def test_a_bad_step_field_is_named(field, value, words):
    h = history()
    h["events"][2][field] = value
    with pytest.raises(H.HistoryError) as exc:
        H.check_history(h)
    assert "event 2 (step)" in str(exc.value) and words in str(exc.value)


def test_a_missing_field_is_named_not_a_bare_key():
    h = history()
    del h["events"][3]["test_top1"]
    with pytest.raises(H.HistoryError) as exc:
        H.check_history(h)
    assert str(exc.value) == "event 3 (epoch) has no field 'test_top1'"


@pytest.mark.parametrize("broken,words", [
    (lambda h: h.update(events="x"), "'events' must be a list"),
    (lambda h: h["events"].__setitem__(1, 7), "event 1 is not an object"),
    (lambda h: h.update(events=[{"event": "start"}]), "no step or epoch events"),
    (lambda h: h.update(format="other"), "not a run history"),
    (lambda h: h["final"].update(test_top1=float("nan")), "final.test_top1 is nan"),
    (lambda h: h["final"].update(predictions=[1, -2]), "final.predictions[1] is -2"),
    (lambda h: h.update(extras={"crops": [{"crops": 10, "top1": 0.9, "top5": 1, "seconds": 1,
                                            "flops_per_image": 0}]}), "extras.crops[0].flops_per_image is 0"),
    (lambda h: h["config"].update(width="0.25x"), "config.width must be a number"),
    (lambda h: h["config"].update(lr=-1), "config.lr must be a positive number, not -1"),
    (lambda h: h["config"].update(image_size=4), "config.image_size must be from 8 to 512, not 4"),
    (lambda h: h["config"].update(schedule="cosine"), "config.schedule must be one of onecycle, step"),
    (lambda h: h["config"].update(bn="yes"), "config.bn must be true or false"),
])
def test_bad_top_level_fields_are_named(broken, words):
    h = history()
    broken(h)
    with pytest.raises(H.HistoryError) as exc:
        H.check_history(h)
    assert words in str(exc.value)


def test_the_recording_machines_paths_and_threads_do_not_matter():
    h = history()
    h["config"].update(data_dir="/gpu/box/data", threads=64, save="/gpu/box/ck.pt", resume=None, unknown=3)
    c = H.check_history(h).config
    assert c.data_dir is None and c.threads is None and c.save is None


# ---- item 12: strings from the file never carry markup
def test_markup_in_the_data_set_name_is_refused():
    h = history()
    h["config"]["dataset"] = "<a href='https://evil.example'>digits</a>"
    with pytest.raises(H.HistoryError, match="config.dataset must be one of digits, cifar10"):
        H.check_history(h)


def test_markup_in_free_text_is_stripped():
    h = H.check_history(history(device="<a href='https://evil.example'>cpu</a>", note="<b>hi</b> & <script>x"))
    assert h.device == "cpu" and "<" not in h.note and ">" not in h.note and "&" not in h.note
    assert H.plain_text("a\x00b\u2028c <br> d", 80) == "a b c d"
    assert len(H.plain_text("x" * 500, 40)) == 40


# ---- item 10: caps on size and events
def test_a_file_over_the_size_cap_is_refused_before_it_is_read(tmp_path, monkeypatch):
    monkeypatch.setattr(H, "MAX_BYTES", 1000)
    p = tmp_path / "big.json"
    p.write_text(json.dumps(history()) + " " * 2000)
    with pytest.raises(H.HistoryError, match="the page replays files up to"):
        H.read_history(p)


def test_more_events_than_the_cap_are_refused(monkeypatch):
    monkeypatch.setattr(H, "MAX_EVENTS", 4)
    with pytest.raises(H.HistoryError, match="at most 4 "):
        H.check_history(history())


def test_binary_and_nested_files_give_one_line_without_their_bytes(tmp_path):
    p = tmp_path / "bin.json"
    p.write_bytes(b"{\xff\xfe\x00secret")
    with pytest.raises(H.HistoryError) as exc:
        H.read_history(p)
    assert str(exc.value) == "bin.json is not a text file (not UTF-8)"
    with pytest.raises(H.HistoryError, match="does not parse"):
        H.parse_history("[" * 100_000)
    with pytest.raises(H.HistoryError, match="does not parse, line 1"):
        H.parse_history("{ nope")


# ---- item 13: only .json files under the recordings and the history folder
@pytest.fixture
def roots(tmp_path):
    rec, mine, other = tmp_path / "recordings", tmp_path / "mine", tmp_path / "other"
    for d in (rec, mine, other):
        d.mkdir()
    for d in (rec, mine, other):
        (d / "run.json").write_text(json.dumps(history()))
    (mine / "notes.txt").write_text("x")
    (mine / "dir.json").mkdir()
    (mine / "link.json").symlink_to(other / "run.json")
    return rec, mine, other


def test_files_in_either_folder_are_found_by_name_or_path(roots):
    rec, mine, _ = roots
    assert H.find_history("run.json", [rec, mine]) == (rec / "run.json").resolve()
    assert H.find_history(str(mine / "run.json"), [rec, mine]) == (mine / "run.json").resolve()


def test_everything_else_gets_one_message(roots):
    rec, mine, other = roots
    asked = [str(other / "run.json"), "/etc/passwd", "/etc/shadow", "/no/such/run.json", str(mine / "notes.txt"),
             str(mine / "dir.json"), "link.json", "../other/run.json", str(mine), "", "a\x00b.json"]
    for text in asked:
        with pytest.raises(H.HistoryError) as exc:
            H.find_history(text, [rec, mine])
        assert str(exc.value) == (f"no file {H.plain_text(text.strip(), 120)} among the run histories this page "
                                  f"reads (.json files in {rec} or {mine})")


def test_the_history_folder_follows_the_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("WIDGETS_HISTORY_DIR", str(tmp_path))
    assert H.default_history_dir() == tmp_path
    monkeypatch.delenv("WIDGETS_HISTORY_DIR")
    assert H.default_history_dir() == Path.home() / ".cache" / "widgets" / "histories"


# ---- thinning and pacing
def test_thin_keeps_ends_and_extremes_within_the_budget():
    x = np.arange(100_000, dtype=float)
    y = np.sin(x / 500.0)
    y[12_345], y[67_890] = 50.0, -50.0
    tx, ty = H.thin(x, y)
    assert len(tx) <= H.MAX_POINTS and len(tx) > H.MAX_POINTS * 0.9
    assert tx[0] == 0 and tx[-1] == 99_999 and np.all(np.diff(tx) > 0)
    assert 12_345 in tx and 67_890 in tx and ty.max() == 50.0 and ty.min() == -50.0
    assert np.array_equal(ty, y[tx.astype(int)])


@pytest.mark.parametrize("n", [0, 1, 5, H.MAX_POINTS, H.MAX_POINTS + 1, H.MAX_POINTS + 3, 7777])
def test_thin_at_every_length(n):
    x = np.arange(n, dtype=float)
    tx, ty = H.thin(x, x ** 2)
    assert len(tx) == min(n, len(tx)) <= H.MAX_POINTS
    if n:
        assert tx[0] == 0 and tx[-1] == n - 1


def test_replay_due_paces_the_events_over_the_promised_time():
    assert H.replay_due(0.0, 50_000) == 0
    assert H.replay_due(H.REPLAY_SECONDS / 2, 50_000) == 25_000
    assert H.replay_due(H.REPLAY_SECONDS, 50_000) == 50_000
    assert H.replay_due(1e9, 3) == 3 and H.replay_due(0.01, 3) == 1
    assert all(H.replay_due(t, 10) <= H.replay_due(t + 0.1, 10) for t in np.linspace(0, 7, 71))


def test_the_caps_fit_a_real_file():
    """MAX_EVENTS step events as the engine writes them fit under MAX_BYTES."""
    ev = json.loads(SHIPPED.read_text())["events"][0]
    per_event = len(json.dumps(ev, separators=(",", ":"))) + 1
    assert per_event * H.MAX_EVENTS < H.MAX_BYTES
