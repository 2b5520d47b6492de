"""Training and inference throughput of the Recurrent U-Net beside the machine's conv peak.

Prints: parameter count and forward FLOPs per 256 x 256 patch (T=8, VH), training
patches/s (forward + backward + Adam step, full season) in fp32 (NCHW) and in bf16
autocast with fp32 master weights + channels-last (what ``TrainConfig`` uses by default
where the CPU has bf16 units), inference px/s, and the achieved GFLOP/s of each beside
the conv peak measured in the same run in the same precision (CPU), or beside nothing on
CUDA (the GPU peak is not measured here). The precisions are timed in alternating rounds,
so a shared machine's load hits both alike.

    python benchmarks/train.py                    # CPU, 2 threads by default
    python benchmarks/train.py --device cuda      # bf16 autocast on a GPU
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import torch  # noqa: E402
from torch.utils.flop_counter import FlopCounterMode  # noqa: E402

from _machine import conv_peak_gflops, machine_line, peak_rss_mb  # noqa: E402
from cropmap.models.recurrent_unet import (  # noqa: E402
    RecurrentUNet,
    UNetConfig,
    count_flops,
    count_parameters,
    fold_batchnorm,
)
from cropmap.train.losses import make_loss  # noqa: E402


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize()


def timed(fn, device: torch.device, min_seconds: float, min_iters: int = 2) -> float:
    """Mean seconds per call after one warm-up call."""
    fn()
    _sync(device)
    n, t0 = 0, time.perf_counter()
    while n < min_iters or time.perf_counter() - t0 < min_seconds:
        fn()
        n += 1
    _sync(device)
    return (time.perf_counter() - t0) / n


def bf16_conv_peak_gflops(seconds: float = 1.0) -> float:
    """Best GFLOP/s of a 3x3 conv2d forward in bf16 autocast + channels-last (CPU).

    Uses ``_machine.conv_peak_gflops(precision="bf16")`` when the shared helper offers it.
    """
    try:
        return float(conv_peak_gflops(seconds=seconds, precision="bf16"))  # type: ignore[call-arg]
    except TypeError:
        pass
    best = 0.0
    for ch, px in ((16, 256), (64, 64), (256, 32)):
        x = torch.randn(8, ch, px, px).contiguous(memory_format=torch.channels_last)
        conv = torch.nn.Conv2d(ch, ch, 3, padding=1, bias=False).to(
            memory_format=torch.channels_last
        )
        flops = 2.0 * 9 * ch * ch * px * px * x.shape[0]
        with torch.inference_mode(), torch.autocast("cpu", dtype=torch.bfloat16):
            conv(x)
            n, t0 = 0, time.perf_counter()
            while time.perf_counter() - t0 < seconds / 3:
                conv(x)
                n += 1
            dt = (time.perf_counter() - t0) / n
        best = max(best, flops / dt / 1e9)
    return best


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--threads", type=int, default=None, help="torch threads (CPU)")
    ap.add_argument("--size", type=int, default=256, help="patch side in pixels")
    ap.add_argument("--batch", type=int, default=4)
    ap.add_argument("--channels", type=int, default=1, help="1 = VH, 2 = VV,VH")
    ap.add_argument("--seconds", type=float, default=6.0, help="time per measurement")
    ap.add_argument("--rounds", type=int, default=3, help="alternating fp32/bf16 rounds")
    ap.add_argument("--train-only", action="store_true", help="skip the inference figures")
    args = ap.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    device = torch.device(args.device)
    print(
        f"machine: {machine_line()}, torch {torch.__version__}, "
        f"{torch.get_num_threads()} threads, device {device}"
    )
    if device.type == "cpu":
        t0 = time.perf_counter()
        peak = conv_peak_gflops()
        peak_bf16 = bf16_conv_peak_gflops()
        print(
            f"conv2d 3x3 peak (measured now): fp32 NCHW {peak:.1f} GFLOP/s, bf16 + channels-last "
            f"{peak_bf16:.1f} GFLOP/s ({time.perf_counter() - t0:.1f} s)"
        )
    else:
        peak = peak_bf16 = None
        print(f"GPU: {torch.cuda.get_device_name(device)} (bf16 autocast)")

    torch.manual_seed(0)
    model = RecurrentUNet(UNetConfig(in_channels=args.channels))
    n_params = count_parameters(model)
    f256 = count_flops(model, (1, 8, args.channels, 256, 256))
    print(f"parameters: {n_params:,}; forward FLOPs per 256x256 patch (T=8): {f256 / 1e9:.2f} G")

    model = model.to(device)
    s, b = args.size, args.batch
    x = torch.randn(b, 8, args.channels, s, s, device=device)
    y = (torch.rand(b, s, s, device=device) > 0.5).long()
    loss_fn = make_loss("bce+dice")
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)

    def make_step(bf16: bool):
        def train_step() -> None:
            opt.zero_grad(set_to_none=True)
            with torch.autocast(device.type, dtype=torch.bfloat16, enabled=bf16):
                loss = loss_fn(model(x), y)
            loss.backward()
            opt.step()

        return train_step

    model.train()
    with FlopCounterMode(display=False) as fc:
        make_step(False)()
    train_flops = fc.get_total_flops()
    modes = {"fp32 NCHW": (False, torch.contiguous_format, peak)}
    modes["bf16 autocast + channels-last"] = (True, torch.channels_last, peak_bf16)
    if device.type == "cuda":
        modes = {"bf16 autocast": (True, torch.contiguous_format, None)}
    times: dict[str, list[float]] = {k: [] for k in modes}
    for _ in range(args.rounds):
        for name, (bf16, fmt, _) in modes.items():
            model.to(memory_format=fmt)
            times[name].append(timed(make_step(bf16), device, args.seconds / args.rounds, 1))
    model.to(memory_format=torch.contiguous_format)
    base = None
    for name, (_, _, pk) in modes.items():
        dt = min(times[name])  # best round: the least disturbed by other processes
        base = base or dt
        gflops = train_flops / dt / 1e9
        line = (
            f"training {name}: {b / dt:.2f} patches/s of {s}x{s} (batch {b}), {gflops:.1f} GFLOP/s"
        )
        if pk:
            line += f" = {100 * gflops / pk:.0f} % of its conv peak"
        line += f"; x{base / dt:.2f} vs the first"
        print(line)
    amp = device.type == "cuda"
    if args.train_only:
        print(f"peak RSS: {peak_rss_mb():.0f} MB")
        return

    model.eval()
    f_inf = count_flops(model.cpu(), (b, 8, args.channels, s, s))  # of the unfolded model
    model.to(device)
    for name, net in (("plain", model), ("BN folded", fold_batchnorm(model))):

        def infer(net=net) -> None:
            with torch.inference_mode(), torch.autocast(device.type, torch.bfloat16, enabled=amp):
                torch.sigmoid(net(x))

        dt = timed(infer, device, args.seconds)
        inf_gflops = f_inf / dt / 1e9
        line = (
            f"inference ({name}): {b * s * s / dt / 1e6:.3f} Mpx/s ({b / dt:.2f} patches/s), "
            f"{inf_gflops:.1f} GFLOP/s"
        )
        if peak:
            line += f" = {100 * inf_gflops / peak:.0f} % of conv peak"
        print(line)
    print(f"peak RSS: {peak_rss_mb():.0f} MB")


if __name__ == "__main__":
    main()
