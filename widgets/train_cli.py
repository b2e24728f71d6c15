"""The training engine's command line: `python -m widgets.train --help`.

Every option but --history and --no-progress is a TrainConfig field, and its flag, help, type,
choices and bounds are generated from that field's metadata (widgets.train_config.option), so a
bad value gets the same one-line message here as from `validate`. Unset options take the data
set's lesson default. Under `torchrun --nproc_per_node=N` it trains with DistributedDataParallel.
"""
from __future__ import annotations

import argparse
import dataclasses
import os
import sys
import threading

from widgets import data as D
from widgets.train_config import (ConfigError, TrainConfig, field_error, kind_of, lesson_default, output_path_error,
                                  spec_of, validate)
from widgets.train_io import one_line

PROG = "python -m widgets.train"


class _Parser(argparse.ArgumentParser):
    """argparse that reports a bad option as one line and exit status 2 (no usage dump)."""

    def error(self, message: str):  # noqa: D401
        self.exit(2, f"{self.prog}: error: {message}\n")


def value_parser(f: dataclasses.Field):
    """argparse `type` for a field: text -> value, refused with the field's own message."""
    kind, _ = kind_of(f)

    def parse(text: str):
        value = text
        if kind in ("int", "float"):
            try:
                value = int(text) if kind == "int" else float(text)
            except ValueError:
                raise argparse.ArgumentTypeError(
                    f"{text!r} is not a {'whole number' if kind == 'int' else 'number'}") from None
        msg = field_error(f, value)
        if msg:
            raise argparse.ArgumentTypeError(msg)
        return value

    parse.__name__ = f.name
    return parse


def help_text(f: dataclasses.Field, default) -> str:
    """The field's help, its bounds in words, and its default on digits (% escaped for argparse)."""
    spec = spec_of(f)
    kind, _ = kind_of(f)
    text = spec.help
    if kind in ("int", "float") and (spec.low is not None or spec.high is not None):
        text += f" [{spec.rule(kind == 'int').removeprefix('must be ')}]"
    if default is not None:
        text += f" (default: {({True: 'on', False: 'off'}.get(default, default) if kind == 'bool' else default)})"
    return text.replace("%", "%%")


def add_config_arguments(parser: argparse.ArgumentParser) -> None:
    """One option per TrainConfig field, generated from its metadata; unset options stay None."""
    d = TrainConfig()
    for f in dataclasses.fields(TrainConfig):
        spec, (kind, _) = spec_of(f), kind_of(f)
        flag = "--" + f.name.replace("_", "-")
        kw = dict(default=None, help=help_text(f, getattr(d, f.name)))
        if kind == "bool":
            parser.add_argument(flag, action=argparse.BooleanOptionalAction, **kw)
        elif spec.choices is not None:
            parser.add_argument(flag, choices=spec.choices, **kw)
        else:
            parser.add_argument(flag, type=value_parser(f), **kw)


def make_parser() -> argparse.ArgumentParser:
    p = _Parser(prog=PROG,
                description="Train GoogLeNet (Szegedy et al. 2014) on digits (embedded) or CIFAR-10. "
                            "Unset options take the data set's lesson default (shown: digits'; cifar10 "
                            "has its own, see widgets.train_config.lesson_default). Runs under torchrun "
                            "with DistributedDataParallel (gloo on CPU, NCCL on CUDA).")
    add_config_arguments(p)
    p.add_argument("--history", help="write the run's history as JSON here (replayable in the dashboard)")
    p.add_argument("--no-progress", action="store_true", help="no progress bar (log lines only)")
    return p


def config_from_args(args: argparse.Namespace) -> TrainConfig:
    """The data set's lesson default, with every option that was given."""
    base = lesson_default(args.dataset or "digits")
    overrides = {f.name: getattr(args, f.name) for f in dataclasses.fields(TrainConfig)
                 if getattr(args, f.name, None) is not None}
    return dataclasses.replace(base, **overrides)


class _Printer:
    """The engine's events as log lines on stdout and a tqdm bar on stderr (rank 0 only)."""

    def __init__(self, config: TrainConfig, show: bool, bar: bool):
        self.config, self.show, self.use_bar, self.bar = config, show, show and bar, None

    def __call__(self, ev: dict) -> None:
        kind = ev["event"]
        if kind == "start" and self.show:
            print(f"device: {ev['reason']}" + (f"; {ev['world_size']} processes (DDP)" if ev["world_size"] > 1 else ""))
            print(f"model: GoogLeNet {ev['label']}, {ev['params']:,} parameters; "
                  f"{ev['steps_per_epoch']} steps/epoch", flush=True)
            if self.use_bar:
                from tqdm import tqdm

                self.bar = tqdm(total=ev["total_steps"], initial=ev["start_epoch"] * ev["steps_per_epoch"],
                                unit="step", dynamic_ncols=True, file=sys.stderr)
        elif kind == "step" and self.bar is not None:
            self.bar.update(ev["step"] - self.bar.n)
            self.bar.set_postfix(loss=f"{ev['loss']:.3f}", lr=f"{ev['lr']:.3g}", img_s=f"{ev['images_per_s']:.0f}")
        elif kind == "epoch" and self.show:
            line = (f"epoch {ev['epoch']}/{self.config.epochs}: train loss {ev['train_loss']:.4f}, test loss "
                    f"{ev['test_loss']:.4f}, test top-1 {ev['test_top1']:.4f}, top-5 {ev['test_top5']:.4f}, "
                    f"{ev['images_per_s']:.0f} img/s")
            (self.bar.write if self.bar is not None else print)(line)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
            self.bar = None


def main(argv: list[str] | None = None) -> int:
    """Parse, check every path before the run, train, write the history; any error is one line, exit 2."""
    parser = make_parser()
    args = parser.parse_args(argv)
    try:
        config = config_from_args(args)
        validate(config)
        if args.history and (msg := output_path_error(args.history, "history file")):
            raise ConfigError(msg)
        return _run(config, args)
    except (ConfigError, D.DataUnavailable, D.ChecksumError, D.BadDataFile) as exc:
        parser.error(" ".join(str(exc).split()))  # the engine's and the loaders' own one-line messages
    except MemoryError:
        parser.error("out of memory (MemoryError): lower the image size, the width or the batch size")
    except (ValueError, TypeError, RuntimeError, OSError) as exc:
        parser.error(one_line(exc))
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


def _run(config: TrainConfig, args: argparse.Namespace) -> int:
    from widgets.train import save_history, train

    show = int(os.environ.get("RANK", "0")) == 0
    printer = _Printer(config, show, not args.no_progress)
    try:
        result = train(config, printer, threading.Event())
    finally:
        printer.close()
    if not show:
        return 0 if not result.diverged else 1
    if args.history:
        save_history(result, args.history)
    if result.diverged:
        print(f"error: {result.message}", file=sys.stderr)
        return 1
    f = result.final
    print(f"time: {result.seconds:.1f} s ({f.get('images_per_s', float('nan')):.0f} img/s mean over epochs)")
    print(f"final test accuracy: {f['test_top1']:.4f} (top-5 {f['test_top5']:.4f})")
    return 0
