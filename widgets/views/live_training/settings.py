"""The settings of a run: the controls (registered on the section by name), the TrainConfig they
describe, the line that says what a setting costs before it runs, and the device banner."""
from __future__ import annotations

import dataclasses
import html

import ipywidgets as ipw

from widgets import history as H
from widgets import train as T
from widgets import ui
from widgets.views import alive, palette
from widgets.views.live_training.words import config_label
from widgets.views.section import Section

# (catalogue key of the option's words, value); an option's words are train.<key>
DATASETS = [("opt_digits", "digits"), ("opt_cifar10", "cifar10")]
WIDTHS = [("1/16", 0.0625), ("1/8", 0.125), ("1/4", 0.25), ("1/2", 0.5), ("opt_width_paper", 1.0)]
SIZES = [16, 24, 32]
SCHEDULES = [("opt_onecycle", "onecycle"), ("opt_step", "step")]
# name: (label, whole number?, width of the text box, the page's own limits). The bounds are the engine's
# (TrainConfig's field metadata), narrowed to what a page run can use: a learning rate past 10 only
# diverges and one under 1e-5 does not move in 200 epochs; BatchNorm needs 2 images in a batch; 4,096
# is more than the digits' training set; 200 epochs is hours on a CPU; a seed fits 31 bits.
# The labels are the catalogue's train.<name>.
NUMBERS = {"lr": (False, "70px", (1e-5, 10.0)), "batch": (True, "60px", (2, 4096)),
           "epochs": (True, "50px", (1, 200)), "seed": (True, "60px", (0, 2**31 - 1))}
CHECKBOXES = {"bn": "110px", "aux": "140px", "averaging": "150px", "augment": "170px"}
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
    words = lambda options: [(s.t(k) if k.startswith("opt_") else k, v) for k, v in options]  # noqa: E731
    drop = [("dataset", words(DATASETS), base.dataset, "300px"), ("width", words(WIDTHS), base.width, "170px"),
            ("size", SIZES, base.image_size, "150px"), ("schedule", words(SCHEDULES), base.schedule, "300px")]
    for name, options, value, width in drop:
        s.choice(name, s.t(name), options, value, style=st, layout=ipw.Layout(width=width))
    for name, width in CHECKBOXES.items():
        s.control(name, ipw.Checkbox(value=getattr(base, name), description=s.t(name), indent=False,
                                     layout=ipw.Layout(width=width)))
    for name, (whole, width, _limits) in NUMBERS.items():
        lo, hi = bounds(name)
        s.number(name, s.t(name), getattr(base, CONFIG_NAMES.get(name, name)), min=lo, max=hi, integer=whole,
                 width=width)
    c = s.controls
    wrap = ipw.Layout(flex_flow="row wrap")
    return [ipw.HBox([c[n].widget for n in ("dataset", "width", "size", "schedule")], layout=wrap),
            ipw.HBox([c[n].widget for n in CHECKBOXES], layout=wrap),
            ipw.HBox([c[n].widget for n in NUMBERS], layout=wrap)]


def bounds(name: str) -> tuple[float, float]:
    """The range of number control `name`: the engine's bounds for its TrainConfig field, within the page's limits."""
    lo, hi = NUMBERS[name][2]
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


def summary_html(s: Section, c: T.TrainConfig, d: dict) -> str:
    """What the run will cost (d = T.describe_run(c)), or why it cannot run, in section `s`'s words."""
    t = s.t
    if d["steps_per_epoch"] < 1:
        return ui.message(t("batch_too_large", batch=c.batch_size))
    lr = (t("sum_lr_onecycle", first=d["lr_first"], peak=d["lr_peak"], last=d["lr_last"]) if c.schedule == "onecycle"
          else t("sum_lr_step", lr=c.lr))
    parts = [
        t("sum_run", label=html.escape(config_label(s.lang, c)), seed=c.seed),
        html.escape(T.accel_label(c, "cuda" if s.on_gpu else "cpu")),  # code names: the same in every language
        t("sum_params", params=ui.fmt_int(d["params"])),
        t("sum_flops", mflops=d["forward_flops"] / 1e6, size=c.image_size),
        t("sum_steps", per_epoch=d["steps_per_epoch"], epochs=c.epochs, total=d["total_steps"]),
        t("sum_gflops", gflops=d["train_flops_per_epoch"] / 1e9),
        lr,
    ]
    return "<span class='lesson-summary' style='font-size:0.9em'>" + " &middot; ".join(parts) + "</span>"


def banner_html(s: Section, on_gpu: bool, reason: str, measured: str) -> str:
    """The device and why (`reason`, in the page's language); on the CPU, the reduced model and how long
    its run took when measured (`measured`: a clause in the page's language, or "")."""
    t = s.t
    if on_gpu:
        head, color = t("banner_gpu", reason=html.escape(reason)), palette.var("ok")
        sub = t("banner_gpu_sub")
    else:
        head, color = t("banner_cpu"), palette.var("warn")
        sub = t("banner_cpu_sub", reason=html.escape(reason),
                measured=t("banner_measured", measured=html.escape(measured)) if measured else "")
    return (f"<div class='lesson-device' style='padding:6px 10px;border-left:4px solid {color};background:{palette.var('panel')}'>"
            f"<b style='color:{color}'>{head}</b><br><span style='font-size:0.9em'>{sub}</span></div>")


def replay_controls(s: Section, recordings: list, history_dir) -> tuple[ipw.Dropdown, ipw.Text]:
    """The recorded-run picker (registered as "recording") and the Path field. The path is not a
    registered control on purpose: a link must not carry a file name from the learner's machine."""
    pick = s.choice("recording", s.t("recording"), [p.name for p in recordings],
                    recordings[0].name if recordings else None, layout=ipw.Layout(width="360px"))
    path = ipw.Text(value="", description=s.t("path"), continuous_update=False,
                    placeholder=s.t("path_placeholder", folder=history_dir), layout=ipw.Layout(width="440px"))
    return pick, path


def replay_promise(s: Section) -> str:
    return (f"<span style='font-size:0.85em;color:{palette.var('muted')}'>"
            f"{html.escape(s.t('replay_promise', seconds=H.REPLAY_SECONDS))}</span>")


def run_limits(s: Section) -> str:
    """The server's limits on a run, from its settings (LESSONS_MAX_RUN_S, LESSONS_PAGE_SILENT_S)."""
    text = s.t("run_limits", limit=ui.duration(s.lang, alive.max_run_s()),
               silent=ui.duration(s.lang, alive.silent_limit_s()))
    return f"<span class='lesson-run-limits' style='font-size:0.85em;color:{palette.var('muted')}'>{html.escape(text)}</span>"
