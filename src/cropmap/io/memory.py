"""Keep freed memory in the process for reuse (glibc), so large numpy temporaries cost
no page faults.

glibc returns freed blocks of a few MB to the kernel (``mmap``/heap trimming), and the
next array of that size page-faults all over again: on compositing that kernel time was
about half the CPU time (measured by ``benchmarks/composite.py``). Raising the mmap and
trim thresholds keeps such blocks in the heap. Peak RSS is unchanged (the blocks are
reused, not added); memory freed after the peak is kept until the process ends.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import logging
import sys

log = logging.getLogger(__name__)

#: Blocks up to this size (bytes) are served from, and returned to, the heap.
THRESHOLD_BYTES = 1 << 30

_M_TRIM_THRESHOLD = -1  # mallopt parameters, from glibc's malloc.h
_M_MMAP_THRESHOLD = -3
_done: list[bool] = []


def keep_freed_memory() -> bool:
    """Tell glibc's allocator to keep freed blocks for reuse (once per process).

    Returns:
        True when the setting is in effect (Linux with glibc), else False (a no-op).
    """
    if _done:
        return _done[0]
    ok = False
    if sys.platform.startswith("linux"):
        try:
            libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
            ok = bool(
                libc.mallopt(_M_MMAP_THRESHOLD, THRESHOLD_BYTES)
                and libc.mallopt(_M_TRIM_THRESHOLD, THRESHOLD_BYTES)
            )
        except (OSError, AttributeError):  # not glibc (e.g. musl): leave the allocator be
            ok = False
    log.debug("keep freed memory for reuse: %s", ok)
    _done.append(ok)
    return ok
