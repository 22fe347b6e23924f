#!/usr/bin/env bash
# What of the demo's results varies with the build target and OpenBLAS's kernels, on this machine.
#
# For each build target (TARGET_CPU, as the Makefile takes it) and each OPENBLAS_CORETYPE, runs
# the demo (Experiments/demo.yaml) into a cache and database of its own, renders its tables, and
# dumps every recorded value; scripts/determinism_compare.py then compares each configuration
# with the first, value by value, and sets the differences beside the seed-to-seed spread.
#
#   scripts/determinism.sh [OUT]          # default OUT: .xrbench/determinism
#
#   TARGETS="skylake-avx512 haswell"      build targets; a target other than the Makefile's
#                                         default builds into .build-TARGET
#   CORETYPES="SkylakeX Cooperlake Zen Haswell Prescott"
#                                         OpenBLAS kernels per target ("auto": what xrbench
#                                         picks by itself, BLASBackend.pinnedCoreType)
#   CORETYPES_haswell="SkylakeX Haswell"  kernels for one target (overrides CORETYPES)
#
# The first target's first core type is the reference. A configuration whose results are
# already in OUT is not run again (delete its folder to redo it). Takes ~2 minutes of 2 cores
# per configuration, plus a release build per target.
set -euo pipefail
cd "$(dirname "$0")/.."
out="${1:-.xrbench/determinism}"
default_target="$(make -s swiftflags | sed -n 's/.*-target-cpu -Xswiftc \([^ ]*\).*/\1/p')"
targets="${TARGETS:-$default_target haswell}"
mkdir -p "$out"
grep -m4 -E '^(vendor_id|cpu family|model|model name)[[:space:]]*:' /proc/cpuinfo > "$out/machine.txt" || true

configurations=()
for target in $targets; do
  if [ "$target" = "$default_target" ]; then scratch=.build; else scratch=".build-$target"; fi
  echo "determinism: building for $target into $scratch"
  # shellcheck disable=SC2046
  swift build -c release --product xrbench --scratch-path "$scratch" $(make -s swiftflags TARGET_CPU="$target")
  binary="$scratch/release/xrbench"
  variable="CORETYPES_${target//-/_}"
  for coretype in ${!variable:-${CORETYPES:-SkylakeX Cooperlake Zen Haswell Prescott}}; do
    name="$target+$coretype"
    folder="$out/$name"
    configurations+=("$folder")
    if [ -s "$folder/results.csv" ]; then echo "determinism: $name already measured"; continue; fi
    rm -rf "$folder" && mkdir -p "$folder"
    echo "determinism: running the demo as $name"
    if [ "$coretype" = auto ]; then env=(env -u OPENBLAS_CORETYPE); else env=(env OPENBLAS_CORETYPE="$coretype"); fi
    "${env[@]}" "$binary" run Experiments/demo.yaml --cache "$folder/cache" --db "$folder/xrbench.sqlite" --quiet \
      > "$folder/run.log" 2>&1 || { cat "$folder/run.log"; exit 1; }
    "$binary" tables --db "$folder/xrbench.sqlite" --out "$folder/out" --spec Experiments/demo.yaml \
      --cache "$folder/cache" > "$folder/tables.log"
    coordinates="task, backbone, dataset, head, features, fraction, seed, shots, train_subgroup, test_subgroup, label, metric"
    "$binary" query --db "$folder/xrbench.sqlite" --format csv \
      "SELECT $coordinates, value FROM latest_result ORDER BY $coordinates" > "$folder/results.csv.tmp"
    "$binary" query --db "$folder/xrbench.sqlite" --format csv \
      "SELECT $coordinates, replicate, value FROM latest_bootstrap_replicate ORDER BY $coordinates, replicate" > "$folder/replicates.csv"
    "$binary" query --db "$folder/xrbench.sqlite" --format csv \
      "SELECT $coordinates, compared_dimension, group1, group2, statistic, p_value, holm_p_value, effect_size
       FROM latest_statistical_test ORDER BY $coordinates, compared_dimension, group1, group2" > "$folder/tests.csv"
    mv "$folder/results.csv.tmp" "$folder/results.csv"
  done
done
for folder in "${configurations[@]}"; do
  # The embeddings: one file per embed stage, or shards of rows keyed by image content.
  (cd "$folder/cache" && find embed embedding-shard \( -name embeddings.safetensors -o -name rows.safetensors \) 2>/dev/null \
    | sort | xargs -r sha256sum) > "$folder/embeddings.sha256"
done
python3 scripts/determinism_compare.py "${configurations[@]}" | tee "$out/report.md"
