"""Lesson 4's analysis: what the page *says* about the costs `widgets.inception_stats` measures.

The views only format what these functions return; every decision that changes a sentence on the page
(a ratio, a saving that may be negative, which modules tie for the highest share, where the 3x3 + 5x5
share rises, what a crop scheme costs, what a Table 1 note says) is made here, with unit tests in
tests/test_inception_analysis.py. Nothing here is worded: functions return kinds and numbers, and the
views say them in the page's language (widgets/views/locales/<lang>/inception.json).
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from itertools import accumulate

from widgets import inception_stats as S

BRANCHES = ("branch1x1", "branch3x3", "branch5x5", "branch_pool")
EXPLORER_FIELDS = ("in_channels", "side", "ch1x1", "ch3x3red", "ch3x3", "ch5x5red", "ch5x5", "pool_proj")


# ----------------------------------------------------------------------------------------------
# a. Table 1: how many printed rows agree with the model
# ----------------------------------------------------------------------------------------------
VERDICT_ORDER = (S.MATCH, S.SMALL, S.DISAGREE)


def row_verdict(c: S.Comparison) -> str | None:
    """A row's worse verdict of its two printed numbers (None: the row prints neither)."""
    found = [v for v in (c.params_verdict, c.ops_verdict) if v is not None]
    return max(found, key=VERDICT_ORDER.index) if found else None


def verdict_counts(measured: S.Table1Measurement) -> dict[str, int]:
    """How many rows with printed numbers match (to the printed digit), are within 3%, or are off by more."""
    counts = dict.fromkeys(VERDICT_ORDER, 0)
    for c in S.compare_table1(measured):
        v = row_verdict(c)
        if v is not None:
            counts[v] += 1
    return counts


@dataclass(frozen=True)
class NoteClause:
    """One clause of a Table 1 note: what it says (`kind`) and the numbers it says it with.

    kinds: "params_off" (weights, params_k, printed, rel), "ops_off" (weights, h, w, ops_m, printed, rel),
    "printed_agree" (printed, positions, implied), "only_params_off" (no numbers). The view words them
    through the catalogue (widgets/views/locales/<lang>/inception.json, keys table1.note_<kind>).
    """

    kind: str
    values: dict


@dataclass(frozen=True)
class RowNote:
    comparison: S.Comparison
    clauses: list[NoteClause]
    big: bool                       # a printed number is off by more than 3%


def note_clauses(c: S.Comparison) -> list[NoteClause]:
    """Where a row's printed numbers disagree with its columns, and how (empty: they agree).

    The arithmetic of inception_stats' English `Comparison.note`, as kinds and numbers (the tests check
    that the English words give that note back)."""
    r, p, pv, ov = c.row, c.row.paper, c.params_verdict, c.ops_verdict
    if pv in (None, S.MATCH) and ov in (None, S.MATCH):
        return []
    _c, h, w = r.output_shape
    out = []
    if pv not in (None, S.MATCH):
        out.append(NoteClause("params_off", dict(weights=r.weights, params_k=c.params_k, printed=p.params_k,
                                                 rel=(p.params_k - c.params_k) / c.params_k)))
    if ov not in (None, S.MATCH):
        out.append(NoteClause("ops_off", dict(weights=r.weights, h=h, w=w, ops_m=c.ops_m, printed=p.ops_m,
                                              rel=(p.ops_m - c.ops_m) / c.ops_m)))
    if p.params_k is not None and p.ops_m is not None and pv != S.MATCH:
        implied = p.params_k * S.PAPER_K * h * w / S.PAPER_M
        if ov != S.MATCH and abs(implied - p.ops_m) < 0.03 * p.ops_m:
            out.append(NoteClause("printed_agree", dict(printed=p.params_k, positions=h * w, implied=implied)))
        elif ov == S.MATCH:
            out.append(NoteClause("only_params_off", {}))
    return out


def table1_notes(measured: S.Table1Measurement) -> list[RowNote]:
    """The rows whose printed numbers do not round to the model's, each with its clauses."""
    return [RowNote(c, note_clauses(c), S.DISAGREE in (c.params_verdict, c.ops_verdict))
            for c in S.discrepancies(measured)]


# ----------------------------------------------------------------------------------------------
# b. the module explorer: naive (Figure 2a) against reduced (Figure 2b)
# ----------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class ModuleComparison:
    naive: list[S.BranchCost]
    reduced: list[S.BranchCost]
    naive_total: dict[str, int]     # out_channels, weights, macs
    reduced_total: dict[str, int]
    ratio: float                    # naive multiply-adds / reduced multiply-adds
    saved_3x3: int                  # multiply-adds the 3x3 reduction saves (negative: it costs more)
    saved_5x5: int


def compare_module(in_channels: int, side: int, ch1x1: int, ch3x3red: int, ch3x3: int, ch5x5red: int,
                   ch5x5: int, pool_proj: int) -> ModuleComparison:
    """One module, naive against reduced, for the sizes the learner typed."""
    naive = S.naive_module_costs(in_channels, side, ch1x1, ch3x3, ch5x5)
    reduced = S.reduced_module_costs(in_channels, side, ch1x1, ch3x3red, ch3x3, ch5x5red, ch5x5, pool_proj)
    nt, rt = S.module_summary(naive), S.module_summary(reduced)
    return ModuleComparison(naive, reduced, nt, rt, nt["macs"] / rt["macs"],
                            naive[1].macs - reduced[1].macs, naive[2].macs - reduced[2].macs)


@dataclass(frozen=True)
class Stack:
    stage: list[int]
    naive_out: list[int]            # channels leaving each stage
    reduced_out: list[int]
    naive_cumulative: list[int]     # multiply-adds of stages 1..k
    reduced_cumulative: list[int]

    @property
    def ratio(self) -> float:
        """Naive work over reduced work, all N stages together."""
        return self.naive_cumulative[-1] / self.reduced_cumulative[-1]


def stack(n: int, **spec: int) -> Stack:
    """N modules stacked at one resolution (`S.stack_costs`), with the running totals the page plots."""
    st = S.stack_costs(n, **spec)
    return Stack(st["stage"], st["naive_out"], st["reduced_out"],
                 list(accumulate(st["naive_macs"])), list(accumulate(st["reduced_macs"])))


# ----------------------------------------------------------------------------------------------
# c. the whole network: one stage's bars and its share
# ----------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Bar:
    part: str     # "branch3x3", a layer of an auxiliary head ("conv", "fc1", "fc2"), or the row's name
    light: int    # multiply-adds of the 1x1 reduction (or the pool branch's projection)
    dark: int     # multiply-adds of the part's main convolution or layer


def stage_bars(row: S.MeasuredRow | S.AuxMeasurement) -> list[Bar]:
    """A stage's multiply-adds split into bars: an Inception module by branch, a head by layer."""
    if isinstance(row, S.AuxMeasurement):
        return [Bar(name, 0, macs) for name, _w, macs in row.layers]
    if row.paper.kind != "inception":
        return [Bar(row.name, 0, row.macs)]
    b = row.branches
    bars = [Bar(k, b[k]["reduce_macs"], b[k]["macs"] - b[k]["reduce_macs"]) for k in BRANCHES[:3]]
    return bars + [Bar("branch_pool", b["branch_pool"]["macs"], 0)]  # the pool has no multiply-adds


def network_share(measured: S.Table1Measurement, row: S.MeasuredRow) -> tuple[float, float]:
    """The row's share of the network's multiply-adds and of its weights (inference, no heads)."""
    return row.macs / measured.total_macs, row.weights / measured.total_weights


def aux_overhead(measured: S.Table1Measurement) -> dict[str, float]:
    """What the two training-only heads add: weights (the model's total with them) and compute share."""
    aux_w = sum(a.weights for a in measured.aux)
    aux_m = sum(a.macs for a in measured.aux)
    return dict(weights_each=[a.weights for a in measured.aux], weights_with_heads=measured.total_weights + aux_w,
                weight_factor=(measured.total_weights + aux_w) / measured.total_weights,
                macs_share=aux_m / measured.total_macs)


# ----------------------------------------------------------------------------------------------
# c. section 4's claim: "the ratio of 3x3 and 5x5 convolutions should increase as we move to higher layers"
# ----------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class ShareSummary:
    modules: list[str]
    share: list[float]              # 3x3 + 5x5 share per module
    highest: list[str]              # every module at the highest share (ties included)
    lowest: list[str]
    longest_rise: tuple[str, str]   # the longest run of modules over which the share rises at every step
    monotonic: bool                 # does it never fall from one module to the next?

    @property
    def first(self) -> float:
        return self.share[0]

    @property
    def last(self) -> float:
        return self.share[-1]

    @property
    def high(self) -> float:
        return max(self.share)

    @property
    def low(self) -> float:
        return min(self.share)


def _ties(values: list[float], target: float, names: list[str]) -> list[str]:
    return [n for n, v in zip(names, values) if math.isclose(v, target, rel_tol=1e-12, abs_tol=1e-15)]


def longest_rise(values: list[float]) -> tuple[int, int]:
    """(first, last) index of the longest run that rises strictly at every step (the earliest on a tie)."""
    best, start = (0, 0), 0
    for i in range(1, len(values) + 1):
        if i == len(values) or values[i] <= values[i - 1]:
            if i - 1 - start > best[1] - best[0]:
                best = (start, i - 1)
            start = i
    return best


def share_summary(shares: dict[str, list], what: str = "ch") -> ShareSummary:
    """`what`: "ch" (share of output channels) or "macs" (share of multiply-adds, reductions included)."""
    if what not in ("ch", "macs"):
        raise ValueError(f"what must be 'ch' or 'macs', got {what!r}")
    mods = list(shares["module"])
    big = [a + b for a, b in zip(shares[f"{what}_3x3"], shares[f"{what}_5x5"])]
    lo, hi = longest_rise(big)
    return ShareSummary(mods, big, _ties(big, max(big), mods), _ties(big, min(big), mods), (mods[lo], mods[hi]),
                        all(b >= a for a, b in zip(big, big[1:])))


# ----------------------------------------------------------------------------------------------
# d. test-time cost: a crop scheme, and the steps between Table 3's lines
# ----------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class CropPlan:
    crops: int            # per image
    passes: int           # crops x models
    macs: float           # multiply-adds per image


def crop_plan(scales: int, squares: int, crops_per_square: int, mirrors: int, models: int,
              macs_per_pass: float) -> CropPlan:
    crops = S.test_time_crops(scales, squares, crops_per_square, mirrors)
    if int(models) != models or models < 1:
        raise ValueError(f"models must be a whole number of at least 1, got {models}")
    passes = crops * int(models)
    return CropPlan(crops, passes, passes * macs_per_pass)


@dataclass(frozen=True)
class CostStep:
    models: int
    crops_from: int
    crops_to: int
    cost_factor: float      # forward passes after / before
    error_removed: float    # top-5 error points gained (printed errors, Table 3)


def crop_steps(models: int = 1) -> list[CostStep]:
    """Table 3's lines for `models` model(s), one crop count to the next: what each step costs and buys."""
    lines = sorted((r for r in S.PAPER_TABLE3 if r.models == models), key=lambda r: r.crops)
    return [CostStep(models, a.crops, b.crops, b.cost / a.cost, round(a.top5_error - b.top5_error, 2))
            for a, b in zip(lines, lines[1:])]


def error_span(pad: float = 0.35) -> tuple[float, float]:
    """The range of Table 3's top-5 errors, padded: where the page draws the 'your setting' line."""
    errs = [r.top5_error for r in S.PAPER_TABLE3]
    return min(errs) - pad, max(errs) + pad
