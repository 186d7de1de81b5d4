#!/usr/bin/env bash
# The invoice-pdf benches and the peers they are compared with (../shared/bench), in one run, so
# the ratios hold on a noisy machine. Writes everything to $PEER_BENCH/pdf-run-<time>.log.
#
#   PEER_BENCH=../peer-bench invoice-pdf/benches/peers.sh      # from the repository root
#
# Needs the peers' setup done once (`BENCH_DIR=$PEER_BENCH ../shared/bench/bench.sh setup`) and
# fonts-droid-fallback for the dataset's Japanese names, hyperfine, qpdf, reportlab and pypdf.
# RUNS (default 3) is the peers' run count.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
PEER_BENCH=$(cd "${PEER_BENCH:-$ROOT/../peer-bench}" && pwd)
SHARED=$(cd "${SHARED_BENCH:-$ROOT/../shared/bench}" && pwd)
export PEER_BENCH RUNS=${RUNS:-3}
LOG=$PEER_BENCH/pdf-run-$(date -u +%Y%m%dT%H%M%S).log
{
  echo "== $(date -u) $(nproc) cores; load: $(cut -d' ' -f1-3 /proc/loadavg)"
  BENCH_DIR=$PEER_BENCH ONLY='render_reportlab_dejavu' "$SHARED/bench.sh" render
  BENCH_DIR=$PEER_BENCH ONLY='merge_(qpdf|pypdf|pdflib)' "$SHARED/bench.sh" merge
  BENCH_DIR=$PEER_BENCH ONLY='zip_python' "$SHARED/bench.sh" zip
  echo "== load: $(cut -d' ' -f1-3 /proc/loadavg)"
  (cd "$ROOT" && cargo bench -p invoice-pdf --bench render --bench backup --bench zip --bench memory)
  echo "== load: $(cut -d' ' -f1-3 /proc/loadavg)"
  (cd "$PEER_BENCH" && python3 "$SHARED/summarize.py") || true
  for f in "$PEER_BENCH"/out/results/*.json; do
    python3 -c "import json,sys; r=json.load(open(sys.argv[1]))['results'][0]; print(f\"{r['command']}: median {r['median']:.3f} s, user {r['user']:.3f} s, sys {r['system']:.3f} s\")" "$f"
  done
} 2>&1 | tee "$LOG"
echo "log: $LOG"
