"""PyTorch side of `make bench BENCH=patchheads`: one training step of each patch-token head.

The module is the parity reference of scripts/fixtures/patch_heads.py (conv-BN-ReLU stack with
kernels 1, 3, ..., 3, 1, adaptive max pooling, linear classifier; the multitask heads add a 1x1
segmentation conv, upsampled bilinearly to the mask), on ViT-B/14 tokens of 518-px images: batch 16,
37x37x768 tokens, one label; for the multitask heads one mask class at 128 px (BCE + Dice, plus the
structure loss with a 31-px window for multitask-plus). Widths: pe-conv and multitask 192,
multitask-plus five layers of 384. A step is zero_grad, forward, loss, backward and an Adam step
(lr 1e-3, weight decay 1e-6), in float32 on the CPU with torch's default threads.

Usage: python scripts/bench/torch_patch_heads.py pe-conv|multitask|multitask-plus [timed steps]
Prints `torch patchheads <head> step s: <median wall seconds>` (with CPU seconds) and
`torch patchheads <head> peak RSS MB: <peak>`; run one head per process, so the peak is that head's.
"""
import sys
import time
from pathlib import Path

import torch
import torch.nn.functional as F

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "fixtures"))
from patch_heads import PatchHead, head_loss  # noqa: E402
from torch_dense import peak_resident_megabytes  # noqa: E402  (same folder when run as a script)

HEADS = {
    "pe-conv": ([192] * 3, 0, {"classification": 1, "dice": 0, "structure": 0}),
    "multitask": ([192] * 3, 1, {"classification": 1, "dice": 1, "structure": 0}),
    "multitask-plus": ([384] * 5, 1, {"classification": 1, "dice": 1, "structure": 1}),
}


def main() -> None:
    name = sys.argv[1]
    timed = int(sys.argv[2]) if len(sys.argv) > 2 else 5
    channels, mask_classes, weights = HEADS[name]
    torch.manual_seed(0)
    batch, tokens, width, size = 16, 37, 768, 128
    x = torch.randn(batch, width, tokens, tokens)
    targets = (torch.rand(batch, 1) > 0.5).float()
    masks = F.interpolate((torch.rand(batch, 1, 8, 8) > 0.7).float(), size=(size, size), mode="nearest")
    has_mask = torch.ones(batch, dtype=torch.bool)
    kernels = [1] + [3] * (len(channels) - 2) + [1]
    model = PatchHead(width, channels, kernels, 1, mask_classes=mask_classes)
    model.train()
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3, weight_decay=1e-6)

    def step():
        optimizer.zero_grad()
        loss = head_loss(model, x, targets, masks, has_mask, False, weights, size, 31)
        loss.backward()
        optimizer.step()
        return loss.item()

    step()  # warm-up: allocations, oneDNN primitive creation
    times, cpu_times = [], []
    for _ in range(timed):
        start, start_cpu = time.perf_counter(), time.process_time()
        step()
        times.append(time.perf_counter() - start)
        cpu_times.append(time.process_time() - start_cpu)
    times.sort()
    cpu_times.sort()
    print(f"torch patchheads {name} step s: {times[len(times) // 2]:.4f}  ({cpu_times[len(times) // 2]:.4f} CPU s; "
          f"{torch.get_num_threads()} threads, median of {timed})")
    print(f"torch patchheads {name} peak RSS MB: {peak_resident_megabytes():.0f}")


if __name__ == "__main__":
    main()
