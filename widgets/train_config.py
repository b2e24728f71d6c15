"""The training engine's settings, each declared once: `TrainConfig`'s fields carry their help
text and their bounds (dataclass field metadata, see `option`). `validate` and the CLI parser
(widgets.train_cli) are generated from them, so there is one set of ranges and one set of messages.
"""
from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from widgets import data as D

SCHEDULES = ("onecycle", "step")
DEVICES = ("auto", "cuda", "mps", "cpu")


class ConfigError(ValueError):
    """A setting that cannot work; the message is one line for the learner."""


# --------------------------------------------------------------------------- field metadata


@dataclass(frozen=True)
class Spec:
    """What a setting means and which values it takes (kept in the field's metadata["spec"]).

    low/high: bounds (None: unbounded), excluded when low_open/high_open; choices: the allowed
    values; check(value) -> message or None: a test no range can express (a directory exists).
    """

    help: str
    label: str = ""
    low: float | None = None
    high: float | None = None
    low_open: bool = False
    high_open: bool = False
    choices: tuple | None = None
    check: Callable[[Any], str | None] | None = None

    def rule(self, integer: bool) -> str:
        """The range in words: "must be a positive number", "must be in (0, 4]", ..."""
        lo, hi = self.low, self.high
        if hi is None:
            if lo == 0 and self.low_open:
                return "must be a positive number"
            return f"must be greater than {lo:g}" if self.low_open else f"must be at least {lo:g}"
        if lo is None:
            return f"must be less than {hi:g}" if self.high_open else f"must be at most {hi:g}"
        if integer and not (self.low_open or self.high_open):
            return f"must be from {lo:g} to {hi:g}"
        return f"must be in {'(' if self.low_open else '['}{lo:g}, {hi:g}{')' if self.high_open else ']'}"

    def contains(self, v: float) -> bool:
        lo_ok = self.low is None or (v > self.low if self.low_open else v >= self.low)
        hi_ok = self.high is None or (v < self.high if self.high_open else v <= self.high)
        return lo_ok and hi_ok


def option(default: Any, help: str, **spec: Any) -> Any:
    """A TrainConfig field: its default, its help text and its bounds (see `Spec`)."""
    return field(default=default, metadata={"spec": Spec(help, **spec)})


def _existing_dir(path: str) -> str | None:
    return None if Path(path).is_dir() else f"directory {path} does not exist"


# --------------------------------------------------------------------------- the settings


@dataclass
class TrainConfig:
    """Everything a run depends on. Defaults are the lesson's CPU default on digits."""

    dataset: str = option("digits", "data set: digits (embedded, no network) or cifar10 (binary archive)",
                          label="data set", choices=D.DATASETS)
    data_dir: str | None = option(None, "directory holding CIFAR-10's binary archive or batches "
                                        "(default: $WIDGETS_DATA_DIR or ~/.cache/widgets)",
                                  label="data directory", check=_existing_dir)
    download: bool = option(True, "download CIFAR-10 when absent (needs network)")
    image_size: int = option(16, "model input side in pixels: digits' 8x8 are upsampled to it",
                             low=8, high=512)
    small_input: bool = option(True, "GoogLeNet's stem for small images (no 7x7/2 conv and pools)")
    width: float = option(0.25, "channel multiplier of every layer (1 = the paper's)", low=0, high=4, low_open=True)
    bn: bool = option(True, "BatchNorm after every conv (Inception-v2 style)")
    aux: bool = option(True, "the two auxiliary classifiers, loss weight 0.3")
    dropout: float = option(0.2, "dropout before the last FC layer (paper: 0.4 on ImageNet)",
                            low=0, high=1, high_open=True)
    aux_dropout: float = option(0.7, "dropout in the auxiliary heads (paper: 0.7)", label="auxiliary dropout",
                                low=0, high=1, high_open=True)
    epochs: int = option(5, "epochs", low=1)
    batch_size: int = option(64, "global batch size (split across DDP processes)", low=1)
    lr: float = option(0.2, "peak (onecycle) or initial (step) learning rate", label="learning rate",
                       low=0, low_open=True)
    momentum: float = option(0.9, "SGD momentum (paper: 0.9)", low=0, high=1, high_open=True)
    weight_decay: float = option(5e-4, "L2 weight decay", low=0)
    schedule: str = option("onecycle", "onecycle (short runs) or step (paper: x0.96 every 8 epochs)",
                           choices=SCHEDULES)
    step_epochs: int = option(8, "step schedule: epochs between cuts (paper: 8)", label="step epochs", low=1)
    step_gamma: float = option(0.96, "step schedule: factor of each cut (paper: 0.96)", label="step gamma",
                               low=0, high=1, low_open=True)
    warmup_fraction: float = option(0.25, "onecycle: share of the steps spent warming up", label="warm-up fraction",
                                    low=0, high=1, low_open=True, high_open=True)
    averaging: bool = option(True, "Polyak (EMA) averaging of the weights for the test model")
    ema_decay: float = option(0.99, "the averaging's decay once warmed up", label="averaging decay",
                              low=0, high=1, high_open=True)
    augment: bool = option(False, "random-sized crops, 8%-100% of the area (section 6)")
    crop_min_area: float = option(0.08, "smallest crop as a fraction of the area (paper: 0.08)",
                                  label="smallest crop area", low=0, high=1, low_open=True)
    flip: bool = option(False, "random left-right flips (never for digits: a mirrored 2 is no 2)")
    seed: int = option(0, "random seed; the same seed repeats a CPU run exactly")
    device: str = option("auto", "auto: CUDA, else MPS, else CPU", choices=DEVICES)
    bf16: bool = option(True, "bf16 autocast (CUDA only)")
    channels_last: bool = option(True, "NHWC memory layout for the convs (CUDA only)")
    compile: bool = option(False, "torch.compile the model used by the step")
    threads: int | None = option(None, "CPU threads for torch (default: leave torch's setting)", low=1)
    log_every: int = option(1, "steps between progress events (CUDA syncs only then)", label="log_every", low=1)
    eval_batch: int = option(500, "images per batch when evaluating", label="eval batch", low=1)
    train_subset: int | None = option(None, "train on the first N training images only (tests, demos)",
                                      label="train_subset", low=1)
    save: str | None = option(None, "checkpoint file, written after every epoch and at the end")
    resume: str | None = option(None, "checkpoint to continue from (same model settings)")

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, d: dict) -> "TrainConfig":
        names = {f.name for f in dataclasses.fields(cls)}
        return cls(**{k: v for k, v in d.items() if k in names})

    def label(self) -> str:
        """A short legend entry: what distinguishes runs in the comparison overlay."""
        parts = [self.dataset, f"w{self.width:g}", "BN" if self.bn else "no BN", "aux" if self.aux else "no aux",
                 f"lr {self.lr:g}", self.schedule]
        if self.augment:
            parts.append("crops")
        if not self.averaging:
            parts.append("no avg")
        return ", ".join(parts)


def lesson_default(dataset: str = "digits") -> TrainConfig:
    """The lesson's defaults for a data set (digits: the CPU default measured in benchmarks/)."""
    if dataset == "cifar10":
        return TrainConfig(dataset="cifar10", image_size=32, width=1.0, epochs=30, batch_size=256, lr=0.2,
                           augment=True, crop_min_area=0.25, flip=True, dropout=0.4, log_every=20)
    return TrainConfig(dataset=dataset)


# Settings that change the model's shape: a checkpoint only resumes into the same ones.
SHAPE_FIELDS = ("dataset", "image_size", "small_input", "width", "bn", "aux")


# --------------------------------------------------------------------------- validation


def spec_of(f: dataclasses.Field) -> Spec:
    return f.metadata["spec"]


def label_of(f: dataclasses.Field) -> str:
    return spec_of(f).label or f.name.replace("_", " ")


def kind_of(f: dataclasses.Field) -> tuple[str, bool]:
    """("int" | "float" | "bool" | "str", whether None is allowed), from the field's annotation."""
    text = f.type if isinstance(f.type, str) else getattr(f.type, "__name__", str(f.type))
    return text.split("|")[0].strip(), "None" in text


def field_error(f: dataclasses.Field, value: Any) -> str | None:
    """The one-line message for `value` in field `f`, or None if it is allowed."""
    spec, label = spec_of(f), label_of(f)
    kind, optional = kind_of(f)
    if value is None:
        return None if optional else f"{label} must be set"
    if spec.choices is not None:
        return None if value in spec.choices else \
            f"unknown {label} {value!r}: choose one of {', '.join(map(str, spec.choices))}"
    if kind in ("int", "float"):
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            return f"{label} must be a number, got {value!r}"
        if not math.isfinite(value):
            return f"{label} must be a finite number, got {value}"
        if kind == "int" and value != int(value):
            return f"{label} must be a whole number, got {value}"
        if not spec.contains(value):
            return f"{label} {spec.rule(kind == 'int')}, got {value}"
    elif kind == "bool" and not isinstance(value, bool):
        return f"{label} must be true or false, got {value!r}"
    return spec.check(value) if spec.check is not None else None


def validate(config: TrainConfig) -> None:
    """Raise ConfigError with one clear line for a setting that cannot work."""
    for f in dataclasses.fields(TrainConfig):
        msg = field_error(f, getattr(config, f.name))
        if msg:
            raise ConfigError(msg)
