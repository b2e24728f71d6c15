"""Costs of the Inception module and of GoogLeNet: Table 1 measured on the model, the paper's numbers beside it.

* `measure_table1` runs the real `widgets.googlenet.GoogLeNet` once and reads, for every row of Table 1,
  the output size (forward hooks), the weights (the modules' own tensors) and the multiply-adds
  (torch.utils.flop_counter.FlopCounterMode, per module). No formula for a row is written here.
* `PAPER_TABLE1` is the paper's Table 1 transcribed as data; `compare_table1` puts the two side by side
  and flags where the printed numbers disagree with the table's own column specifications.
* `naive_module_costs`, `reduced_module_costs`, `stack_costs`: closed forms for any sizes the learner types
  (the explorer), checked in the tests against FlopCounterMode on real `Inception`/`NaiveInception` modules.
* `branch_shares`: each module's share of 3x3 and 5x5 outputs and work, measured on the model.
* `test_time_crops`, `PAPER_TABLE3`, `table3_costs`: the 144 crops and what each line of Table 3 costs
  (in widgets/inception_testtime.py, re-exported here).

Units: Table 1 prints parameters in K = 1024 (inception 3a: 163,328 weights = 159.5 x 1024, printed
"159K") and operations in M = 10^6 (163,328 x 28 x 28 = 128.0M, printed "128M"); `PAPER_K` and `PAPER_M`.
"Weights" are convolution-kernel and linear-matrix entries, as Table 1 counts them; biases are reported
apart. One multiply-add = 2 FLOPs in torch's counter.
"""
from __future__ import annotations

import functools
import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from widgets.flops import count_flops_by_module

if TYPE_CHECKING:  # torch and the model are imported where a measurement runs; pages read the stored one
    import torch
    from torch import nn

    from widgets.googlenet import GoogLeNet

# The paper's Table 1 and its units (torch-free, for the landing page), re-exported here.
from widgets.inception_paper import (ALEXNET_PARAMS, COLUMN_NAMES, PAPER_FEWER_THAN_ALEXNET, PAPER_K,  # noqa: F401
                                     PAPER_M, PAPER_TABLE1, PAPER_TOTAL_MACS, PaperRow, _decimals)

INCEPTION_NAMES = tuple(r.modules[0] for r in PAPER_TABLE1 if r.kind == "inception")  # = googlenet.TABLE1_INCEPTION's


# ----------------------------------------------------------------------------------------------
# Measuring the model
# ----------------------------------------------------------------------------------------------
@dataclass
class MeasuredRow:
    """What the model instance says about one row of Table 1."""

    paper: PaperRow
    input_shape: tuple[int, ...] | None   # C, H, W entering the row
    output_shape: tuple[int, ...] | None  # C, H, W leaving it
    depth: int                            # longest chain of convolution/linear layers in the row
    weights: int                          # kernel + matrix entries (Table 1's count)
    biases: int                           # everything else trainable
    macs: int                             # multiply-adds, FlopCounterMode / 2
    branches: dict[str, dict[str, int]] = field(default_factory=dict)  # inception rows: per-branch costs

    @property
    def name(self) -> str:
        return "+".join(self.paper.modules) or "softmax"


@dataclass
class AuxMeasurement:
    name: str
    attached_to: str
    input_shape: tuple[int, ...]
    weights: int
    biases: int
    macs: int
    layers: list[tuple[str, int, int]]  # (layer, weights, macs)


@dataclass
class Table1Measurement:
    image_size: int
    rows: list[MeasuredRow]
    aux: list[AuxMeasurement]
    total_weights: int        # the rows (no auxiliary heads)
    total_params: int         # the rows, biases included
    total_macs: int           # the rows, at inference
    model_weights_with_aux: int


def _macs_by_module(model: nn.Module, x: torch.Tensor) -> dict[str, int]:
    """Multiply-adds of `model(x)` per submodule (FlopCounterMode's FLOPs / 2), keyed by the module's path."""
    return {path: flops // 2 for path, flops in count_flops_by_module(model, x).items() if path}


def _chw(shape: tuple) -> tuple:
    """(C,) after the flatten -> (C, 1, 1), as Table 1 writes it."""
    return tuple(shape) if len(shape) == 3 else (shape[0], 1, 1)


def _depth(module: nn.Module) -> int:
    """Layers with weights on the longest path through `module` (Table 1's "depth")."""
    from torch import nn

    from widgets.googlenet import Inception

    if isinstance(module, Inception):
        return max(_depth(b) for b in (module.branch1x1, module.branch3x3, module.branch5x5, module.branch_pool))
    return sum(1 for m in module.modules() if isinstance(m, (nn.Conv2d, nn.Linear)))


def measure_table1(model: GoogLeNet | None = None, image_size: int = 224) -> Table1Measurement:
    """Run `model` (default: a fresh GoogLeNet()) on one image and measure every row of Table 1.

    The forward pass runs in training mode so that the auxiliary heads are measured too; the rows and the
    totals are those of inference (the heads are reported apart).
    """
    import torch

    from widgets.googlenet import GoogLeNet, count_weights

    if model is None:
        torch.manual_seed(0)
        model = GoogLeNet()
    shapes, macs = _shapes_and_macs(model, image_size)
    rows: list[MeasuredRow] = []
    for paper in PAPER_TABLE1:
        rows.append(_measure_row(model, paper, shapes, macs, rows[-1] if rows else None))
    return Table1Measurement(
        image_size=image_size, rows=rows, aux=_measure_aux(model, shapes, macs),
        total_weights=sum(r.weights for r in rows),
        total_params=sum(r.weights + r.biases for r in rows),
        total_macs=sum(r.macs for r in rows),
        model_weights_with_aux=count_weights(model),
    )


def _shapes_and_macs(model: GoogLeNet, image_size: int) -> tuple[dict[str, tuple], dict[str, int]]:
    """One forward pass: each Table 1 module's (input, output) shape by hook, and multiply-adds per module."""
    import torch
    from torch import nn

    was_training = model.training
    device = next(model.parameters()).device
    in_channels = model.conv1.conv.in_channels
    shapes: dict[str, tuple] = {}
    hooks = []
    for name in [n for row in PAPER_TABLE1 for n in row.modules] + ["aux1", "aux2"]:
        module = getattr(model, name, None)
        if module is None:
            continue

        def hook(mod, args, out, name=name):
            shapes[name] = (tuple(args[0].shape[1:]), tuple(out.shape[1:]))

        hooks.append(module.register_forward_hook(hook))
    try:
        model.train(model.aux1 is not None)
        for m in model.modules():  # measuring must not move a trained model's BatchNorm statistics
            if isinstance(m, nn.modules.batchnorm._BatchNorm):
                m.eval()
        macs = _macs_by_module(model, torch.zeros(1, in_channels, image_size, image_size, device=device))
    finally:
        for h in hooks:
            h.remove()
        model.train(was_training)
    return shapes, macs


def _measure_row(model: GoogLeNet, paper: PaperRow, shapes: dict, macs: dict,
                 previous: MeasuredRow | None) -> MeasuredRow:
    """One row of Table 1, measured on its modules (an Inception row also by branch)."""
    from widgets.googlenet import count_parameters, count_weights

    mods = [getattr(model, n) for n in paper.modules]
    if paper.modules:
        in_shape = _chw(shapes[paper.modules[0]][0])
        out_shape = _chw(shapes[paper.modules[-1]][1])
    else:  # softmax: no module (it lives in the loss); the size of the linear layer's output
        in_shape = out_shape = previous.output_shape
    weights = sum(count_weights(m) for m in mods)
    params = sum(count_parameters(m) for m in mods)
    row = MeasuredRow(
        paper=paper, input_shape=in_shape, output_shape=out_shape,
        depth=sum(_depth(m) for m in mods), weights=weights, biases=params - weights,
        macs=sum(macs.get(n, 0) for n in paper.modules),
    )
    if paper.kind == "inception":
        for branch in ("branch1x1", "branch3x3", "branch5x5", "branch_pool"):
            row.branches[branch] = _measure_branch(getattr(mods[0], branch), f"{paper.modules[0]}.{branch}", macs)
    return row


def _measure_branch(b: nn.Module, path: str, macs: dict) -> dict:
    """A branch's output channels, weights and multiply-adds, and those of its 1x1 reduction (if any)."""
    from torch import nn

    from widgets.googlenet import count_weights

    convs = [m for m in b.modules() if isinstance(m, nn.Conv2d)]
    return dict(
        out_channels=convs[-1].out_channels,
        weights=count_weights(b),
        macs=macs.get(path, 0),
        reduce_weights=count_weights(convs[0]) if len(convs) == 2 else 0,
        reduce_macs=macs.get(f"{path}.reduce", 0),
    )


def _measure_aux(model: GoogLeNet, shapes: dict, macs: dict) -> list[AuxMeasurement]:
    """Section 5's auxiliary heads (on top of 4a and 4d), by layer."""
    from widgets.googlenet import count_parameters, count_weights

    aux = []
    for name, attached in (("aux1", "inception4a"), ("aux2", "inception4d")):
        head = getattr(model, name, None)
        if head is None:
            continue
        layers = [(layer, count_weights(getattr(head, layer)), macs.get(f"{name}.{layer}", 0))
                  for layer in ("conv", "fc1", "fc2")]
        aux.append(AuxMeasurement(name, attached, shapes[name][0], count_weights(head),
                                  count_parameters(head) - count_weights(head), macs.get(name, 0), layers))
    return aux


@functools.lru_cache(maxsize=4)
def default_table1(image_size: int = 224) -> Table1Measurement:
    """measure_table1 on the default GoogLeNet, once per process (pages call this).

    At the pages' 224 it is read from the record widgets/inception_record.py keeps (written from this
    measurement by `python -m widgets.inception_record`): lesson 4 then starts without torch (~3 s and
    ~250 MB of a kernel). tests/test_startup.py measures the model again and fails if the record differs
    in any number. Other sizes are measured on torch's 'meta' device (shapes, no arithmetic: the same counts)."""
    from widgets import inception_record as R

    if image_size == 224 and R.TABLE1_RECORD.is_file():
        return R.read()
    return R.measure_on_meta(image_size)


# ----------------------------------------------------------------------------------------------
# The paper against the model
# ----------------------------------------------------------------------------------------------
MATCH, SMALL, DISAGREE = "matches", "small difference", "disagrees"


def classify(measured: float, printed: float, decimals: int) -> tuple[str, float]:
    """Does `measured` (in the printed unit) round to `printed`? Otherwise how far off, relatively.

    Returns (verdict, relative difference of printed from measured). Within rounding: MATCH;
    otherwise under 3%: SMALL; else DISAGREE.
    """
    rel = (printed - measured) / measured if measured else math.inf
    if abs(measured - printed) <= 0.5 * 10 ** (-decimals) + 1e-9:
        return MATCH, rel
    return (SMALL if abs(rel) < 0.03 else DISAGREE), rel


@dataclass
class Comparison:
    row: MeasuredRow
    params_k: float          # measured weights in the paper's K
    ops_m: float             # measured multiply-adds in the paper's M
    params_verdict: str | None
    params_rel: float | None
    ops_verdict: str | None
    ops_rel: float | None
    output_ok: bool
    depth_ok: bool
    note: str                # the arithmetic, when something is off


def compare_table1(measured: Table1Measurement) -> list[Comparison]:
    """Each row's measured values in the paper's units, a verdict per printed number, and a note."""
    out = []
    for r in measured.rows:
        p = r.paper
        pk, om = r.weights / PAPER_K, r.macs / PAPER_M
        pv = prel = ov = orel = None
        if p.params_k is not None:
            pv, prel = classify(pk, p.params_k, p.params_digits)
        if p.ops_m is not None:
            ov, orel = classify(om, p.ops_m, p.ops_digits)
        out_ok = r.output_shape is not None and tuple(r.output_shape) == (p.output[2], p.output[0], p.output[1])
        out.append(Comparison(r, pk, om, pv, prel, ov, orel, out_ok, r.depth == p.depth,
                              _note(r, pk, om, pv, ov)))
    return out


def _note(r: MeasuredRow, pk: float, om: float, pv: str | None, ov: str | None) -> str:
    p = r.paper
    if pv in (None, MATCH) and ov in (None, MATCH):
        return ""
    hw = r.output_shape[1] * r.output_shape[2]
    parts = []
    if pv not in (None, MATCH):
        parts.append(f"columns give {r.weights:,} weights = {pk:,.1f}K, printed {p.params_k:g}K "
                     f"({(p.params_k - pk) / pk:+.1%})")
    if ov not in (None, MATCH):
        parts.append(f"{r.weights:,} x {r.output_shape[1]}x{r.output_shape[2]} = {om:,.1f}M multiply-adds, "
                     f"printed {p.ops_m:g}M ({(p.ops_m - om) / om:+.1%})")
    if p.params_k is not None and p.ops_m is not None and pv != MATCH:
        implied = p.params_k * PAPER_K * hw / PAPER_M
        if ov != MATCH and abs(implied - p.ops_m) < 0.03 * p.ops_m:
            parts.append(f"the two printed numbers agree with each other ({p.params_k:g}K x {hw:,} positions = "
                         f"{implied:,.1f}M) but not with the columns")
        elif ov == MATCH:
            parts.append("the printed ops agree with the columns, so only the params cell is off")
    return "; ".join(parts)


def discrepancies(measured: Table1Measurement, at_least: str = SMALL) -> list[Comparison]:
    """Rows where a printed number does not round to the model's; `at_least=DISAGREE` for the big ones."""
    levels = {SMALL: (SMALL, DISAGREE), DISAGREE: (DISAGREE,)}[at_least]
    return [c for c in compare_table1(measured) if c.params_verdict in levels or c.ops_verdict in levels]


@dataclass
class Totals:
    weights: int
    params: int
    macs: int
    paper_params_sum: float       # sum of the printed params column, in weights (x 1024)
    paper_ops_sum: float          # sum of the printed ops column, in multiply-adds
    alexnet_ratio: float          # AlexNet's 60M / our weights
    weights_for_12x: float        # what "12 times fewer" would need
    aux_weights: int
    aux_macs: int


def totals(measured: Table1Measurement) -> Totals:
    rows = measured.rows
    return Totals(
        weights=measured.total_weights, params=measured.total_params, macs=measured.total_macs,
        paper_params_sum=sum(r.paper.params_k or 0 for r in rows) * PAPER_K,
        paper_ops_sum=sum(r.paper.ops_m or 0 for r in rows) * PAPER_M,
        alexnet_ratio=ALEXNET_PARAMS / measured.total_weights,
        weights_for_12x=ALEXNET_PARAMS / PAPER_FEWER_THAN_ALEXNET,
        aux_weights=sum(a.weights for a in measured.aux), aux_macs=sum(a.macs for a in measured.aux),
    )


# The explorer's closed forms (naive and reduced modules, stacks) live in widgets/inception_module.py;
# their names are kept here too.
from widgets.inception_module import (  # noqa: E402,F401
    BranchCost, module_summary, naive_module_costs, reduced_module_costs, stack_costs,
)


def explorer_defaults(measured: Table1Measurement, name: str) -> dict[str, int]:
    """A Table 1 row as the explorer's fields: its input channels and side (measured) and its columns."""
    row = next(r for r in measured.rows if r.paper.modules == (name,))
    c, h, _w = row.input_shape
    ch = dict(zip(("ch1x1", "ch3x3red", "ch3x3", "ch5x5red", "ch5x5", "pool_proj"), row.paper.columns))
    return dict(in_channels=c, side=h, **ch)


# ----------------------------------------------------------------------------------------------
# Section 4's claim: more 3x3 and 5x5 in higher layers
# ----------------------------------------------------------------------------------------------
def branch_shares(measured: Table1Measurement) -> dict[str, list]:
    """Per inception module (measured): share of output channels and of multiply-adds in each branch."""
    out = {k: [] for k in ("module", "ch_1x1", "ch_3x3", "ch_5x5", "ch_pool",
                           "macs_1x1", "macs_3x3", "macs_5x5", "macs_pool")}
    for r in measured.rows:
        if r.paper.kind != "inception":
            continue
        b = r.branches
        ch_total = sum(v["out_channels"] for v in b.values())
        mac_total = sum(v["macs"] for v in b.values())
        out["module"].append(r.paper.modules[0])
        for key, branch in (("1x1", "branch1x1"), ("3x3", "branch3x3"), ("5x5", "branch5x5"), ("pool", "branch_pool")):
            out[f"ch_{key}"].append(b[branch]["out_channels"] / ch_total)
            out[f"macs_{key}"].append(b[branch]["macs"] / mac_total)
    return out


def share_trend(shares: dict[str, list]) -> dict[str, float | str]:
    """What the printed columns actually show about 'the ratio of 3x3 and 5x5 should increase'."""
    big = [a + b for a, b in zip(shares["ch_3x3"], shares["ch_5x5"])]
    mods = shares["module"]
    i_max, i_min = max(range(len(big)), key=big.__getitem__), min(range(len(big)), key=big.__getitem__)
    stage4 = [v for m, v in zip(mods, big) if m.startswith("inception4")][:4]
    return dict(first=big[0], last=big[-1], first_module=mods[0], last_module=mods[-1],
                max=big[i_max], max_module=mods[i_max], min=big[i_min], min_module=mods[i_min],
                rises_4a_to_4d=all(b > a for a, b in zip(stage4, stage4[1:])),
                monotonic=all(b >= a for a, b in zip(big, big[1:])))


# Test-time cost (the 144 crops and Table 3) lives in widgets/inception_testtime.py; its names are
# kept here too, where the lessons and tests have always found them.
from widgets.inception_testtime import (  # noqa: E402,F401
    CROP_MIRRORS, CROP_PER_SQUARE, CROP_SCALES, CROP_SQUARES, PAPER_TABLE3, Table3Cost, Table3Row, pareto_lines,
    table3_costs, test_time_crops,
)
