"""Coverage of the stratified area estimate's 95 % interval over repeated samples.

A known population (200,000 px, 15 % target; the map omits 12 % of the target and marks
4 % of the rest as target), stratified random samples of n units per map class, repeated.
Prints, per n: how often the 95 % interval held the true target area, the mean estimate
over the truth, and the spread of the estimates over the mean standard error.

    python benchmarks/area_coverage.py [--reps 400] [--n 60 100 300]
"""

from __future__ import annotations

import argparse

import numpy as np

from cropmap.evaluate.area import Z95, error_matrix, stratified_estimate


def population(seed: int = 42) -> tuple[np.ndarray, np.ndarray]:
    """``(truth, mapped)`` class arrays ``(200000,)`` of the test population."""
    rng = np.random.default_rng(seed)
    truth = (rng.random(200_000) < 0.15).astype(np.int64)
    flip = np.where(truth == 1, rng.random(truth.size) < 0.12, rng.random(truth.size) < 0.04)
    return truth, np.where(flip, 1 - truth, truth)


def coverage(n: int, reps: int, seed: int = 0) -> tuple[float, float, float]:
    """``(coverage, mean estimate / truth, sd of estimates / rms standard error)``."""
    truth, mapped = population()
    rng = np.random.default_rng(seed)
    strata = [np.flatnonzero(mapped == k) for k in (0, 1)]
    n_h = np.array([s.size for s in strata])
    est, se, hits = [], [], 0
    for _ in range(reps):
        r = [truth[rng.choice(s, size=n, replace=False)] for s in strata]
        m = [np.full(n, k) for k in (0, 1)]
        e = stratified_estimate(error_matrix(np.concatenate(m), np.concatenate(r), 2), n_h)
        est.append(e.area_ha[1])
        se.append(e.area_ci_ha[1] / Z95)
        hits += abs(e.area_ha[1] - truth.sum()) <= e.area_ci_ha[1]
    ratio = float(np.std(est, ddof=1) / np.sqrt(np.mean(np.square(se))))
    return hits / reps, float(np.mean(est) / truth.sum()), ratio


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--reps", type=int, default=400)
    ap.add_argument("--n", type=int, nargs="+", default=[60, 100, 300])
    args = ap.parse_args()
    truth, mapped = population()
    print(
        f"true target px {truth.sum()}, mapped {mapped.sum()} ({mapped.sum() / truth.sum():.3f}x)"
    )
    print("n per stratum | 95% CI coverage | mean estimate / truth | sd(estimates) / SE")
    for n in args.n:
        cov, bias, ratio = coverage(n, args.reps)
        print(f"{n:13d} | {cov:15.1%} | {bias:21.4f} | {ratio:.3f}")


if __name__ == "__main__":
    main()
