"""What a run leaves behind: checkpoints (tensors only, read back with weights_only=True), the
TrainResult, and the run's history as JSON (replayable in lesson 5's dashboard)."""
from __future__ import annotations

import datetime as _dt
import json
import os
import platform
from dataclasses import dataclass, field
from pathlib import Path

import torch
import torch.nn as nn

from widgets import data as D
from widgets.train_config import ConfigError

HISTORY_FORMAT = "widgets.train.history/1"


def save_checkpoint(path: str | os.PathLike, state: dict) -> None:
    """Atomic write (a crash never leaves half a checkpoint)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    torch.save(state, tmp)
    tmp.replace(path)


def load_checkpoint(path: str | os.PathLike) -> dict:
    """Read a checkpoint with weights_only=True: tensors and plain containers only, no code."""
    if not Path(path).is_file():
        raise ConfigError(f"checkpoint {path} does not exist")
    try:
        return torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # noqa: BLE001 - a bad file becomes one line
        raise ConfigError(f"checkpoint {path} could not be read: {exc.__class__.__name__}") from None


@dataclass
class TrainResult:
    config: dict
    device: str
    device_reason: str
    history: list[dict] = field(default_factory=list)
    final: dict = field(default_factory=dict)
    stopped: bool = False
    diverged: bool = False
    message: str = ""
    epochs_done: int = 0
    steps_done: int = 0
    seconds: float = 0.0
    model: nn.Module | None = None       # the test-time model (the averaged one when averaging)
    data: D.ImageData | None = None
    rank: int = 0
    world_size: int = 1

    def history_json(self, note: str = "", extras: dict | None = None) -> dict:
        return {
            "format": HISTORY_FORMAT,
            "recorded": _dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
            "device": self.device,
            "device_reason": self.device_reason,
            "host": {"python": platform.python_version(), "torch": torch.__version__,
                     "cpu_threads": torch.get_num_threads(), "machine": platform.machine()},
            "note": note,
            "config": self.config,
            "final": self.final,
            "stopped": self.stopped,
            "diverged": self.diverged,
            "seconds": self.seconds,
            "extras": extras or {},
            "events": self.history,
        }


def mean_throughput(history: list[dict]) -> float:
    """Images per second, averaged over the run's epochs (nan before the first epoch)."""
    eps = [e for e in history if e.get("event") == "epoch"]
    if not eps:
        return float("nan")
    return sum(e["images_per_s"] for e in eps) / len(eps)


def save_history(result: TrainResult, path: str | os.PathLike, note: str = "", extras: dict | None = None) -> None:
    """The run as JSON: device, date, settings, final numbers (with test predictions) and events."""
    Path(path).write_text(json.dumps(result.history_json(note, extras), separators=(",", ":")))


def load_history(path_or_text: str | os.PathLike) -> dict:
    """A saved run (see `save_history`), checked enough to be replayed; ValueError if not."""
    text = str(path_or_text)
    if not text.lstrip().startswith("{"):
        text = Path(path_or_text).read_text()
    try:
        h = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ValueError(f"not a JSON run history ({exc.msg}, line {exc.lineno})") from None
    if not isinstance(h, dict) or h.get("format") != HISTORY_FORMAT:
        raise ValueError(f"not a run history in format {HISTORY_FORMAT}")
    events = h.get("events")
    if not isinstance(events, list) or not any(e.get("event") == "epoch" for e in events if isinstance(e, dict)):
        raise ValueError("the history has no epoch events to replay")
    return h
