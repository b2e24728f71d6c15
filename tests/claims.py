"""Claims the lessons' prose makes, checked against the values the code computes.

A claim is a number typed in a notebook's markdown (or a builder's message). Each lesson's
`tests/test_claims_<lesson>.py` keeps a small table of them:

    Claim("01_feature_scaling.ipynb", r"tanh\\(2\\) = ([0-9.]+)", lambda: math.tanh(2), tol=5e-5)

`check(claim)` finds the pattern in the notebook's markdown cells, reads the number it
captured, and compares it with `compute()` (absolute tolerance `tol`, or relative `rel`).
A claim whose text is gone from the notebook fails too: the table and the prose move together.
"""
from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"


@dataclass(frozen=True)
class Claim:
    notebook: str                  # file name under notebooks/ (e.g. "zh/01_feature_scaling.ipynb")
    pattern: str                   # a regex with one group capturing the number as the prose writes it
    compute: Callable[[], float]   # the value the page computes at its defaults
    tol: float = 0.0               # absolute tolerance
    rel: float = 0.0               # relative tolerance

    def __str__(self) -> str:
        return f"{self.notebook}: /{self.pattern}/"


def markdown(notebook: str) -> str:
    nb = json.loads((NOTEBOOKS / notebook).read_text())
    return "\n".join("".join(c["source"]) for c in nb["cells"] if c["cell_type"] == "markdown")


def number(text: str) -> float:
    """'12,443,648' -> 12443648.0; '1.5e-5' -> 1.5e-05; '−3' (minus sign) -> -3.0; '98.3%' -> 98.3."""
    s = text.replace(",", "").replace("\u2212", "-").replace("%", "").replace("\u202f", "").strip()
    return float(s)


def check(claim: Claim) -> None:
    found = re.findall(claim.pattern, markdown(claim.notebook))
    assert found, f"{claim}: the prose no longer says this; update the claims table with the prose"
    want = float(claim.compute())
    for raw in found:
        got = number(raw if isinstance(raw, str) else raw[0])
        ok = math.isclose(got, want, abs_tol=claim.tol, rel_tol=claim.rel) if (claim.tol or claim.rel) else got == want
        assert ok, f"{claim}: the prose says {got}, the code computes {want}"
