"""What lesson 2's pages say about the numbers they show: verdicts, notes and smoothing.

Each function takes measured numbers (from widgets.batchnorm or a widgets.bn_training run) and
returns the sentence the page prints, so that no sentence claims what the numbers do not show.
Sentences are plain text; `**bold**` and `*italic*` are the only markup (the views escape the
text, then render those two). No ipywidgets or plotly here (tests/test_layering.py), and no
torch at import: bn_training's constants are imported where a run's result is read.
"""
from __future__ import annotations

import math

import numpy as np

NETWORKS = ("plain", "BN", "BN + noise")   # section g's three runs, in the order they are drawn
NEAR_ONE = 0.99                            # section d counts the batches with |z_norm| past this


def num(v: float | None, digits: int = 4) -> str:
    """A number for the page: fixed digits for ordinary sizes, scientific for tiny or huge ones."""
    if v is None:
        return "—"
    if not math.isfinite(v):
        return "diverged" if math.isnan(v) else str(v)
    if v != 0 and (abs(v) < 1e-3 or abs(v) >= 1e5):
        return f"{v:.3e}"
    return f"{v:.{digits}f}"


# ---------------------------------------------------------------------------------------
# a. the forward pass
# ---------------------------------------------------------------------------------------
def undo_verdict(max_abs_change: float) -> str:
    """Section a: does z~ equal z (Undo BN), or not?"""
    if max_abs_change < 1e-9:
        return ("**z̃ = z exactly** (to rounding): with these γ and β the BN layer is the identity, "
                "so the network can always undo the normalisation if that is what lowers the loss.")
    return "z̃ differs from z: press *Undo BN* to set γ and β to the batch's own σ and μ."


# ---------------------------------------------------------------------------------------
# b. rescaling the weights
# ---------------------------------------------------------------------------------------
def rescaling_message(r: dict, eps: float) -> str:
    """Section b's sentence for one k (r from batchnorm.rescaling). The gap between z_norm at k*w and
    at w is never rounding for k != 1: eps sits under both square roots (issue 11, item 7)."""
    if r["var_k"] < 100 * eps:
        return (f"**ε is visible here:** k²σ²_B = {num(r['var_k'])} is within a factor 100 of ε = {eps:g}, so "
                "√(k²σ²_B+ε) ≠ kσ_B and the outputs shrink: invariance holds only while k²σ²_B ≫ ε.")
    if r["k"] == 1.0:
        return "At k = 1 the weights are unchanged: z_norm, z̃ and the gradient are the same."
    return (f"Invariance holds up to ε: z_norm moves by at most {num(r['max_diff_z_norm'])} "
            f"(closed form {num(r['max_diff_closed_form'])}). That is not rounding: ε sits under the square root "
            f"at w too, and as k grows the gap tends to ε/(2σ²_B)·max|z_norm| = {num(r['gap_limit'])}. "
            "The gradient on w scales as 1/k.")


# ---------------------------------------------------------------------------------------
# c. backprop, three terms
# ---------------------------------------------------------------------------------------
def term_sums(t: dict) -> dict:
    """Sums over the batch of the three terms of dL/dz (t from batchnorm.three_terms), per unit 0.

    term 2 rescales the batch about its mean, so it sums to 0; term 3 is dL/dmu / m for every example,
    so it sums to dL/dmu; term 1 sums to -dL/dmu; so dL/dz sums to 0 (BN ignores a common shift of z)."""
    return dict(norm=float(t["term_norm"][:, 0].sum()), var=float(t["term_var"][:, 0].sum()),
                mean=float(t["term_mean"][:, 0].sum()), total=float(t["dx"][:, 0].sum()))


SUM_LOSS_NOTE = ("With L = Σ z̃ᵢ = m·β the loss does not depend on z at all: term ② is zero and ③ cancels ① "
                 "for every example, so the dL/dz above is zero to rounding.")


# ---------------------------------------------------------------------------------------
# d. batch size and noise
# ---------------------------------------------------------------------------------------
def small_batch_note(m: int, near_one: float, gap: float, bound: float) -> str:
    """Section d's note for m = 2 or 3 ('' for larger m). near_one: the fraction of batches with
    |z_norm| > NEAR_ONE; gap: the distance below which two values give |z_norm| < NEAR_ONE
    (batchnorm.pair_gap); bound: sqrt(m - 1) (batchnorm.samuelson_bound). Issue 11, item 8: with eps
    the outputs at m = 2 are not exactly +-1."""
    if m == 2:
        return (f"**m = 2:** both outputs are ±|z₁ − z₂|/√((z₁ − z₂)² + 4ε): nearly ±1 unless the two values "
                f"lie within {gap:.3f} of each other, so the layer passes on little more than which of the two is "
                f"larger. Here {near_one:.1%} of the batches gave |z_norm| > {NEAR_ONE:g}. "
                "A very small batch destroys the signal.")
    if m == 3:
        return (f"With m = 3 every output is confined to ±√2 = ±{bound:.3f} (in a batch of m, |z_norm| ≤ √(m − 1)): "
                "still mostly noise.")
    return ""


# ---------------------------------------------------------------------------------------
# f. what BN buys in training
# ---------------------------------------------------------------------------------------
def grad_ratio(grad_norms) -> float:
    """||dL/dW_1|| / ||dL/dW_last|| (1 = no vanishing towards the input); nan without records."""
    g = list(grad_norms)
    return g[0] / g[-1] if g and g[-1] > 0 else float("nan")


def loss_phrase(r) -> str:
    """How one run ended, judged by its final training loss (eval mode, whole training set)."""
    from widgets.bn_training import CHANCE_LOSS, TRAINS_BELOW

    loss = r.final_train_loss
    if r.diverged or not math.isfinite(loss):
        return "diverged"
    if loss > 0.9 * CHANCE_LOSS:
        return f"stayed at chance (final training loss {num(loss, 3)}; ln 10 = {CHANCE_LOSS:.2f})"
    if loss < TRAINS_BELOW:
        return f"trained (final training loss {num(loss, 3)})"
    return f"trained only partly (final training loss {num(loss, 3)})"


def training_sentences(out: dict, activation: str) -> list[str]:
    """Section f's sentences for a plain/BN run (out: name -> RunResult), each read from the run."""
    if not {"plain", "BN"} <= set(out) or any(r.stopped for r in out.values()):
        return ["Stopped before both networks finished: the numbers above are partial."]
    p, b = out["plain"], out["BN"]
    said = [f"Without BN the network {loss_phrase(p)}; with BN it {loss_phrase(b)}."]
    rp, rb = grad_ratio(p.grad_norm_init), grad_ratio(b.grad_norm_init)
    if rp < 0.01:
        said.append(f"At step 0, without BN, ‖dL/dW₁‖ is {1 / rp:,.0f} times smaller than the last hidden layer's: "
                    f"the gradient vanishes towards the input. With BN the ratio is {num(rb, 3)}.")
    else:
        said.append(f"At step 0, ‖dL/dW₁‖ / ‖dL/dW_last‖ is {num(rp, 3)} without BN and {num(rb, 3)} with BN.")
    if all(max(r.saturation_final or [0.0]) < 0.01 for r in out.values()):
        why = (" The gradient vanishes because every sigmoid′ ≤ ¼ shrinks it layer by layer, not because units "
               "sit in the flat tails." if activation == "sigmoid" and rp < 0.01 else "")
        said.append("Almost no unit is saturated here, so the right panel is nearly empty." + why +
                    " Try *tanh* with *init scale* 4 to see saturation.")
    return said


# ---------------------------------------------------------------------------------------
# f. the sweeps
# ---------------------------------------------------------------------------------------
def trained_values(values, trains) -> str:
    """The swept values at which a network trains: 'a … b' when they are consecutive in the sweep,
    else listed one by one (a range must not hide a value that failed)."""
    idx = [i for i, t in enumerate(trains) if t]
    if not idx:
        return "none of those tried"
    if idx == list(range(idx[0], idx[-1] + 1)):
        return f"{values[idx[0]]:g}" if len(idx) == 1 else f"{values[idx[0]]:g} … {values[idx[-1]]:g}"
    return ", ".join(f"{values[i]:g}" for i in idx)


# ---------------------------------------------------------------------------------------
# g. internal covariate shift
# ---------------------------------------------------------------------------------------
def smooth_curve(loss, window: int = 10) -> tuple[list[int], np.ndarray]:
    """Moving average of a loss curve for drawing (mini-batch losses are noisy): (steps, means),
    each mean over the `window` steps ending at its step. Shorter curves are returned as they are."""
    y = np.asarray(loss, dtype=float)
    if len(y) < window:
        return list(range(len(y))), y
    k = np.ones(window) / window
    return list(range(window - 1, len(y))), np.convolve(y, k, mode="valid")


def median(values) -> float:
    return float(np.median(values)) if len(values) else float("nan")


def shift_rows(out: dict) -> list[tuple[str, list[float]]]:
    """Section g's table: per network, drift, jump per record, recent loss and the three probe medians."""
    return [(name, [r.drift, r.jitter, r.recent_loss, median(r.loss_range), median(r.grad_change_rel),
                    median(r.taylor_ratio)]) for name, r in out.items() if r.loss_range]


def _ratio(a: float, b: float) -> float:
    return a / b if b > 0 else float("inf")


def noise_sentence(p, b, n) -> str:
    """How much more the noisy network's layer-5 input jumped than plain BN's (and the plain network's)."""
    rb, rp = _ratio(n.jitter, b.jitter), _ratio(n.jitter, p.jitter)
    if rb < 1.5:
        return (f"At this noise level layer 5's input jumped about as much as with plain BN ({num(rb, 1)}×): "
                "the experiment says nothing about covariate shift. Raise the noise level n.")
    return (f"The injected noise made layer 5's input distribution jump {num(rb, 1)}× more per record than with "
            f"plain BN (and {num(rp, 1) if math.isfinite(rp) else '∞'}× more than without BN).")


def loss_sentence(p, b, n) -> str:
    """Did the noisy network train about as well as BN? (mini-batch loss over the last 10% of steps)"""
    if _ratio(n.jitter, b.jitter) < 1.5:
        return ""
    close = lambda r: r.recent_loss < 2 * b.recent_loss + 0.05   # noqa: E731
    if close(n):
        plain = "" if close(p) else f", plain: {num(p.recent_loss, 3)}"
        return (f"Yet it trained about as well as BN (loss {num(n.recent_loss, 3)} vs {num(b.recent_loss, 3)}{plain}): "
                "a stable input distribution is **not** what made BN work here, contrary to the "
                "internal-covariate-shift story.")
    return (f"Here the noisy network trained worse than BN (loss {num(n.recent_loss, 3)} vs {num(b.recent_loss, 3)}): "
            "try a smaller noise level; with the default settings, n = 1 trains about as well as BN.")


def drift_sentence(p, b, n) -> str:
    """How far layer 5's input distribution moved from step 0, with and without BN, as measured
    (issue 11, item 10: a network that does not learn does not move either)."""
    from widgets.bn_training import CHANCE_LOSS

    head = (f"From step 0, layer 5's input distribution drifted {num(p.drift)} without BN, {num(b.drift)} with BN "
            f"and {num(n.drift)} with BN + noise (the drift column).")
    if b.drift < p.drift:
        return head + " With BN it moved less than without."
    if p.recent_loss > 0.9 * CHANCE_LOSS:
        return (head + " Here the plain network's moved less than BN's because the plain network hardly learns: "
                f"its loss stays at chance ({num(p.recent_loss, 3)}), so its weights, and what layer 5 sees, stay "
                "where they started. A still input distribution is not by itself a sign of good training.")
    return head + " Here BN did not make layer 5's input move less than without BN."


def smoothness_sentence(p, b) -> str:
    """Do the smoothness probes favour BN (both the spread of L and the gradient change smaller)?"""
    lr_b, lr_p = median(b.loss_range), median(p.loss_range)
    gc_b, gc_p = median(b.grad_change_rel), median(p.grad_change_rel)
    if lr_b < lr_p and gc_b < gc_p:
        return ("Along the gradient the BN network's loss varied less and its gradient changed less than the plain "
                "network's, as Santurkar et al. report.")
    return (f"The smoothness probes do **not** both favour BN in this small MLP (spread of L {num(lr_b, 3)} with BN vs "
            f"{num(lr_p, 3)} without; relative gradient change {num(gc_b, 2)} vs {num(gc_p, 2)}): measured in raw "
            "weight space, they do not reproduce the paper's VGG result.")


def shift_verdict(out: dict) -> list[str]:
    """Section g's sentences, each drawn from the run's measured numbers (nothing the run did not show)."""
    if not all(k in out for k in NETWORKS) or any(r.stopped or not r.loss_range for r in out.values()):
        return ["*Stopped before all three networks ran: no verdict.*"]
    p, b, n = (out[k] for k in NETWORKS)
    said = [noise_sentence(p, b, n), loss_sentence(p, b, n), drift_sentence(p, b, n), smoothness_sentence(p, b)]
    return [s for s in said if s]
