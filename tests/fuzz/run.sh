#!/usr/bin/env bash
# Runs one libFuzzer target for a bounded time from a copy of its seed corpus.
# usage: run.sh FUZZER SEED_DIR SECONDS
set -euo pipefail
fuzzer=$1 seeds=$2 seconds=$3
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/corpus"
if [ -d "$seeds" ]; then cp -r "$seeds"/. "$work/corpus/"; fi
cd "$work"
exec "$fuzzer" -max_total_time="$seconds" -max_len=70000 -rss_limit_mb=2048 \
	-print_final_stats=1 corpus
