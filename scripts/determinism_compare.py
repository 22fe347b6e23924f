"""Compares the demo's recorded values across configurations (written by scripts/determinism.sh).

Usage: python3 scripts/determinism_compare.py REFERENCE_FOLDER OTHER_FOLDER...

Each folder holds results.csv (latest_result), replicates.csv (latest_bootstrap_replicate),
tests.csv (latest_statistical_test), embeddings.sha256 and out/tables/*.md. For every other
configuration it prints how many values differ from the reference, the largest absolute
difference, and, for values with a seed, that difference beside the standard deviation over the
seeds of the same cell (sample, n - 1). Standard library only; prints Markdown.
"""
import csv
import math
import pathlib
import statistics
import sys

COORDINATES = ["task", "backbone", "dataset", "head", "features", "fraction", "seed", "shots",
               "train_subgroup", "test_subgroup", "label", "metric"]


def read_values(path, key_columns, value_columns):
    """{key tuple: {value column: float or None}} from a CSV of xrbench query."""
    rows = {}
    with open(path, newline="") as handle:
        for row in csv.DictReader(handle):
            key = tuple(row[c] for c in key_columns)
            rows[key] = {c: (float(row[c]) if row[c] not in ("", None) else None) for c in value_columns}
    return rows


def table_cells(folder):
    """{(table, row, column): text} of every Markdown table the demo rendered."""
    cells = {}
    for table in sorted((folder / "out" / "tables").glob("*.md")):
        lines = [line for line in table.read_text().splitlines() if line.startswith("|")]
        if len(lines) < 3:
            continue
        header = [c.strip() for c in lines[0].strip("|").split("|")]
        for line in lines[2:]:
            values = [c.strip() for c in line.strip("|").split("|")]
            for column, value in zip(header[1:], values[1:]):
                cells[(table.stem, values[0], column)] = value
    return cells


def digests(folder):
    """{embedding file: SHA-256} from embeddings.sha256 (sha256sum's output)."""
    lines = (folder / "embeddings.sha256").read_text().splitlines()
    return {line.split()[1]: line.split()[0] for line in lines if line.strip()}


def seed_groups(results):
    """{cell key without seed: values over its seeds} for values with a seed."""
    groups = {}
    seed_index = COORDINATES.index("seed")
    for key, values in results.items():
        if key[seed_index] == "" or values["value"] is None:
            continue
        cell = key[:seed_index] + key[seed_index + 1:]
        groups.setdefault(cell, []).append(values["value"])
    return groups


def seed_spread(results):
    """{cell key without seed: sample std over its seeds} for cells with at least two seeds."""
    return {cell: statistics.stdev(v) for cell, v in seed_groups(results).items() if len(v) >= 2}


def largest_mean_shift(reference, other, spread):
    """The largest |difference of a cell's mean over seeds| / that cell's seed std (reference)."""
    ref_groups, other_groups = seed_groups(reference), seed_groups(other)
    ratios = [abs(statistics.mean(other_groups[cell]) - statistics.mean(values)) / spread[cell]
              for cell, values in ref_groups.items()
              if cell in other_groups and spread.get(cell) and len(other_groups[cell]) == len(values)]
    return max(ratios, default=0.0)


def differences(reference, other, column):
    """[(key, reference value, other value, |difference|)] where the values differ."""
    found = []
    for key in sorted(set(reference) | set(other)):
        a = reference.get(key, {}).get(column)
        b = other.get(key, {}).get(column)
        if a == b:
            continue
        gap = abs(a - b) if a is not None and b is not None else math.inf
        found.append((key, a, b, gap))
    return found


def describe(key):
    named = dict(zip(COORDINATES, key))
    parts = [named["task"], named["backbone"], named["features"]]
    if named["fraction"]:
        parts.append(f"{float(named['fraction']):.0%}")
    if named["seed"]:
        parts.append(f"seed {named['seed']}")
    if named["train_subgroup"] not in ("", "all") or named["test_subgroup"] not in ("", "all"):
        parts.append(f"{named['train_subgroup']}→{named['test_subgroup']}")
    parts += [named["label"], named["metric"]]
    return " ".join(p for p in parts if p)


def main(folders):
    folders = [pathlib.Path(f) for f in folders]
    reference = folders[0]
    machine = (reference.parent / "machine.txt")
    print("# Determinism of the demo across build targets and OpenBLAS kernels\n")
    if machine.exists():
        print("Machine: " + "; ".join(line.strip() for line in machine.read_text().splitlines()) + "\n")
    print(f"Reference: `{reference.name}`. A configuration is `TARGET_CPU+OPENBLAS_CORETYPE`.\n")
    ref_results = read_values(reference / "results.csv", COORDINATES, ["value"])
    ref_replicates = read_values(reference / "replicates.csv", COORDINATES + ["replicate"], ["value"])
    test_keys = COORDINATES + ["compared_dimension", "group1", "group2"]
    test_values = ["statistic", "p_value", "holm_p_value", "effect_size"]
    ref_tests = read_values(reference / "tests.csv", test_keys, test_values)
    ref_cells = table_cells(reference)
    ref_embeddings = digests(reference)
    spread = seed_spread(ref_results)
    seed_index = COORDINATES.index("seed")
    print("| configuration | embedding files identical | results differing | largest abs. difference | "
          "largest difference / seed std | largest cell-mean shift / seed std | table cells differing | bootstrap replicates differing | "
          "test statistics differing |")
    print("|---|---|---|---|---|---|---|---|---|")
    details = []
    for folder in folders[1:]:
        results = read_values(folder / "results.csv", COORDINATES, ["value"])
        found = differences(ref_results, results, "value")
        largest = max((d[3] for d in found), default=0.0)
        ratios = []
        for key, a, b, gap in found:
            if key[seed_index] == "":
                continue
            cell = key[:seed_index] + key[seed_index + 1:]
            if spread.get(cell):
                ratios.append(gap / spread[cell])
        replicates = differences(ref_replicates, read_values(folder / "replicates.csv", COORDINATES + ["replicate"], ["value"]), "value")
        other_tests = read_values(folder / "tests.csv", test_keys, test_values)
        test_rows = {d[0] for column in test_values for d in differences(ref_tests, other_tests, column)}
        cells = table_cells(folder)
        cell_changes = sorted(k for k in set(ref_cells) | set(cells) if ref_cells.get(k) != cells.get(k))
        embeddings = digests(folder)
        same_embeddings = sum(embeddings.get(path) == digest for path, digest in ref_embeddings.items())
        total_embeddings = len(ref_embeddings)
        ratio_text = f"{max(ratios):.2f}" if ratios else "–"
        print(f"| `{folder.name}` | {same_embeddings} of {total_embeddings} | {len(found)} of {len(ref_results)} | "
              f"{largest:.6g} | {ratio_text} | {largest_mean_shift(ref_results, results, spread):.2f} | "
              f"{len(cell_changes)} of {len(ref_cells)} | "
              f"{len(replicates)} of {len(ref_replicates)} | {len(test_rows)} of {len(ref_tests)} |")
        details.append((folder, found, cell_changes, cells, spread))
    for folder, found, cell_changes, cells, spread in details:
        if not found and not cell_changes:
            continue
        print(f"\n## `{folder.name}`\n")
        print("| value | reference | this | abs. difference | seed std of the cell |")
        print("|---|---|---|---|---|")
        for key, a, b, gap in sorted(found, key=lambda d: -d[3]):
            cell = key[:seed_index] + key[seed_index + 1:]
            std = spread.get(cell) if key[seed_index] != "" else None
            std_text = f"{std:.4g}" if std is not None else "– (no seeds)"
            print(f"| {describe(key)} | {a!r} | {b!r} | {gap:.3g} | {std_text} |")
        if cell_changes:
            print("\n| table cell | reference | this |")
            print("|---|---|---|")
            for table, row, column in cell_changes:
                print(f"| {table} / {row} / {column} | {ref_cells.get((table, row, column))} | {cells.get((table, row, column))} |")


if __name__ == "__main__":
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    main(sys.argv[1:])
