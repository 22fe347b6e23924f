"""PyTorch side of `make bench BENCH=dense`: one training iteration of each segmentation decoder.

The modules are the parity references of scripts/fixtures/segmentation_decoders.py (DINOv2's linear
head; mmsegmentation's ViT + UPerNet at its paper width, neck 768, head 512 channels, Dropout2d 0.1),
on ViT-B/14 tokens of 518-px images: batch 8, 37x37x768 tokens (four layers for UPerNet), 4 classes,
sigmoid Dice at mask resolution 518. An iteration is zero_grad, forward, loss, backward and an Adam
step (lr 1e-4), in float32 on the CPU with torch's default threads.

Usage: python scripts/bench/torch_dense.py linear|upernet [timed iterations]
Prints `torch dense <decoder> iteration s: <median wall seconds>` (with CPU seconds) and `torch dense <decoder> peak RSS MB: <peak>`;
run one decoder per process, so that the peak is that decoder's.
"""
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "fixtures"))
from segmentation_decoders import LinearHead, UPerNet, segmentation_loss  # noqa: E402


def main() -> None:
    decoder = sys.argv[1]
    timed = int(sys.argv[2]) if len(sys.argv) > 2 else (3 if decoder == "linear" else 1)
    torch.manual_seed(0)
    batch, tokens, width, classes, size = 8, 37, 768, 4, 518
    layer_count = 1 if decoder == "linear" else 4
    layers = [torch.randn(batch, width, tokens, tokens) for _ in range(layer_count)]
    masks = (torch.rand(batch, classes, size, size) > 0.7).float()
    model = LinearHead(width, classes) if decoder == "linear" else UPerNet(width, width, 512, classes, dropout=0.1)
    model.train()
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-4)

    def iteration():
        optimizer.zero_grad()
        loss = segmentation_loss(model(layers), masks, "sigmoid")
        loss.backward()
        optimizer.step()
        return loss.item()

    iteration()  # warm-up: allocations, oneDNN primitive creation
    times, cpu_times = [], []
    for _ in range(timed):
        start, start_cpu = time.perf_counter(), time.process_time()
        iteration()
        times.append(time.perf_counter() - start)
        cpu_times.append(time.process_time() - start_cpu)
    times.sort()
    cpu_times.sort()
    print(f"torch dense {decoder} iteration s: {times[len(times) // 2]:.4f}  ({cpu_times[len(times) // 2]:.4f} CPU s; "
          f"{torch.get_num_threads()} threads, median of {timed})")
    print(f"torch dense {decoder} peak RSS MB: {peak_resident_megabytes():.0f}")


def peak_resident_megabytes():
    """VmHWM of this process. Not ru_maxrss: Linux carries that over from the parent through
    fork and exec, so a child of the (large) xrbench bench would report the bench's peak."""
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return float("nan")


if __name__ == "__main__":
    main()
