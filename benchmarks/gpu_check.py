"""GPU check: the trainer uses CUDA with mixed precision and agrees with the CPU.

Run where a GPU is present (on a CPU-only machine it says so and exits 0):

    python benchmarks/gpu_check.py

Prints: the precision the trainer chose, training patches/s on the GPU through
``train_model`` (Lightning, chronological batches), the val IoU it reached on a learnable
synthetic task, the largest difference between CPU and GPU logits of the same weights
(fp32), and bf16 inference px/s beside the GPU's measured bf16 conv throughput.
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

import torch

from cropmap.models.recurrent_unet import RecurrentUNet, UNetConfig, count_flops
from cropmap.models.registry import ModelMeta
from cropmap.train.trainer import TrainConfig, resolve_precision, train_model


class Fields(torch.utils.data.Dataset):
    """Synthetic (T=8, C=2, S, S) series: target pixels dark early, bright later."""

    def __init__(self, n: int, size: int, seed: int) -> None:
        g = torch.Generator().manual_seed(seed)
        self.y = (torch.rand(n, size // 16, size // 16, generator=g) > 0.6).long()
        self.y = self.y.repeat_interleave(16, 1).repeat_interleave(16, 2)
        self.noise = torch.randn(n, 8, 2, size, size, generator=g)

    def __len__(self) -> int:
        return len(self.y)

    def __getitem__(self, i: int):
        y = self.y[i]
        trend = torch.linspace(-1.5, 1.5, 8).view(8, 1, 1, 1)
        x = self.noise[i] * 0.8 + trend * y.float()
        return x, y


def cuda_seconds(fn, repeats: int) -> float:
    """Mean seconds per call of ``fn()`` on the GPU, after 3 warm-up calls."""
    for _ in range(3):
        fn()
    torch.cuda.synchronize()
    t0 = time.perf_counter()
    for _ in range(repeats):
        fn()
    torch.cuda.synchronize()
    return (time.perf_counter() - t0) / repeats


def conv_peak_tflops(device: torch.device) -> float:
    """Best bf16 3x3 conv throughput over a few shapes, TFLOP/s."""
    best = 0.0
    for ch, px in ((64, 128), (128, 64), (256, 32)):
        x = torch.randn(64, ch, px, px, device=device, dtype=torch.bfloat16)
        conv = torch.nn.Conv2d(ch, ch, 3, padding=1, bias=False).to(device, torch.bfloat16)
        with torch.inference_mode():
            dt = cuda_seconds(lambda conv=conv, x=x: conv(x), 20)
        best = max(best, 2 * 9 * ch * ch * px * px * x.shape[0] / dt / 1e12)
    return best


def main() -> int:
    if not torch.cuda.is_available():
        print("no CUDA device: nothing to check here (the CPU paths run in `make test`)")
        return 0
    dev = torch.device("cuda")
    print(f"device: {torch.cuda.get_device_name(0)}, torch {torch.__version__}")
    cfg = TrainConfig(max_epochs=3, batch_size=16, progress="none", patience=3, seed=0)
    print(f"trainer precision on this machine: {resolve_precision(cfg)}")

    torch.manual_seed(0)
    model = RecurrentUNet(UNetConfig(in_channels=2))
    train, val = Fields(192, 128, 0), Fields(32, 128, 1)
    meta = ModelMeta(bands=["VV", "VH"], periods=[f"P{i + 1}" for i in range(8)])
    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        result = train_model(model, train, val, cfg, Path(tmp) / "m", meta)
        dt = time.perf_counter() - t0
    seen = result.epochs_run * len(train)
    print(
        f"train_model on GPU: {result.epochs_run} epochs, {seen / dt:.1f} patches/s "
        f"(128 px, incl. start-up), best val IoU {result.best_val_iou:.3f}"
    )

    net = result.model.eval()
    x = torch.stack([val[i][0] for i in range(4)])
    with torch.inference_mode():
        cpu = net.cpu()(x)
        gpu = net.to(dev)(x.to(dev)).cpu()
    print(f"CPU vs GPU logits (fp32, same weights): max |diff| = {(cpu - gpu).abs().max():.2e}")

    batch = torch.randn(32, 8, 2, 256, 256, device=dev)
    flops = count_flops(net.cpu(), (1, 8, 2, 256, 256)) * batch.shape[0]
    net = net.to(dev)
    with torch.inference_mode(), torch.autocast("cuda", dtype=torch.bfloat16):
        dt = cuda_seconds(lambda: net(batch), 10)
    peak = conv_peak_tflops(dev)
    print(
        f"bf16 inference: {batch.shape[0] * 256 * 256 / dt / 1e6:.1f} Mpx/s, "
        f"{flops / dt / 1e12:.1f} TFLOP/s beside a measured bf16 conv peak of {peak:.1f} TFLOP/s"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
