"""What a run leaves behind: checkpoints (tensors only, read back with weights_only=True), the
TrainResult, and the run's history as JSON (replayable in lesson 5's dashboard)."""
from __future__ import annotations

import datetime as _dt
import json
import math
import os
import pickle
import platform
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import torch
import torch.nn as nn

from widgets import data as D
from widgets.train_config import ConfigError

HISTORY_FORMAT = "widgets.train.history/1"


def atomic_write(path: str | os.PathLike, write: Callable[[Path], None]) -> None:
    """`write(tmp)` into a temporary file beside `path`, then rename it onto `path`: a reader sees
    the old file or the whole new one, never half. On any failure the temporary file is removed."""
    path = Path(path)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    try:
        write(Path(tmp))
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def save_checkpoint(path: str | os.PathLike, state: dict) -> None:
    """Atomic write (a crash never leaves half a checkpoint). The folder must exist (checked before a run)."""
    atomic_write(path, lambda tmp: torch.save(state, tmp))


def one_line(exc: BaseException, limit: int = 160) -> str:
    text = " ".join(str(exc).split())
    return exc.__class__.__name__ + (f": {text[:limit]}" if text else "")


def load_checkpoint(path: str | os.PathLike) -> dict:
    """Read a checkpoint with weights_only=True: tensors and plain containers only, no code."""
    if not Path(path).is_file():
        raise ConfigError(f"checkpoint {path} does not exist")
    try:
        return torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError:
        raise ConfigError(f"checkpoint {path} could not be read: it holds objects that are not plain weights "
                          f"and was refused (read with weights_only=True)") from None
    except Exception as exc:  # noqa: BLE001 - a bad file becomes one line
        raise ConfigError(f"checkpoint {path} could not be read: {one_line(exc)}") from None


# What `resume` needs from a checkpoint, and of which type.
CHECKPOINT_FIELDS: dict[str, tuple[type, ...]] = {
    "model": (dict,), "optimizer": (dict,), "averaged": (dict, type(None)), "g_perm": (torch.Tensor,),
    "g_aug": (torch.Tensor,), "rng_cpu": (torch.Tensor,), "epoch": (int,), "step": (int,), "config": (dict,),
}
_TYPE_WORDS = {dict: "a dict", torch.Tensor: "a tensor", int: "a whole number", type(None): "None"}


def check_checkpoint(ck: Any, path: str | os.PathLike) -> dict:
    """The checkpoint if it holds what `resume` needs (keys, types, named tensors); else ConfigError
    with one line naming what is wrong. Weight shapes are checked against the model by `check_weights`."""
    where = f"checkpoint {path}"
    if not isinstance(ck, dict):
        raise ConfigError(f"{where} is not a checkpoint (a {type(ck).__name__}, not a dict of weights and state)")
    for key, types in CHECKPOINT_FIELDS.items():
        if key not in ck and type(None) not in types:
            raise ConfigError(f"{where} has no '{key}'")
        v = ck.get(key)
        if not isinstance(v, types) or isinstance(v, bool):
            words = " or ".join(_TYPE_WORDS[t] for t in types)
            raise ConfigError(f"{where}: '{key}' must be {words}, not {type(v).__name__}")
    if ck["epoch"] < 0 or ck["step"] < 0:
        raise ConfigError(f"{where}: 'epoch' and 'step' must not be negative")
    for key in ("model", "averaged"):
        weights = ck.get(key) or {}
        if not all(isinstance(k, str) and isinstance(v, torch.Tensor) for k, v in weights.items()):
            raise ConfigError(f"{where}: '{key}' must be a dict of named tensors")
    if not isinstance(ck.get("history", []), list):
        raise ConfigError(f"{where}: 'history' must be a list")
    return ck


def check_weights(module: nn.Module, weights: dict, what: str, path: str | os.PathLike) -> None:
    """ConfigError naming the first weight that is missing, unknown, or of another shape than `module`'s."""
    where = f"checkpoint {path}"
    own = module.state_dict()
    for name, t in own.items():
        if name not in weights:
            raise ConfigError(f"{where} lacks {what} weight '{name}' (made with other settings?)")
        if tuple(weights[name].shape) != tuple(t.shape):
            raise ConfigError(f"{where}: {what} weight '{name}' has shape {tuple(weights[name].shape)}, "
                              f"this model's is {tuple(t.shape)} (made with other settings?)")
    for name in weights:
        if name not in own:
            raise ConfigError(f"{where} has {what} weight '{name}', which this model does not have")


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
            "message": self.message,
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


def finite_json(value: Any) -> Any:
    """`value` with every NaN or infinity replaced by None (JSON null): strict JSON has no NaN."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: finite_json(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [finite_json(v) for v in value]
    return value


def save_history(result: TrainResult, path: str | os.PathLike, note: str = "", extras: dict | None = None) -> None:
    """The run as strict JSON (a diverged run's NaNs become null), written atomically: device, date,
    settings, final numbers (with test predictions), the run's message and its events."""
    text = json.dumps(finite_json(result.history_json(note, extras)), separators=(",", ":"), allow_nan=False)
    atomic_write(path, lambda tmp: tmp.write_text(text))


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
    if not isinstance(events, list) or not any(e.get("event") in ("step", "epoch") for e in events
                                               if isinstance(e, dict)):
        raise ValueError("the history has no step or epoch events to replay")
    return h
