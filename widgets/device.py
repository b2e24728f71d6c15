"""Which device training will use, in words (no UI code)."""
from __future__ import annotations

import torch


def pick_device(preference: str = "auto") -> tuple[torch.device, str]:
    """CUDA, else MPS, else CPU, with the reason; `preference` may force one ("cpu", "cuda", "mps")."""
    if preference not in ("auto", "cpu", "cuda", "mps"):
        raise ValueError(f"unknown device {preference!r}: choose auto, cpu, cuda or mps")
    if preference in ("auto", "cuda") and torch.cuda.is_available():
        return torch.device("cuda"), f"GPU: {torch.cuda.get_device_name(0)}"
    if preference == "cuda":
        raise ValueError("CUDA was asked for but no CUDA GPU is visible to PyTorch")
    mps = getattr(torch.backends, "mps", None)
    if preference in ("auto", "mps") and mps is not None and mps.is_available():
        return torch.device("mps"), "Apple GPU (MPS)"
    if preference == "mps":
        raise ValueError("MPS was asked for but is not available")
    why = "asked for" if preference == "cpu" else "no GPU found"
    return torch.device("cpu"), f"CPU ({torch.get_num_threads()} threads; {why}): reduced model sizes"


def describe_device() -> str:
    return pick_device()[1]
