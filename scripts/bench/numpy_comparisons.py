"""The NumPy / scikit-learn side of `make bench` section `comparisons`: the usual Python way of
running a DeLong test (the fast midrank algorithm of Sun & Xu, with scipy.stats.rankdata) and a
paired bootstrap of an AUROC difference (resample indices with numpy, score each replicate with
sklearn.metrics.roc_auc_score), on the same sizes as Sources/xrbench-bench/ComparisonBench.swift.

Prints lines the bench parses:
  numpy delong 20000: <ms> ms
  sklearn paired bootstrap 1000x20000: <s> s
"""
import time

import numpy as np
from scipy.stats import rankdata
from sklearn.metrics import roc_auc_score

rng = np.random.default_rng(7)
n = 20_000
targets = (rng.random(n) < 0.3).astype(float)
shared = rng.normal(size=n)
first = np.round(shared + 0.8 * targets + 0.5 * rng.normal(size=n), 3)
second = np.round(shared + 0.7 * targets + 0.5 * rng.normal(size=n), 3)


def delong(targets, first, second):
    positive = targets == 1
    m, k = positive.sum(), (~positive).sum()
    v10, v01, aucs = [], [], []
    for scores in (first, second):
        x, y = scores[positive], scores[~positive]
        tx, ty, tz = rankdata(x), rankdata(y), rankdata(np.concatenate([x, y]))
        aucs.append((tz[:m].sum() - m * (m + 1) / 2) / (m * k))
        v10.append((tz[:m] - tx) / k)
        v01.append(1 - (tz[m:] - ty) / m)
    s = np.cov(v10) / m + np.cov(v01) / k
    return (aucs[0] - aucs[1]) / np.sqrt(s[0, 0] + s[1, 1] - 2 * s[0, 1])


times = []
for _ in range(5):
    start = time.perf_counter()
    delong(targets, first, second)
    times.append(time.perf_counter() - start)
print(f"numpy delong {n}: {min(times) * 1000:.1f} ms")

patients = np.arange(n) // 2
start = time.perf_counter()
differences = []
for r in range(1000):
    drawn = rng.integers(0, n // 2, n // 2)
    rows = (2 * drawn[:, None] + np.arange(2)[None, :]).ravel()
    differences.append(roc_auc_score(targets[rows], first[rows]) - roc_auc_score(targets[rows], second[rows]))
elapsed = time.perf_counter() - start
print(f"sklearn paired bootstrap 1000x{n}: {elapsed:.2f} s")
