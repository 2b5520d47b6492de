"""Early-season maps: batch-norm statistics of the input's own first periods.

A model trained on full seasons normalizes every layer with full-season statistics. Fed
only the first ``k`` periods (the rest padded as the model pads time), its activations
no longer match them: on the paper-scale study the Korean source model scored IoU 0.00
with 1-3 of 8 periods, and 0.66-0.74 with the same weights once the statistics were
re-estimated on ``k``-period inputs (docs/transfer.md, "Early season").

:func:`early_season_model` does that re-estimation on the map's input itself: a few
windows spread over the raster, cut to the first ``k`` periods and padded back (no
labels needed), every batch norm's statistics recomputed as their plain average. The
adapted model is written to a hidden folder beside the output map (Dask workers on the
same disk read it) and removed when the prediction ends.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path

from cropmap.infer.engines import forget_engines
from cropmap.infer.quantize import calibration_windows
from cropmap.infer.sources import Source
from cropmap.models.registry import ModelMeta, load_model, save_model

#: Input windows (of up to 128 px) the statistics are estimated on, 4 per batch.
EARLY_WINDOWS = 16


@contextlib.contextmanager
def early_season_model(
    model_dir: str | os.PathLike,
    meta: ModelMeta,
    source: Source,
    window: int,
    periods: int,
    out_path: str | os.PathLike,
    *,
    n_windows: int = EARLY_WINDOWS,
) -> Iterator[Path]:
    """A copy of the model whose batch norms fit the first ``periods`` periods of ``source``.

    Args:
        model_dir, meta: the full-season model and its metadata.
        source: the raster being mapped.
        window: the prediction's window size (windows are capped at 128 px).
        periods: the number of leading periods the map uses.
        out_path: the output map; the adapted model goes to a hidden folder beside it.
        n_windows: windows of ``source`` to estimate on (those without data are skipped).

    Yields:
        The adapted model directory (removed when the block ends).

    Raises:
        ModelFileError: no window of the input has data.
    """
    import torch

    from cropmap.models.batchnorm import recalibrate_batchnorm  # torch: imported when used

    x = calibration_windows(source, meta, window, periods=periods, n=n_windows)
    model, _ = load_model(Path(model_dir), meta=meta)
    batches = [(torch.from_numpy(x[i : i + 4]), None) for i in range(0, len(x), 4)]
    recalibrate_batchnorm(model, batches, trainable_only=False)
    out = Path(out_path).resolve()
    tmp = out.parent / f".{out.name}.{uuid.uuid4().hex[:8]}.early{periods}"
    try:
        save_model(tmp, model.eval(), meta)
        yield tmp
    finally:
        forget_engines(str(tmp))
        shutil.rmtree(tmp, ignore_errors=True)
