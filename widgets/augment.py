"""Augmentation and evaluation views that run on whatever device the batch lives on (lesson 5).

* `random_resized_crop(x, size, generator)` - section 6 of the GoogLeNet paper: crops of
  8%-100% of the image area with aspect ratio in [3/4, 4/3], resized to the model's input,
  plus horizontal flips. It is one `affine_grid` + `grid_sample` over the whole batch, so on a
  GPU the data set can stay resident in GPU memory and no step copies anything from the host.
* `multi_crop_views` - the 1 or 10 views of multi-crop testing; `tile_images` - a montage.

No ipywidgets or plotly here. widgets.data re-exports every name.
"""
from __future__ import annotations

import math

import numpy as np
import torch
import torch.nn.functional as F


# --------------------------------------------------------------------------- on-device transforms


def _as_float(x: torch.Tensor) -> torch.Tensor:
    return x.float().div_(255.0) if x.dtype == torch.uint8 else x.float()


def normalize(x: torch.Tensor, mean: tuple[float, ...], std: tuple[float, ...]) -> torch.Tensor:
    m = torch.tensor(mean, device=x.device, dtype=x.dtype).view(1, -1, 1, 1)
    s = torch.tensor(std, device=x.device, dtype=x.dtype).view(1, -1, 1, 1)
    return (x - m) / s


def crop_resize(x: torch.Tensor, boxes: torch.Tensor, size: int, flip: torch.Tensor | None = None) -> torch.Tensor:
    """Crop each image to its box and resize it to size x size, bilinearly, in one batched op.

    x: (N, C, H, W) uint8 or float; boxes: (N, 4) as (x0, y0, w, h), fractions of the image
    side; flip: (N,) bool, mirror left-right. Returns float32 (N, C, size, size) in [0, 1].
    With the box (0, 0, 1, 1) and no flip this is exactly bilinear `F.interpolate`
    (align_corners=False): the affine grid then samples the same points.
    """
    x = _as_float(x)
    n = x.shape[0]
    x0, y0, w, h = boxes.to(x.dtype).unbind(1)
    sign = torch.ones_like(w) if flip is None else 1.0 - 2.0 * flip.to(x.dtype)
    theta = torch.zeros(n, 2, 3, device=x.device, dtype=x.dtype)
    theta[:, 0, 0] = w * sign                 # output x in [-1, 1] -> input x, mirrored if flipped
    theta[:, 0, 2] = 2 * x0 + w - 1           # the box's centre in [-1, 1] coordinates
    theta[:, 1, 1] = h
    theta[:, 1, 2] = 2 * y0 + h - 1
    grid = F.affine_grid(theta, [n, x.shape[1], size, size], align_corners=False)
    return F.grid_sample(x, grid, mode="bilinear", padding_mode="border", align_corners=False)


def random_crop_boxes(n: int, height: int, width: int, generator: torch.Generator | None = None,
                      scale: tuple[float, float] = (0.08, 1.0), ratio: tuple[float, float] = (3 / 4, 4 / 3),
                      device: torch.device | str | None = None, attempts: int = 10) -> torch.Tensor:
    """Boxes (N, 4) = (x0, y0, w, h) as fractions of the side: area in `scale` of the image,
    aspect ratio w/h (in pixels) in `ratio`, log-uniform as in torchvision's RandomResizedCrop.

    Vectorised rejection: `attempts` candidates per image, the first that fits is kept; an
    image with none that fits gets the whole image (torchvision's fallback for square images).
    Positions are continuous, not whole pixels (bilinear sampling makes that harmless).
    """
    kw = dict(generator=generator, device=device)
    area = torch.empty(attempts, n, device=device).uniform_(scale[0], scale[1], generator=generator)
    log_r = torch.empty(attempts, n, device=device).uniform_(math.log(ratio[0]), math.log(ratio[1]), generator=generator)
    r = torch.exp(log_r)
    aspect = width / height
    w = torch.sqrt(area * r / aspect)  # fraction of the width: (w W)(h H) = area W H, (w W)/(h H) = r
    h = torch.sqrt(area * aspect / r)
    ok = (w <= 1) & (h <= 1)
    first = torch.argmax(ok.int(), dim=0)                      # first fitting attempt (0 if none)
    any_ok = ok.any(dim=0)
    pick = lambda t: t.gather(0, first[None]).squeeze(0)  # noqa: E731
    w = torch.where(any_ok, pick(w), torch.ones(n, device=device))
    h = torch.where(any_ok, pick(h), torch.ones(n, device=device))
    x0 = torch.rand(n, **kw) * (1 - w)
    y0 = torch.rand(n, **kw) * (1 - h)
    return torch.stack([x0, y0, w, h], dim=1)


def random_resized_crop(x: torch.Tensor, size: int, generator: torch.Generator | None = None,
                        scale: tuple[float, float] = (0.08, 1.0), ratio: tuple[float, float] = (3 / 4, 4 / 3),
                        flip: bool = True) -> torch.Tensor:
    """Section 6's "photometric-free" augmentation on a batch, on the batch's own device:
    a random crop of 8%-100% of the area with aspect in [3/4, 4/3], resized to `size`, and a
    left-right flip with probability 1/2. `generator` must live on x's device."""
    n, _, hgt, wid = x.shape
    boxes = random_crop_boxes(n, hgt, wid, generator, scale, ratio, device=x.device)
    flips = (torch.rand(n, generator=generator, device=x.device) < 0.5) if flip else None
    return crop_resize(x, boxes, size, flips)


def resize(x: torch.Tensor, size: int) -> torch.Tensor:
    """Whole image, resized bilinearly to size x size (float32 in [0, 1])."""
    return F.interpolate(_as_float(x), size=(size, size), mode="bilinear", align_corners=False)


def five_boxes(c: float) -> list[tuple[float, float, float, float]]:
    """4 corners + centre, each a square of side c (fractions of the image)."""
    o = 1.0 - c
    return [(0.0, 0.0, c, c), (o, 0.0, c, c), (0.0, o, c, c), (o, o, c, c), (o / 2, o / 2, c, c)]


def ten_crop_boxes(crop_fraction: float = 0.875, mirror: bool = True) -> list[tuple[tuple[float, float, float, float], bool]]:
    """The 10 views of multi-crop evaluation: 4 corners + centre, each also mirrored.

    (GoogLeNet's own test used 144 crops per image; 10 crops is the cheaper AlexNet scheme.)
    With mirror=False (digits: a mirrored 2 is no 2) the second five are the same positions at
    a size halfway between crop_fraction and the whole image, unmirrored.
    """
    if mirror:
        return [(b, f) for f in (False, True) for b in five_boxes(crop_fraction)]
    return [(b, False) for c in (crop_fraction, (1.0 + crop_fraction) / 2) for b in five_boxes(c)]


def multi_crop_views(x: torch.Tensor, size: int, crops: int = 10, crop_fraction: float = 0.875,
                     mirror: bool = True) -> list[torch.Tensor]:
    """1 view (the whole image) or 10 views (corners, centre and their mirrors), each (N, C, size, size)."""
    if crops == 1:
        return [resize(x, size)]
    if crops != 10:
        raise ValueError("crops must be 1 or 10")
    n = x.shape[0]
    views = []
    for box, mirrored in ten_crop_boxes(crop_fraction, mirror):
        b = torch.tensor(box, device=x.device).expand(n, 4)
        f = torch.full((n,), mirrored, device=x.device)
        views.append(crop_resize(x, b, size, f))
    return views


def tile_images(images: torch.Tensor, indices: list[int], cols: int, frame: list[tuple[int, int, int]],
                pad: int = 2, scale: int = 1, gap: int = 0) -> np.ndarray:
    """A montage (rows*(gap+H*scale+2*pad), cols*(W*scale+2*pad), 3) uint8 of images[indices],
    each in a coloured frame (`frame[k]` is the RGB of the k-th tile's frame) under `gap` white
    rows (room for a label); grey images become RGB; `scale` enlarges by pixel repetition."""
    x = _as_float(images[indices].cpu()).clamp(0, 1)            # (n, C, H, W)
    if x.shape[1] == 1:
        x = x.expand(-1, 3, -1, -1)
    x = (x * 255).round().to(torch.uint8).permute(0, 2, 3, 1).numpy()  # (n, H, W, 3)
    if scale > 1:
        x = x.repeat(scale, axis=1).repeat(scale, axis=2)
    n, h, w, _ = x.shape
    rows = max(1, math.ceil(n / cols))
    th, tw = gap + h + 2 * pad, w + 2 * pad
    out = np.full((rows * th, cols * tw, 3), 255, dtype=np.uint8)
    for k in range(n):
        r, c = divmod(k, cols)
        tile = out[r * th + gap:(r + 1) * th, c * tw:(c + 1) * tw]
        tile[:] = frame[k]
        tile[pad:pad + h, pad:pad + w] = x[k]
    return out
