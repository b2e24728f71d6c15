"""What lesson 2's pages say about the numbers they show: verdicts, notes and smoothing.

Each function takes measured numbers (from widgets.batchnorm or a widgets.bn_training run) and
decides which sentence the page prints and which numbers it quotes, so that no sentence claims
what the numbers do not show. A sentence is a `Said`: (kind, fields). The kind is the sentence's
key in the lesson's catalogue (widgets/views/locales/<lang>/batch_norm.json, under the section's
name: kind "undo_identity" of section a is `forward.undo_identity`); the fields are the numbers
it quotes, or nested Saids (a phrase inside the sentence). The words, in every language, are the
catalogue's; the views format a Said with `widgets.views.batch_norm.common.say`. Sentences use
`**bold**` and `*italic*` as their only markup (the views escape the text, then render those two).

A `Num` field is printed as `num` prints it (`{x}`, or `{x:3}` for num(x, 3)); other numbers by
their format spec in the catalogue. No ipywidgets or plotly here (tests/test_layering.py), and no
torch at import: bn_training's constants are imported where a run's result is read.
"""
from __future__ import annotations

import math

import numpy as np

NETWORKS = ("plain", "BN", "BN + noise")   # section g's three runs, in the order they are drawn
NEAR_ONE = 0.99                            # section d counts the batches with |z_norm| past this

Said = tuple   # (kind: str, fields: dict): one sentence, as a catalogue key and the numbers it quotes


def num(v: float | None, digits: int = 4) -> str:
    """A number for the page: fixed digits for ordinary sizes, scientific for tiny or huge ones."""
    if v is None:
        return "—"
    if not math.isfinite(v):
        return "diverged" if math.isnan(v) else str(v)
    if v != 0 and (abs(v) < 1e-3 or abs(v) >= 1e5):
        return f"{v:.3e}"
    return f"{v:.{digits}f}"


class Num(float):
    """A measured number a sentence prints as `num` does: `{x}` is num(x), `{x:3}` is num(x, 3);
    any other format spec is float's. (The views print a NaN as the word for it in their language.)"""

    def __format__(self, spec: str) -> str:
        if not spec:
            return num(float(self))
        if spec.isdigit():
            return num(float(self), int(spec))
        return format(float(self), spec)


# ---------------------------------------------------------------------------------------
# a. the forward pass
# ---------------------------------------------------------------------------------------
def undo_verdict(max_abs_change: float) -> Said:
    """Section a: does z~ equal z (Undo BN), or not?"""
    return ("undo_identity", {}) if max_abs_change < 1e-9 else ("undo_differs", {})


# ---------------------------------------------------------------------------------------
# b. rescaling the weights
# ---------------------------------------------------------------------------------------
def rescaling_message(r: dict, eps: float) -> Said:
    """Section b's sentence for one k (r from batchnorm.rescaling). The gap between z_norm at k*w and
    at w is never rounding for k != 1: eps sits under both square roots (issue 11, item 7)."""
    if r["var_k"] < 100 * eps:
        return "eps_visible", dict(var_k=Num(r["var_k"]), eps=eps)
    if r["k"] == 1.0:
        return "k_is_one", {}
    return "up_to_eps", dict(max_diff=Num(r["max_diff_z_norm"]), closed_form=Num(r["max_diff_closed_form"]),
                             gap_limit=Num(r["gap_limit"]))


# ---------------------------------------------------------------------------------------
# c. backprop, three terms
# ---------------------------------------------------------------------------------------
def term_sums(t: dict) -> dict:
    """Sums over the batch of the three terms of dL/dz (t from batchnorm.three_terms), per unit 0.

    term 2 rescales the batch about its mean, so it sums to 0; term 3 is dL/dmu / m for every example,
    so it sums to dL/dmu; term 1 sums to -dL/dmu; so dL/dz sums to 0 (BN ignores a common shift of z)."""
    return dict(norm=float(t["term_norm"][:, 0].sum()), var=float(t["term_var"][:, 0].sum()),
                mean=float(t["term_mean"][:, 0].sum()), total=float(t["dx"][:, 0].sum()))


# With L = sum of z~ = m beta the loss does not depend on z: term 2 is zero and 3 cancels 1 for every example.
SUM_LOSS_NOTE: Said = ("sum_loss_note", {})


# ---------------------------------------------------------------------------------------
# d. batch size and noise
# ---------------------------------------------------------------------------------------
def small_batch_note(m: int, near_one: float, gap: float, bound: float) -> Said | None:
    """Section d's note for m = 2 or 3 (None for larger m). near_one: the fraction of batches with
    |z_norm| > NEAR_ONE; gap: the distance below which two values give |z_norm| < NEAR_ONE
    (batchnorm.pair_gap); bound: sqrt(m - 1) (batchnorm.samuelson_bound). Issue 11, item 8: with eps
    the outputs at m = 2 are not exactly +-1."""
    if m == 2:
        return "m2_note", dict(gap=gap, near_one=near_one, threshold=NEAR_ONE)
    if m == 3:
        return "m3_note", dict(bound=bound)
    return None


# ---------------------------------------------------------------------------------------
# f. what BN buys in training
# ---------------------------------------------------------------------------------------
def grad_ratio(grad_norms) -> float:
    """||dL/dW_1|| / ||dL/dW_last|| (1 = no vanishing towards the input); nan without records."""
    g = list(grad_norms)
    return g[0] / g[-1] if g and g[-1] > 0 else float("nan")


def loss_phrase(r) -> Said:
    """How one run ended, judged by its final training loss (eval mode, whole training set)."""
    from widgets.bn_training import CHANCE_LOSS, TRAINS_BELOW

    loss = r.final_train_loss
    if r.diverged or not math.isfinite(loss):
        return "loss_diverged", {}
    if loss > 0.9 * CHANCE_LOSS:
        return "loss_chance", dict(loss=Num(loss), chance=CHANCE_LOSS)
    if loss < TRAINS_BELOW:
        return "loss_trained", dict(loss=Num(loss))
    return "loss_partly", dict(loss=Num(loss))


def training_sentences(out: dict, activation: str) -> list[Said]:
    """Section f's sentences for a plain/BN run (out: name -> RunResult), each read from the run."""
    if not {"plain", "BN"} <= set(out) or any(r.stopped for r in out.values()):
        return [("stopped_partial", {})]
    p, b = out["plain"], out["BN"]
    said = [("outcome", dict(plain=loss_phrase(p), bn=loss_phrase(b)))]
    rp, rb = grad_ratio(p.grad_norm_init), grad_ratio(b.grad_norm_init)
    if rp == 0:                                # every layer-1 gradient underflowed to 0: no finite ratio to quote
        said.append(("vanished", dict(bn_ratio=Num(rb))))
    elif rp < 0.01:
        said.append(("vanishing", dict(times=1 / rp, bn_ratio=Num(rb))))
    else:
        said.append(("grad_ratios", dict(plain_ratio=Num(rp), bn_ratio=Num(rb))))
    if all(max(r.saturation_final or [0.0]) < 0.01 for r in out.values()):
        sigmoid_reason = activation == "sigmoid" and rp < 0.01
        said.append(("unsaturated_sigmoid" if sigmoid_reason else "unsaturated", {}))
    return said


# ---------------------------------------------------------------------------------------
# f. the sweeps
# ---------------------------------------------------------------------------------------
def trained_values(values, trains) -> Said:
    """The swept values at which a network trains: a range 'a … b' when they are consecutive in the
    sweep, else listed one by one (a range must not hide a value that failed)."""
    idx = [i for i, t in enumerate(trains) if t]
    if not idx:
        return "trained_none", {}
    if len(idx) == 1:
        return "trained_one", dict(value=values[idx[0]])
    if idx == list(range(idx[0], idx[-1] + 1)):
        return "trained_range", dict(low=values[idx[0]], high=values[idx[-1]])
    return "trained_list", dict(values=", ".join(f"{values[i]:g}" for i in idx))


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


def noise_sentence(p, b, n) -> Said:
    """How much more the noisy network's layer-5 input jumped than plain BN's (and the plain network's)."""
    rb, rp = _ratio(n.jitter, b.jitter), _ratio(n.jitter, p.jitter)
    if rb < 1.5:
        return "noise_no_extra_jump", dict(vs_bn=Num(rb))
    return "noise_jumps", dict(vs_bn=Num(rb), vs_plain=Num(rp) if math.isfinite(rp) else "∞")


def loss_sentence(p, b, n) -> Said | None:
    """Did the noisy network train about as well as BN? (mini-batch loss over the last 10% of steps)"""
    if _ratio(n.jitter, b.jitter) < 1.5:
        return None
    close = lambda r: r.recent_loss < 2 * b.recent_loss + 0.05   # noqa: E731
    losses = dict(noisy=Num(n.recent_loss), bn=Num(b.recent_loss))
    if close(n):
        if close(p):
            return "noisy_trains", losses
        return "noisy_trains_plain_not", dict(losses, plain=Num(p.recent_loss))
    return "noisy_worse", losses


def drift_sentence(p, b, n) -> Said:
    """How far layer 5's input distribution moved from step 0, with and without BN, as measured
    (issue 11, item 10: a network that does not learn does not move either)."""
    from widgets.bn_training import CHANCE_LOSS

    head = ("drift_head", dict(plain=Num(p.drift), bn=Num(b.drift), noisy=Num(n.drift)))
    if b.drift < p.drift:
        return "drift_bn_less", dict(head=head)
    if p.recent_loss > 0.9 * CHANCE_LOSS:
        return "drift_plain_still", dict(head=head, plain_loss=Num(p.recent_loss))
    return "drift_bn_not_less", dict(head=head)


def smoothness_sentence(p, b) -> Said:
    """Do the smoothness probes favour BN (both the spread of L and the gradient change smaller)?"""
    lr_b, lr_p = median(b.loss_range), median(p.loss_range)
    gc_b, gc_p = median(b.grad_change_rel), median(p.grad_change_rel)
    if lr_b < lr_p and gc_b < gc_p:
        return "smoother_with_bn", {}
    return "not_smoother", dict(spread_bn=Num(lr_b), spread_plain=Num(lr_p), change_bn=Num(gc_b),
                                change_plain=Num(gc_p))


def shift_verdict(out: dict) -> list[Said]:
    """Section g's sentences, each drawn from the run's measured numbers (nothing the run did not show)."""
    if not all(k in out for k in NETWORKS) or any(r.stopped or not r.loss_range for r in out.values()):
        return [("stopped_no_verdict", {})]
    p, b, n = (out[k] for k in NETWORKS)
    said = [noise_sentence(p, b, n), loss_sentence(p, b, n), drift_sentence(p, b, n), smoothness_sentence(p, b)]
    return [s for s in said if s is not None]
