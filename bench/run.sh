#!/bin/sh
# Benchmarks against the API emulator (see bench/bench.py for what each one measures).
# Usage: bench/run.sh [fleet] [overhead] [ratelimit]; BENCH_SIZES=50 shortens the fleet benchmark.
set -eu
cd "$(dirname "$0")/.."
exec .venv/bin/python bench/bench.py "$@"
