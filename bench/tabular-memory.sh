#!/usr/bin/env bash
# Peak memory of whole `brine` runs on 10 million users (each a separate process, measured by GNU time):
# CSV → Parquet → CSV, and CSV → Avro → CSV. Writes bench/results/tabular-memory.md.
# Usage: bench/tabular-memory.sh [ROWS]
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
rows="${1:-10000000}"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
brine="$here/brine"
"$brine" --help >/dev/null   # build first, so the build is not measured
out="$here/bench/results/tabular-memory.md"
{
  echo "## Peak memory of whole runs, $rows users"
  echo
  echo "Machine: $(nproc) cores; $(date -u +'%Y-%m-%d %H:%M') UTC. Each row is one \`brine\` process; peak is GNU time's maximum resident set size."
  echo
  echo "| step | seconds | peak MB | output MB |"
  echo "| --- | ---: | ---: | ---: |"
} > "$out.tmp"
step() {
  local label="$1" output="$2"; shift 2
  /usr/bin/time -f "%e %M" -o "$work/time" "$@" >/dev/null 2>&1
  read -r secs kb < "$work/time"
  printf '| %s | %s | %d | %.1f |\n' "$label" "$secs" $((kb / 1024)) "$(echo "$(stat -c %s "$output") / 1000000" | bc -l)" >> "$out.tmp"
}
step "fake users → CSV" "$work/u.csv" "$brine" fake users -n "$rows" -o "$work/u.csv"
step "CSV → Parquet (snappy)" "$work/u.parquet" "$brine" convert "$work/u.csv" "$work/u.parquet"
step "Parquet → CSV" "$work/back.csv" "$brine" convert "$work/u.parquet" "$work/back.csv"
step "CSV → Avro (deflate)" "$work/u.avro" "$brine" convert "$work/u.csv" "$work/u.avro"
step "Avro → CSV" "$work/back2.csv" "$brine" convert "$work/u.avro" "$work/back2.csv"
step "Parquet → JSON Lines, language = 'fr', id,name" "$work/fr.jsonl" "$brine" convert "$work/u.parquet" "$work/fr.jsonl" --where "language = 'fr'" --select id,name
cmp -s "$work/u.csv" "$work/back.csv" && echo "CSV → Parquet → CSV gave the same bytes." >> "$out.tmp" || echo "CSV → Parquet → CSV differs!" >> "$out.tmp"
mv "$out.tmp" "$out"
cat "$out"
