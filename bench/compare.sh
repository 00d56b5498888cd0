#!/usr/bin/env bash
# Issue 6's measurement in one go, for a quiet machine: the Open vSwitch + DPDK reference
# (bench/reference.sh, ~4 min) and then ours (bench/ours.sh, ~10 min), back to back, then our
# 1-PMD medians as ratios of the reference's at the same N. Environment as the two scripts.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
export OVSBENCH_DIR=${OVSBENCH_DIR:-/tmp/ovsbench-ref}
export OUT=${OUT:-/tmp/bench-matrix}
bash "$here/reference.sh"
bash "$here/ours.sh"
python3 - "$OVSBENCH_DIR/reference-medians.json" "$OUT/bench-matrix.json" <<'PY'
import json, sys
ref = {r["connections"]: r["mpps"] for r in json.load(open(sys.argv[1])) if r["emc_prob"] is None}
cells = [c for c in json.load(open(sys.argv[2]))["cells"] if c["pmds"] == 1]
print(f"{'N':>8} {'OVS-DPDK Mpps':>14} {'ours off':>9} {'ours on':>8} {'on/off':>7} {'off/OVS':>8} {'on/OVS':>7}")
for c in cells:
    o = ref.get(c["connections"])
    r = lambda v: f"{v / o:.2f}" if o else "-"
    print(f"{c['connections']:8} {o if o else float('nan'):14.2f} {c['off_mpps']:9.2f} {c['on_mpps']:8.2f} {c['ratio']:6.2f}x {r(c['off_mpps']):>8} {r(c['on_mpps']):>7}")
PY
