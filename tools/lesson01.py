"""Source of notebooks/01_feature_scaling.ipynb (run: python tools/lesson01.py)."""
from nbwrite import call, md, write

V = "widgets.views.feature_scaling"
cells = [
    md("""
# Lesson 1 · Feature scaling and tanh saturation

A neuron is only useful while its output still *moves* when its input moves. This lesson shows
what happens when inputs arrive on a large scale: the tanh unit saturates, its slope collapses,
and the gradient that learning relies on all but disappears. Then it shows the second cost of
badly scaled features — gradient descent is forced to crawl — and how standardising the inputs fixes both.

*Every number on this page is computed live from the controls; the tests check each formula against
PyTorch's autograd and `numpy.linalg`.*
"""),
    md("""
## 1. One tanh unit

The unit computes $z = w\\cdot x$ and outputs $a = \\tanh(z)$. Its slope is
$\\dfrac{da}{dz} = 1 - \\tanh^2(z)$, so its sensitivity to the input is
$\\dfrac{da}{dx} = w\\,(1 - \\tanh^2(z))$.

The notes' example uses a small weight, $w = 0.1$:

* $x = 1$: $z = 0.1$, $\\tanh(0.1) = 0.0997$ — the unit is in its linear range, slope ≈ 1.
* $x = 20$: $z = 2$, $\\tanh(2) = 0.964$ — the unit is **saturated**: the slope is only $0.071$.

Drag **input x** past 20 and watch the output: it hardly changes. The red bands mark where
$|\\tanh(z)|$ exceeds the threshold (0.96 by default; $|z| > \\operatorname{atanh}(0.96) = 1.946$).
In a saturated unit, a change in $x$ — and, during training, the gradient flowing back through the
unit — is multiplied by a number close to zero.
"""),
    call(V, "tanh_saturation"),
    md("""
## 2. A layer of tanh units

Real inputs are often large and all positive (pixel values 0–255, prices, counts). Here a batch of
256 examples with 20 such features, each uniform on $[0,\\,\\text{scale}]$, feeds $N$ tanh units with
PyTorch's default initialisation ($W, b \\sim U(-1/\\sqrt{20},\\, 1/\\sqrt{20})$).
For a fixed upstream gradient $\\partial L/\\partial a$ the page computes what reaches the weights,
$\\partial L/\\partial W = x^\\top\\big(\\partial L/\\partial a \\odot (1 - a^2)\\big)$, and what reaches the layer below.

* At scale 1 almost no unit saturates. At scale 100 most do: the histogram piles up at ±1, and
  the mean of $1 - a^2$ — the share of the gradient that gets through — collapses.
* The gradient reaching the weights does not simply grow with the inputs: the factor $x$ grows,
  but $1 - a^2$ shrinks faster, and the layer below receives almost nothing.
* **Standardise** the inputs (subtract each feature's mean, divide by its standard deviation) and the
  picture no longer depends on the scale at all: the green curve is flat.
"""),
    call(V, "tanh_layer"),
    md("""
## 3. Feature scaling and the learning rate

Even without saturation, features on different scales slow learning down. Fit
$y \\approx w_1 x_1 + w_2 x_2$ by least squares with $x_1 \\in [0, 1]$ and $x_2 \\in [0, R]$.
The loss $L(w) = \\frac{1}{2n}\\lVert Xw - y\\rVert^2$ is a quadratic bowl whose curvature is the Hessian
$H = X^\\top X / n$. Its eigenvalues $\\lambda$ are the curvatures along the bowl's axes:

* gradient descent $w \\leftarrow w - \\eta \\nabla L$ converges only if $\\eta < 2/\\lambda_{max}$ —
  the steepest direction sets the speed limit;
* along the flattest direction each step shrinks the error by only $1 - \\eta\\lambda_{min}$, so the number of
  steps grows with the **condition number** $\\lambda_{max}/\\lambda_{min}$.

With $R = 1000$ the condition number is in the millions: the contours (drawn at equal scale on both axes)
are long, thin ellipses — the valley is so narrow along $w_2$ that it looks like a line — and a learning rate
small enough not to blow up along $w_2$ barely moves $w_1$. After standardisation the contours are near circles,
$\\lambda_{max} \\approx \\lambda_{min} \\approx 1$, and a few steps suffice. (The standardised problem's intercept is
$\\bar y$, exactly, so dropping it leaves the picture two-dimensional; the raw problem has no intercept.)

Push either learning rate past its limit $2/\\lambda_{max}$: the path diverges, and the page says at which step.
Move **x2 spans** down towards 1 to see the raw problem become well-conditioned too.
"""),
    call(V, "scaling_and_learning_rate"),
    md("""
### What to remember
* Large inputs push tanh (and sigmoid) units into saturation, where their gradient vanishes.
* Badly scaled features make the loss surface ill-conditioned: the largest stable learning rate is set by the
  steepest direction, and progress along the flattest one crawls.
* Standardising inputs fixes both for the first layer. Lesson 2, **Batch Normalization**, does the same for every
  layer, during training.
"""),
]
write("notebooks/01_feature_scaling.ipynb", cells, title="Lesson 1 · Feature scaling and tanh saturation")
