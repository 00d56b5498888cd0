#!/usr/bin/env bash
# Our side of issue 6's benchmark: `bench --matrix` in Release, UDP by default: N = 1, 100, 10000,
# 1000000 connections x 1 and 2 PMDs x bypass off/on, 5 alternating runs each (80 runs, each on a
# fresh actor system), medians and on/off ratios as a table, bench-matrix.json and
# bench-matrix.png in $OUT. About 10 minutes with the defaults on a 2-core machine.
# Environment: OUT (default /tmp/bench-matrix), DURATION (2 s per run), WARMUP (1 s), REPS (5),
# CONNECTIONS ("1,100,10000,1000000"), PMDS ("1,2"), PROTOCOL (udp); extra arguments go to bench.
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
out=${OUT:-/tmp/bench-matrix}
dotnet build -c Release "$repo/src/Bench/Bench.csproj" 2>&1 | grep -E "error|Build succeeded"
dotnet "$repo/src/Bench/bin/Release/net10.0/ovs-actors-bench.dll" bench --matrix \
  --protocol "${PROTOCOL:-udp}" --connections-list "${CONNECTIONS:-1,100,10000,1000000}" --pmds-list "${PMDS:-1,2}" \
  --reps "${REPS:-5}" --duration "${DURATION:-2}" --warmup "${WARMUP:-1}" --out "$out" "$@"
