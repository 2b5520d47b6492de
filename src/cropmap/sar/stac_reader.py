"""Reading windows of a lazily loaded STAC time series, with read-ahead.

:func:`read_raw` computes one window of one acquisition (all bands) from the odc-stac
Dask arrays; :class:`StacReader` turns it into dB or linear power with NaN nodata, the
interface of :class:`~cropmap.sar.stack.StackReader`, and reads the next acquisitions of
the same window in background threads, so that remote assets (one HTTP round trip or
more per chunk) are fetched several at a time. Values never depend on the read-ahead.
"""

from __future__ import annotations

from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

import numpy as np
from rasterio.windows import Window

from cropmap.errors import StacError
from cropmap.sar.db import to_db, to_linear

#: Acquisitions of the current window read ahead in background threads. Memory: this
#: many extra ``(C, block_rows, width)`` raw arrays.
READ_AHEAD = 4

__all__ = ["READ_AHEAD", "StacReader", "read_raw"]


def read_raw(stack: Any, acq: Any, window: Window) -> np.ndarray:
    """Raw values of one window of one acquisition, ``(C, h, w)``, as the assets store them.

    Args:
        stack: a :class:`~cropmap.sar.stac_stack.StacStack`.
        acq: one of its acquisitions.
        window: pixel window of the stack's grid.

    Raises:
        StacError: an asset cannot be read (the message names the items and date).
    """
    import dask

    rows = slice(int(window.row_off), int(window.row_off + window.height))
    cols = slice(int(window.col_off), int(window.col_off + window.width))
    parts = [stack.data[k].isel(time=acq.index, y=rows, x=cols).data for k in stack.keys]
    try:
        out = dask.compute(*parts, scheduler="threads")
    except Exception as exc:  # rasterio/odc raise many types for unreadable assets
        raise StacError(
            f"cannot read {', '.join(stack.keys)} of items {', '.join(acq.item_ids)} "
            f"({acq.date}): {exc}"
        ) from exc
    return np.stack([np.asarray(o) for o in out])


def _key(acq: Any, window: Window) -> tuple[int, int, int, int, int]:
    w = window
    return (acq.index, int(w.col_off), int(w.row_off), int(w.width), int(w.height))


class StacReader:
    """Reads windows of a STAC stack as dB or linear float32 ``(C, h, w)``, NaN nodata.

    Same interface as :class:`~cropmap.sar.stack.StackReader`, so
    :func:`~cropmap.sar.block.composite_block` runs on it unchanged. Reading acquisition
    ``k`` of a window starts reading acquisitions ``k+1 .. k+read_ahead`` of the same
    window (the order in which periods consume them).
    """

    def __init__(self, stack: Any, read_ahead: int = READ_AHEAD) -> None:
        self.stack = stack
        self.read_ahead = max(0, int(read_ahead))
        self._pool: ThreadPoolExecutor | None = None
        self._pending: dict[tuple[int, int, int, int, int], Future[np.ndarray]] = {}

    def __enter__(self) -> StacReader:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Drop reads ahead not yet used and stop the threads."""
        for fut in self._pending.values():
            fut.cancel()
        self._pending.clear()
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None

    def _raw(self, acq: Any, window: Window) -> np.ndarray:
        key = _key(acq, window)
        fut = self._pending.pop(key, None)
        for k in [k for k in self._pending if k[1:] != key[1:]]:  # another window: stale
            self._pending.pop(k).cancel()
        if self.read_ahead:
            if self._pool is None:
                self._pool = ThreadPoolExecutor(self.read_ahead, thread_name_prefix="stac")
            acqs = self.stack.acquisitions
            for nxt in acqs[acq.index + 1 : acq.index + 1 + self.read_ahead]:
                k = _key(nxt, window)
                if k not in self._pending:
                    self._pending[k] = self._pool.submit(read_raw, self.stack, nxt, window)
        return fut.result() if fut is not None else read_raw(self.stack, acq, window)

    def read(self, acq: Any, window: Window, domain: str = "db") -> np.ndarray:
        """Read ``window`` of one acquisition: float32 ``(C, h, w)``, NaN nodata.

        Values are dB, or linear power when ``domain="linear"``.
        """
        raw = self._raw(acq, window)
        out = np.empty(raw.shape, dtype=np.float32)
        conv = to_linear if domain == "linear" else to_db
        for c, nd in enumerate(self.stack.nodata):
            out[c] = conv(raw[c], self.stack.units, nd)
        return out
