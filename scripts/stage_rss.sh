#!/usr/bin/env bash
# Peak RSS of each stage of a spec in a process of its own, and of the whole run: what the
# README's "embedding store" section reports beside `make bench BENCH=store`.
#
#   scripts/stage_rss.sh SPEC [XRBENCH]      # default XRBENCH: .build/release/xrbench
#
# Plans SPEC into a fresh cache in a temporary folder, then runs every stage to run, in plan
# order, with `xrbench stage run KEY` under GNU time (maximum resident set size), and finally
# the whole spec with `xrbench run` into another fresh cache. Prints one line per stage
# (`kind MB seconds`) and one for the whole run.
set -euo pipefail
spec=$(realpath "$1")
xrbench=$(realpath "${2:-.build/release/xrbench}")
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work"
cp "$spec" spec.yaml
"$xrbench" plan spec.yaml --cache stages --db stages.sqlite 2>/dev/null | awk '$1 == "to" && $2 == "run" { print $3, $4 }' |
while read -r kind key; do
  /usr/bin/time -f "%M %e" -o time.txt "$xrbench" stage run "$key" --cache stages --db stages.sqlite >/dev/null
  read -r kilobytes seconds < time.txt
  printf '%-10s %6.1f MB %7.2f s\n' "$kind" "$(echo "$kilobytes / 1000" | bc -l)" "$seconds"
done
/usr/bin/time -f "%M %e" -o time.txt "$xrbench" run spec.yaml --cache whole --db whole.sqlite >/dev/null 2>&1
read -r kilobytes seconds < time.txt
printf '%-10s %6.1f MB %7.2f s\n' "whole run" "$(echo "$kilobytes / 1000" | bc -l)" "$seconds"
