"""Which torch device a model runs on, and a batch size that fits it.

``auto`` (the default everywhere) picks CUDA, then Apple's MPS, else the CPU. An explicit device (``cpu``, ``cuda``,
``cuda:N``, ``mps``) is checked up front, so an unavailable one fails with a clear error before any work starts.
The CPU path is the tested default; CUDA and MPS are used only where torch reports them available.
"""
from __future__ import annotations

import re

from curation.core.errors import CurationError

DEVICE_CHOICES = ("auto", "cpu", "cuda", "cuda:N", "mps")
_DEVICE_RE = re.compile(r"^(auto|cpu|mps|cuda(?::\d+)?)$")


def resolve_device(device: str | None = None) -> str:
    """``None``/``"auto"`` → ``"cuda"`` when torch sees a GPU, else ``"mps"`` when available, else ``"cpu"``.

    An explicit device is validated: an unknown name, a CUDA device on a machine (or torch build) without CUDA,
    a ``cuda:N`` beyond the GPUs present, or MPS where it is unavailable raise :class:`CurationError` naming the fix.
    """
    import torch

    dev = (device or "auto").strip().lower()
    if not _DEVICE_RE.match(dev):
        raise CurationError(f"unknown device {device!r}; use one of {', '.join(DEVICE_CHOICES)}")
    if dev == "auto":
        if torch.cuda.is_available():
            return "cuda"
        if _mps_available(torch):
            return "mps"
        return "cpu"
    if dev == "cpu":
        return "cpu"
    if dev == "mps":
        if not _mps_available(torch):
            raise CurationError("device 'mps' is not available (it needs Apple silicon and a torch build with MPS); "
                                "use --device cpu, or leave --device out to pick what is there")
        return "mps"
    # cuda / cuda:N
    if not torch.cuda.is_available():
        built = "was built without CUDA" if torch.version.cuda is None else "finds no usable GPU"
        raise CurationError(f"device {dev!r} is not available: torch {torch.__version__} {built}; use --device "
                            "cpu, or leave --device out to pick what is there")
    if ":" in dev:
        n = int(dev.split(":", 1)[1])
        count = torch.cuda.device_count()
        if n >= count:
            raise CurationError(f"device {dev!r} is not available: this machine has {count} CUDA device(s) "
                                f"(cuda:0{f' to cuda:{count - 1}' if count > 1 else ''})")
    return dev


def _mps_available(torch) -> bool:
    mps = getattr(torch.backends, "mps", None)
    return bool(mps is not None and mps.is_available())


def auto_batch_size(device: str, cpu_batch: int, *, bytes_per_item: int = 8 << 20, cap: int = 1024) -> int:
    """A batch size for ``device``: ``cpu_batch`` on the CPU; on a GPU, as many items as fit in half of the free
    memory at ``bytes_per_item`` each (a generous bound for a 256-token sequence through a small encoder), between
    ``cpu_batch`` and ``cap``, rounded down to a power of two. MPS (shared memory) gets 2 × ``cpu_batch``."""
    if device == "cpu":
        return cpu_batch
    if device == "mps":
        return min(cap, cpu_batch * 2)
    import torch

    try:
        free, _ = torch.cuda.mem_get_info(torch.device(device))
    except Exception:  # an old driver without mem_get_info: stay with the CPU size
        return cpu_batch
    n = max(cpu_batch, min(cap, int(free // 2 // bytes_per_item)))
    return 1 << (n.bit_length() - 1)


def is_out_of_memory(exc: BaseException) -> bool:
    """Whether ``exc`` is a GPU out-of-memory error (the caller halves its batch and tries again)."""
    import torch

    oom = getattr(torch, "OutOfMemoryError", None) or getattr(torch.cuda, "OutOfMemoryError", None)
    return (oom is not None and isinstance(exc, oom)) or "out of memory" in str(exc).lower()
