"""The settings of a run: the controls (registered on the section by name), the TrainConfig they
describe, the line that says what a setting costs before it runs, and the device banner."""
from __future__ import annotations

import dataclasses
import html

import ipywidgets as ipw

from widgets import history as H
from widgets import train as T
from widgets import ui
from widgets.views import palette
from widgets.views.section import Section

DATASETS = [("digits (embedded, 8x8)", "digits"), ("CIFAR-10 (binary archive)", "cifar10")]
WIDTHS = [("1/16", 0.0625), ("1/8", 0.125), ("1/4", 0.25), ("1/2", 0.5), ("1 (paper)", 1.0)]
SIZES = [16, 24, 32]
SCHEDULES = [("one-cycle (short runs)", "onecycle"), ("paper: x0.96 / 8 epochs", "step")]
# name: (label, whole number?, width of the text box, the page's own limits). The bounds are the engine's
# (TrainConfig's field metadata), narrowed to what a page run can use: a learning rate past 10 only
# diverges and one under 1e-5 does not move in 200 epochs; BatchNorm needs 2 images in a batch; 4,096
# is more than the digits' training set; 200 epochs is hours on a CPU; a seed fits 31 bits.
NUMBERS = {"lr": ("Learning rate", False, "70px", (1e-5, 10.0)), "batch": ("Batch", True, "60px", (2, 4096)),
           "epochs": ("Epochs", True, "50px", (1, 200)), "seed": ("Seed", True, "60px", (0, 2**31 - 1))}
CHECKBOXES = {"bn": ("BatchNorm", "110px"), "aux": ("aux heads (0.3)", "140px"),
              "averaging": ("Polyak averaging", "150px"), "augment": ("random crops 8-100%", "170px")}
CONFIG_NAMES = {"size": "image_size", "batch": "batch_size"}   # control name -> TrainConfig field


def base_config(on_gpu: bool) -> T.TrainConfig:
    """The page's starting settings: the lesson's CPU default; on a GPU, the paper-width network."""
    base = T.lesson_default("digits")
    if on_gpu:  # a GPU trains the paper-width network in seconds on digits
        base = dataclasses.replace(base, width=1.0, image_size=32, epochs=10)
    return base


def add_controls(s: Section, base: T.TrainConfig) -> list[ipw.Widget]:
    """Register the settings on section `s`; return the rows to show."""
    st = {"description_width": "initial"}
    drop = [("dataset", "Data", DATASETS, base.dataset, "300px"), ("width", "Width", WIDTHS, base.width, "170px"),
            ("size", "Input px", SIZES, base.image_size, "150px"),
            ("schedule", "Schedule", SCHEDULES, base.schedule, "300px")]
    for name, label, options, value, width in drop:
        s.choice(name, label, options, value, style=st, layout=ipw.Layout(width=width))
    for name, (label, width) in CHECKBOXES.items():
        s.control(name, ipw.Checkbox(value=getattr(base, name), description=label, indent=False,
                                     layout=ipw.Layout(width=width)))
    for name, (label, whole, width, _limits) in NUMBERS.items():
        lo, hi = bounds(name)
        s.number(name, label, getattr(base, CONFIG_NAMES.get(name, name)), min=lo, max=hi, integer=whole, width=width)
    c = s.controls
    wrap = ipw.Layout(flex_flow="row wrap")
    return [ipw.HBox([c[n].widget for n in ("dataset", "width", "size", "schedule")], layout=wrap),
            ipw.HBox([c[n].widget for n in CHECKBOXES], layout=wrap),
            ipw.HBox([c[n].widget for n in NUMBERS], layout=wrap)]


def bounds(name: str) -> tuple[float, float]:
    """The range of number control `name`: the engine's bounds for its TrainConfig field, within the page's limits."""
    lo, hi = NUMBERS[name][3]
    spec = next(f for f in dataclasses.fields(T.TrainConfig) if f.name == CONFIG_NAMES.get(name, name)).metadata["spec"]
    lo = lo if spec.low is None else max(lo, spec.low)
    hi = hi if spec.high is None else min(hi, spec.high)
    return lo, hi


def config(s: Section, base: T.TrainConfig, on_gpu: bool) -> T.TrainConfig:
    """The TrainConfig the section's controls describe."""
    v = s.values()
    cifar = v["dataset"] == "cifar10"
    return dataclasses.replace(
        base, dataset=v["dataset"], width=float(v["width"]), image_size=int(v["size"]), schedule=v["schedule"],
        bn=v["bn"], aux=v["aux"], averaging=v["averaging"], augment=v["augment"], lr=float(v["lr"]),
        batch_size=int(v["batch"]), epochs=int(v["epochs"]), seed=int(v["seed"]), flip=cifar and v["augment"],
        crop_min_area=0.08, log_every=1 if not on_gpu else 5)


def summary_html(c: T.TrainConfig, d: dict) -> str:
    """What the run will cost (d = T.describe_run(c)), or why it cannot run."""
    if d["steps_per_epoch"] < 1:
        return ui.message(f"Batch {c.batch_size} is larger than the training set.")
    lr = (f"lr {d['lr_first']:.3g} &rarr; {d['lr_peak']:.3g} &rarr; {d['lr_last']:.2g}" if c.schedule == "onecycle"
          else f"lr {c.lr:.3g}, x0.96 at epochs 8, 16, ...")
    parts = [
        f"GoogLeNet {html.escape(c.label())}, seed {c.seed}",
        f"<b>{ui.fmt_int(d['params'])}</b> parameters",
        f"<b>{d['forward_flops'] / 1e6:,.1f} MFLOPs</b> per {c.image_size}x{c.image_size} image (forward)",
        f"{d['steps_per_epoch']} steps/epoch x {c.epochs} = <b>{d['total_steps']}</b> steps",
        f"{d['train_flops_per_epoch'] / 1e9:,.0f} GFLOPs/epoch",
        lr,
    ]
    return "<span class='lesson-summary' style='font-size:0.9em'>" + " &middot; ".join(parts) + "</span>"


def banner_html(on_gpu: bool, reason: str, measured: str) -> str:
    """The device and why; on the CPU, the reduced model and how long its run took when measured."""
    if on_gpu:
        head, color = f"GPU: {html.escape(reason)}", palette.var("ok")
        sub = "The full-width network (width 1) trains here; bf16 autocast, data and augmentation on the GPU."
    else:
        head, color = "CPU: reduced model", palette.var("warn")
        sub = (f"{html.escape(reason)}. The defaults are a quarter-width GoogLeNet on 16x16 inputs"
               f"{'; ' + html.escape(measured) if measured else ''}. A recorded run can be replayed below.")
    return (f"<div class='lesson-device' style='padding:6px 10px;border-left:4px solid {color};background:{palette.var('panel')}'>"
            f"<b style='color:{color}'>{head}</b><br><span style='font-size:0.9em'>{sub}</span></div>")


def replay_controls(s: Section, recordings: list, history_dir) -> tuple[ipw.Dropdown, ipw.Text]:
    """The recorded-run picker (registered as "recording") and the Path field. The path is not a
    registered control on purpose: a link must not carry a file name from the learner's machine."""
    pick = s.choice("recording", "Recorded run", [p.name for p in recordings],
                    recordings[0].name if recordings else None, layout=ipw.Layout(width="360px"))
    path = ipw.Text(value="", description="Path", continuous_update=False,
                    placeholder=f"or a history JSON in {history_dir}", layout=ipw.Layout(width="440px"))
    return pick, path


def replay_promise() -> str:
    return f"<span style='font-size:0.85em;color:{palette.var('muted')}'>plays back in {H.REPLAY_SECONDS:g} s</span>"
