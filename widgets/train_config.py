"""The training engine's settings, each declared once: `TrainConfig`'s fields carry their help
text and their bounds (dataclass field metadata, see `option`). `validate` and the CLI parser
(widgets.train_cli) are generated from them, so there is one set of ranges and one set of messages.
"""
from __future__ import annotations

import dataclasses
import math
import os
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

    low/high: bounds (None: unbounded; a callable: read when checked, e.g. the machine's cores),
    excluded when low_open/high_open; choices: the allowed values; check(value) -> message or
    None: a test no range can express (a directory exists).
    """

    help: str
    label: str = ""
    low: float | None = None
    high: float | Callable[[], float] | None = None
    low_open: bool = False
    high_open: bool = False
    choices: tuple | None = None
    check: Callable[[Any], str | None] | None = None

    def bounds(self) -> tuple[float | None, float | None]:
        return self.low, (self.high() if callable(self.high) else self.high)

    def rule(self, integer: bool) -> str:
        """The range in words: "must be a positive number", "must be in (0, 4]", ..."""
        (lo, hi), num = self.bounds(), (lambda v: f"{int(v):,}" if integer else f"{v:g}")
        if hi is None:
            if lo == 0 and self.low_open:
                return "must be a positive number"
            return f"must be greater than {num(lo)}" if self.low_open else f"must be at least {num(lo)}"
        if lo is None:
            return f"must be less than {num(hi)}" if self.high_open else f"must be at most {num(hi)}"
        if integer and not (self.low_open or self.high_open):
            return f"must be from {num(lo)} to {num(hi)}"
        return f"must be in {'(' if self.low_open else '['}{num(lo)}, {num(hi)}{')' if self.high_open else ']'}"

    def contains(self, v: float) -> bool:
        lo, hi = self.bounds()
        lo_ok = lo is None or (v > lo if self.low_open else v >= lo)
        hi_ok = hi is None or (v < hi if self.high_open else v <= hi)
        return lo_ok and hi_ok


def option(default: Any, help: str, **spec: Any) -> Any:
    """A TrainConfig field: its default, its help text and its bounds (see `Spec`)."""
    return field(default=default, metadata={"spec": Spec(help, **spec)})


def _existing_dir(path: str) -> str | None:
    return None if Path(path).is_dir() else f"directory {path} does not exist"


def _existing_file(path: str) -> str | None:
    return None if Path(path).is_file() else f"checkpoint {path} does not exist"


def output_path_error(path: str | os.PathLike, what: str) -> str | None:
    """Why `path` cannot be written (its folder is missing, not a folder, not writable; it is a
    folder itself), or None. Checked before a run, so a bad path never costs the run."""
    path = Path(path)
    parent = path.parent
    if path.is_dir():
        return f"{what} {path} is a directory; give a file name"
    if not parent.exists():
        return f"{what} {path}: folder {parent} does not exist"
    if not parent.is_dir():
        return f"{what} {path}: {parent} is not a directory"
    if not os.access(parent, os.W_OK | os.X_OK):
        return f"{what} {path}: folder {parent} is not writable"
    return None


def _cores() -> int:
    return os.cpu_count() or 1


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
    weight_decay: float = option(5e-4, "L2 weight decay", low=0, high=1)
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
    # the augmentation generator is seeded with seed + 1 + rank, which must stay an int64
    seed: int = option(0, "random seed; the same seed repeats a CPU run exactly", low=0, high=2**63 - 2)
    device: str = option("auto", "auto: CUDA, else MPS, else CPU", choices=DEVICES)
    # the accelerator options: unset (None) takes the device's default (`accel_defaults`)
    bf16: bool | None = option(None, "bf16 autocast in the step and evaluation, on any device (default: on for "
                                     "CUDA, off for the CPU and MPS)")
    channels_last: bool | None = option(None, "NHWC memory layout for the model and its inputs, on any device "
                                              "(default: on for CUDA, off for the CPU and MPS)")
    compile: bool | None = option(None, "torch.compile the model the step calls; the first steps pay the compile "
                                        "(default: on for CUDA, off for the CPU and MPS)")
    threads: int | None = option(None, "CPU threads for torch (default: leave torch's setting)", low=1,
                                 high=_cores)
    log_every: int = option(1, "steps between progress events (CUDA syncs only then)", label="log_every", low=1)
    eval_batch: int = option(500, "images per batch when evaluating", label="eval batch", low=1)
    train_subset: int | None = option(None, "train on the first N training images only (tests, demos)",
                                      label="train_subset", low=1)
    save: str | None = option(None, "checkpoint file, written after every epoch and at the end",
                              check=lambda p: output_path_error(p, "checkpoint"))
    resume: str | None = option(None, "checkpoint to continue from (same model settings)", check=_existing_file)

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


ACCEL_FIELDS = ("bf16", "channels_last", "compile")


def accel_defaults(device_type: str) -> dict[str, bool]:
    """The accelerator options' defaults on a device: all on for CUDA (where they pay), off for the
    CPU and MPS (on a CPU bf16 autocast is usually slower and compile costs a minute or more)."""
    return {name: device_type == "cuda" for name in ACCEL_FIELDS}


def resolve_accel(c: TrainConfig, device_type: str) -> TrainConfig:
    """`c` with every unset accelerator option given the device's default: the settings in effect."""
    defaults = accel_defaults(device_type)
    return dataclasses.replace(c, **{k: defaults[k] if getattr(c, k) is None else bool(getattr(c, k))
                                     for k in ACCEL_FIELDS})


def accel_label(c: TrainConfig, device_type: str) -> str:
    """The accelerator settings in effect, in code names: "bf16 autocast, channels_last, torch.compile",
    or "float32, NCHW" when none is."""
    r = resolve_accel(c, device_type)
    parts = ["bf16 autocast" if r.bf16 else "float32", "channels_last" if r.channels_last else "NCHW"]
    return ", ".join(parts + (["torch.compile"] if r.compile else []))


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
    """Raise ConfigError with one clear line for a setting that cannot work: each field against
    its own bounds, then the settings that only fail together (`combination_error`)."""
    for f in dataclasses.fields(TrainConfig):
        msg = field_error(f, getattr(config, f.name))
        if msg:
            raise ConfigError(msg)
    msg = combination_error(config)
    if msg:
        raise ConfigError(msg)


# --------------------------------------------------------------------------- settings that fail together

# The map entering the last max pool (maxpool4, after inception 4e) must be at least this many
# pixels wide: below, that pool and everything after see a single pixel. (Our bound, not the paper's.)
MIN_LAST_POOL_SIDE = 2
# The paper's auxiliary heads pool 5x5/3 and then expect 4x4 (128 x 4 x 4 into the FC layer): only
# inception 4a maps of 14-16 px give that. The small-input stem pools adaptively instead.
AUX_4A_SIDES = (14, 16)


def feature_map_sides(image_size: int, small_input: bool) -> dict[str, int]:
    """Side of the feature map after the stem (maxpool2), at inception 4a and at inception 5b.

    Every stride-2 layer (7x7/2 conv pad 3, 3x3/2 max pools pad 1) maps a side m to ceil(m / 2).
    Paper stem: conv1, maxpool1, maxpool2 (/8); small-input stem: maxpool2 only (/2). Then
    maxpool3 before 4a and maxpool4 before 5a.
    """
    side, sides = image_size, {}
    halvings = {"maxpool2": 1 if small_input else 3, "inception4a": 1, "inception5b": 1}
    for name, n in halvings.items():
        for _ in range(n):
            side = -(-side // 2)
        sides[name] = side
    return sides


def combination_error(c: TrainConfig) -> str | None:
    """The one-line message for settings that are each allowed but do not work together."""
    if c.bn and c.batch_size < 2:
        return (f"BatchNorm needs at least 2 images per batch in training (batch statistics of one "
                f"image are meaningless), got a batch of {c.batch_size}; raise the batch size or turn BN off")
    sides = feature_map_sides(c.image_size, c.small_input)
    stem = "the small-input stem" if c.small_input else "the paper's stem (small_input off)"
    factor = c.image_size / max(1, sides["inception4a"])
    if sides["inception4a"] < MIN_LAST_POOL_SIDE:
        smallest = next(s for s in range(8, 513)
                        if feature_map_sides(s, c.small_input)["inception4a"] >= MIN_LAST_POOL_SIDE)
        return (f"image size {c.image_size} is too small for {stem}: it leaves inception 4 a "
                f"{sides['inception4a']}x{sides['inception4a']} map (about 1/{factor:.0f} of the image); "
                f"use at least {smallest} px or turn small_input on")
    lo, hi = AUX_4A_SIDES
    if c.aux and not c.small_input and not lo <= sides["inception4a"] <= hi:
        fits = [s for s in range(8, 513) if lo <= feature_map_sides(s, False)["inception4a"] <= hi]
        return (f"image size {c.image_size}: with the paper's stem (small_input off) the auxiliary heads' "
                f"5x5/3 pool needs inception 4a's map to be {lo}-{hi} px, i.e. images of {fits[0]}-{fits[-1]} px "
                f"(this one gives {sides['inception4a']} px); turn small_input on or aux off")
    return None
