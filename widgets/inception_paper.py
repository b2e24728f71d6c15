"""The paper's Table 1 as printed (Szegedy et al. 2014, "Going deeper with convolutions"), as data.

No torch here: the landing page quotes inception 3a's row without loading the model.
widgets/inception_stats.py re-exports every name and measures the model against these rows.
"""
from __future__ import annotations

from dataclasses import dataclass

PAPER_K = 1024       # Table 1's "K" for parameters
PAPER_M = 1_000_000  # Table 1's "M" for operations
ALEXNET_PARAMS = 60_000_000  # Krizhevsky et al. 2012: "60 million parameters"
PAPER_TOTAL_MACS = 1.5e9     # section 5: "1.5 billion multiply-adds at inference time"
PAPER_FEWER_THAN_ALEXNET = 12  # section 1: "12 times fewer parameters than ... Krizhevsky et al"
AUX_LOSS_WEIGHT = 0.3        # section 5: "the losses of the auxiliary classifiers were weighted by 0.3"


# ----------------------------------------------------------------------------------------------
# The paper's Table 1, as printed
# ----------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class PaperRow:
    """One printed row of Table 1. `params_k` in K = 1024, `ops_m` in M = 10^6 (None: blank)."""

    label: str                          # as printed: "inception (3a)"
    kind: str                           # "convolution", "max pool", "inception", ...
    patch: str                          # "7x7/2", "" for inception rows
    output: tuple[int, int, int]        # H, W, C
    depth: int
    columns: tuple[int | None, ...]     # #1x1, #3x3 reduce, #3x3, #5x5 reduce, #5x5, pool proj
    params_k: float | None
    ops_m: float | None
    modules: tuple[str, ...]            # the model's submodules that make up this row

    @property
    def params_digits(self) -> int:
        """Decimals printed for the parameters (2.7K: 1)."""
        return _decimals(self.params_k)

    @property
    def ops_digits(self) -> int:
        return _decimals(self.ops_m)


def _decimals(x: float | None) -> int:
    if x is None:
        return 0
    s = repr(float(x)).rstrip("0").rstrip(".")
    return len(s.split(".")[1]) if "." in s else 0


_ = None
PAPER_TABLE1: tuple[PaperRow, ...] = (
    PaperRow("convolution", "convolution", "7x7/2", (112, 112, 64), 1, (_, _, _, _, _, _), 2.7, 34, ("conv1",)),
    PaperRow("max pool", "max pool", "3x3/2", (56, 56, 64), 0, (_,) * 6, None, None, ("maxpool1",)),
    PaperRow("convolution", "convolution", "3x3/1", (56, 56, 192), 2, (_, 64, 192, _, _, _), 112, 360,
             ("conv2", "conv3")),
    PaperRow("max pool", "max pool", "3x3/2", (28, 28, 192), 0, (_,) * 6, None, None, ("maxpool2",)),
    PaperRow("inception (3a)", "inception", "", (28, 28, 256), 2, (64, 96, 128, 16, 32, 32), 159, 128,
             ("inception3a",)),
    PaperRow("inception (3b)", "inception", "", (28, 28, 480), 2, (128, 128, 192, 32, 96, 64), 380, 304,
             ("inception3b",)),
    PaperRow("max pool", "max pool", "3x3/2", (14, 14, 480), 0, (_,) * 6, None, None, ("maxpool3",)),
    PaperRow("inception (4a)", "inception", "", (14, 14, 512), 2, (192, 96, 208, 16, 48, 64), 364, 73,
             ("inception4a",)),
    PaperRow("inception (4b)", "inception", "", (14, 14, 512), 2, (160, 112, 224, 24, 64, 64), 437, 88,
             ("inception4b",)),
    PaperRow("inception (4c)", "inception", "", (14, 14, 512), 2, (128, 128, 256, 24, 64, 64), 463, 100,
             ("inception4c",)),
    PaperRow("inception (4d)", "inception", "", (14, 14, 528), 2, (112, 144, 288, 32, 64, 64), 580, 119,
             ("inception4d",)),
    PaperRow("inception (4e)", "inception", "", (14, 14, 832), 2, (256, 160, 320, 32, 128, 128), 840, 170,
             ("inception4e",)),
    PaperRow("max pool", "max pool", "3x3/2", (7, 7, 832), 0, (_,) * 6, None, None, ("maxpool4",)),
    PaperRow("inception (5a)", "inception", "", (7, 7, 832), 2, (256, 160, 320, 32, 128, 128), 1072, 54,
             ("inception5a",)),
    PaperRow("inception (5b)", "inception", "", (7, 7, 1024), 2, (384, 192, 384, 48, 128, 128), 1388, 71,
             ("inception5b",)),
    PaperRow("avg pool", "avg pool", "7x7/1", (1, 1, 1024), 0, (_,) * 6, None, None, ("avgpool",)),
    PaperRow("dropout (40%)", "dropout", "", (1, 1, 1024), 0, (_,) * 6, None, None, ("dropout",)),
    PaperRow("linear", "linear", "", (1, 1, 1000), 1, (_,) * 6, 1000, 1, ("fc",)),
    PaperRow("softmax", "softmax", "", (1, 1, 1000), 0, (_,) * 6, None, None, ()),
)
del _

COLUMN_NAMES = ("#1x1", "#3x3 reduce", "#3x3", "#5x5 reduce", "#5x5", "pool proj")


def printed_module_spec(module: str) -> dict[str, int]:
    """An Inception row as the explorer's fields, read from the printed table alone: its input channels and
    side (the printed output of the row before it) and its six columns. The landing page quotes it without
    the model; tests/test_startup.py checks it against inception_stats.explorer_defaults (the measured model)."""
    i = next(i for i, r in enumerate(PAPER_TABLE1) if r.modules == (module,))
    h, _w, c = PAPER_TABLE1[i - 1].output
    ch = dict(zip(("ch1x1", "ch3x3red", "ch3x3", "ch5x5red", "ch5x5", "pool_proj"), PAPER_TABLE1[i].columns))
    return dict(in_channels=c, side=h, **ch)
