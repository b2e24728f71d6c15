"""Where the engine runs: the device (and why), CPU threads, DistributedDataParallel from
torchrun's environment, and a record of the machine for measurements.

Every call that exists only for CUDA is in this module (section "CUDA-only calls"), each with its
reason, and does nothing on other devices: the rest of the engine runs the same code everywhere,
so the CPU exercises the GPU's path but for the kernels themselves (tests/test_accel.py)."""
from __future__ import annotations

import datetime as _dt
import os
import platform
from dataclasses import dataclass

import torch

from widgets.train_config import ConfigError

# The thread count torch had when the engine was first imported: torch's default for this machine
# unless something set it before. Runs set their own count and give the one they found back.
_MACHINE_THREADS = torch.get_num_threads()


def machine_threads() -> int:
    """The machine's own thread count for torch (not what the last run left behind)."""
    return _MACHINE_THREADS


def select_device(preference: str = "auto", local_rank: int = 0) -> tuple[torch.device, str]:
    """CUDA, else Apple's MPS, else the CPU, and a sentence saying which and why."""
    cuda_ok = torch.cuda.is_available()
    mps_ok = bool(getattr(torch.backends, "mps", None)) and torch.backends.mps.is_available()
    if preference in ("auto", "cuda") and cuda_ok:
        dev = torch.device("cuda", local_rank % torch.cuda.device_count())
        return dev, f"CUDA GPU: {torch.cuda.get_device_name(dev)} (data in GPU memory)"
    if preference == "cuda":
        raise ConfigError("device cuda asked for, but no CUDA GPU is visible to torch")
    if preference in ("auto", "mps") and mps_ok:
        return torch.device("mps"), "Apple GPU (MPS), float32"
    if preference == "mps":
        raise ConfigError("device mps asked for, but torch sees no Apple GPU")
    n = torch.get_num_threads()
    threads = f"{n} thread{'s' if n != 1 else ''}"
    if preference == "cpu":
        return torch.device("cpu"), f"CPU, as asked ({threads})"
    why = ("this torch is a CPU-only build" if torch.version.cuda is None else "no CUDA GPU is visible")
    return torch.device("cpu"), f"CPU: {why}, and no Apple GPU; {threads}"


def suggest_threads() -> tuple[int, str]:
    """CPU threads for a run now, and why. On a machine whose cores are already busy (load
    average >= cores), one thread is much faster than several, whose threads wait on each other
    (measured in benchmarks/cpu_default.py: up to 10x on 2 shared cores). Otherwise the machine's
    own count (`machine_threads`), whatever an earlier run set."""
    cores = os.cpu_count() or 1
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else 0.0
    if cores > 1 and load >= cores - 0.5:
        return 1, f"1 thread: the machine is busy (load {load:.1f} on {cores} cores)"
    n = machine_threads()
    return n, f"{n} threads"


def machine_info(device: torch.device | str | None = None) -> dict:
    """Where a measurement was taken: date, device, CPU count, load, library versions."""
    dev, reason = select_device("auto") if device is None else (torch.device(device), str(device))
    info = {"date": _dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"), "device": str(dev),
            "device_reason": reason, "cpu_count": os.cpu_count(), "torch_threads": torch.get_num_threads(),
            "torch": torch.__version__, "python": platform.python_version(), "machine": platform.machine(),
            "processor": platform.processor() or platform.machine()}
    if hasattr(os, "getloadavg"):
        info["load_average_1_5_15min"] = [round(v, 2) for v in os.getloadavg()]
    if dev.type == "cuda":
        info["gpu"] = torch.cuda.get_device_name(dev)
    return info


@dataclass
class Dist:
    """This process's place in a torchrun job (world_size 1: no DDP)."""

    rank: int = 0
    world_size: int = 1
    local_rank: int = 0
    owns_group: bool = False

    @property
    def active(self) -> bool:
        return self.world_size > 1

    def local_batch_of(self, batch_size: int) -> int:
        """Each process's share of the global batch."""
        return max(1, batch_size // self.world_size)


def dist_from_env(device_pref: str) -> Dist:
    """torchrun's RANK/WORLD_SIZE/LOCAL_RANK; joins (and then owns) the process group if needed."""
    world = int(os.environ.get("WORLD_SIZE", "1"))
    if world <= 1:
        return Dist()
    import torch.distributed as dist

    info = Dist(int(os.environ.get("RANK", "0")), world, int(os.environ.get("LOCAL_RANK", "0")))
    if not dist.is_initialized():
        dist.init_process_group(backend=process_group_backend(device_pref))
        info.owns_group = True
    return info


def available_bytes(device: torch.device | str | None = None) -> int | None:
    """Memory a run may still take: free GPU memory on CUDA, else the system's MemAvailable
    (Linux /proc/meminfo); None where neither can be read (then nothing is refused)."""
    device = torch.device(device or "cpu")
    if device.type == "cuda":
        return int(torch.cuda.mem_get_info(device)[0])
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    return None


# --------------------------------------------------------------------------- CUDA-only calls


def claim_gpu(device: torch.device) -> None:
    """Make `device` this process's GPU, with autotuned cuDNN and TF32; nothing elsewhere."""
    if device.type != "cuda":
        return
    torch.cuda.set_device(device)                  # NCCL and the default stream follow the process's own GPU
    torch.backends.cudnn.benchmark = True          # every step has the same shapes: pick the fastest conv once
    torch.backends.cuda.matmul.allow_tf32 = True   # fp32 matmuls outside autocast on tensor cores (SGD needs no more)
    torch.backends.cudnn.allow_tf32 = True         # the same for fp32 convolutions


def synchronize(device: torch.device) -> None:
    """Wait for the device's queued kernels before reading a clock: CUDA runs them asynchronously."""
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def cuda_rng_state(device: torch.device) -> torch.Tensor | None:
    """The GPU generator's state for a checkpoint (dropout on the GPU draws from it); None elsewhere."""
    return torch.cuda.get_rng_state(device) if device.type == "cuda" else None


def set_cuda_rng_state(state: torch.Tensor | None, device: torch.device) -> None:
    """Put back the GPU generator's state from a checkpoint made on a GPU, so a resumed run repeats it."""
    if device.type == "cuda" and state is not None:
        torch.cuda.set_rng_state(state, device)


def process_group_backend(device_pref: str) -> str:
    """NCCL when the ranks train on CUDA GPUs (gloo would copy every gradient through the host), else gloo."""
    return "nccl" if torch.cuda.is_available() and device_pref in ("auto", "cuda") else "gloo"
