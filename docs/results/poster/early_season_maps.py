"""Early-season maps of the poster study's Korea region with its source model.

Maps the whole Korea-like composite of a ``cropmap experiment poster`` run with the
first k periods, batch-norm statistics re-estimated on the input (the default of
``predict --periods``) and saved (``--saved-batchnorm``), and prints the IoU of rice
over every labelled pixel (training areas included: it shows the statistics' effect,
not a held-out score) and each map's wall time.

Run: ``.venv/bin/python docs/results/poster/early_season_maps.py runs/poster``
"""

from __future__ import annotations

import sys
import tempfile
import time
import warnings
from pathlib import Path

import rasterio

from cropmap.infer.predict import predict_raster


def main(run: Path) -> None:
    warnings.simplefilter("ignore")
    out = Path(tempfile.mkdtemp())
    model, data = run / "pretrained", run / "data" / "korea"
    with rasterio.open(data / "labels.tif") as ds:
        labels = ds.read(1)
    labelled, rice = labels != 255, labels == 1

    def iou(path: Path) -> float:
        with rasterio.open(path) as ds:
            pred = ds.read(2) == 1
        return float((pred & rice & labelled).sum() / ((pred | rice) & labelled).sum())

    print("k  input  saved  (IoU of rice over every labelled pixel of the region)")
    for k in (1, 2, 3, 4, 8):
        row = []
        for early in (True, False) if k < 8 else (True,):
            t = time.perf_counter()
            path = predict_raster(
                model,
                data / "composite.tif",
                out / f"k{k}_{early}.tif",
                periods=k,
                early_batchnorm=early,
                engine="torch",
            )
            row.append(f"{iou(path):.3f} ({time.perf_counter() - t:.0f} s)")
        print(k, *row, flush=True)


if __name__ == "__main__":
    main(Path(sys.argv[1]))
