#!/usr/bin/env bash
# The reference of issue 6: Open vSwitch 3.1 with DPDK (Debian's openvswitch-switch-dpdk, one PMD
# on core 1, net_pcap ports looping 64-byte UDP pcaps from memory) on the firewall of DESIGN.md,
# N = 1, 100, 10000 bidirectional connections, REPS reps each; prints the medians (totals of both
# ports) and writes them to $OVSBENCH_DIR/reference-medians.json.
#
# Reuses ../shared/tools/ovs-dpdk-bench as it is (its bench.py, start.sh, stop.sh, mkpcap.py,
# flows_ct.txt): they are linked, not copied, into a writable work folder, where the pcaps, the
# sandbox and the results go. Needs root and, once:
#   apt-get update && apt-get install -y openvswitch-switch-dpdk python3-scapy dpdk
# Takes about 75 s per N with the defaults (5 reps of 10 s after a 10 s warm-up): ~4 minutes.
# Environment: OVSBENCH_DIR (work folder, default /tmp/ovsbench-ref), REPS (5), WARMUP (10),
# DUR (10), NS ("1 100 10000"), EMC_OFF=1 adds N=10000 with emc-insert-inv-prob=0 (no EMC).
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
tool=${OVS_TOOL:-$repo/../shared/tools/ovs-dpdk-bench}
export OVSBENCH_DIR=${OVSBENCH_DIR:-/tmp/ovsbench-ref}
reps=${REPS:-5}
warmup=${WARMUP:-10}
dur=${DUR:-10}
ns=${NS:-1 100 10000}

[ -f "$tool/bench.py" ] || { echo "reference.sh: no $tool/bench.py (set OVS_TOOL)" >&2; exit 2; }
command -v ovs-vsctl >/dev/null && [ -x /usr/lib/openvswitch-switch-dpdk/ovs-vswitchd-dpdk ] || {
  echo "reference.sh: install first: apt-get update && apt-get install -y openvswitch-switch-dpdk python3-scapy dpdk" >&2; exit 2; }

mkdir -p "$OVSBENCH_DIR"
for f in start.sh stop.sh env.sh flows_ct.txt; do ln -sf "$tool/$f" "$OVSBENCH_DIR/$f"; done
names=()
for n in $ns; do
  [ -f "$OVSBENCH_DIR/a2b_$n.pcap" ] || python3 "$tool/mkpcap.py" "$n" "$OVSBENCH_DIR"
  rm -rf "$OVSBENCH_DIR/results/ref_ct_n$n"
  python3 "$tool/bench.py" "ref_ct_n$n" flows_ct.txt "$n" --reps "$reps" --warmup "$warmup" --dur "$dur"
  names+=("ref_ct_n$n")
done
if [ "${EMC_OFF:-0}" = 1 ]; then
  [ -f "$OVSBENCH_DIR/a2b_10000.pcap" ] || python3 "$tool/mkpcap.py" 10000 "$OVSBENCH_DIR"
  rm -rf "$OVSBENCH_DIR/results/ref_ct_n10000_emcoff"
  python3 "$tool/bench.py" ref_ct_n10000_emcoff flows_ct.txt 10000 --emc-prob 0 --reps "$reps" --warmup "$warmup" --dur "$dur"
  names+=("ref_ct_n10000_emcoff")
fi

python3 - "$OVSBENCH_DIR" "${names[@]}" <<'PY'
import json, statistics as st, sys
base, names = sys.argv[1], sys.argv[2:]
rows = []
print(f"{'run':24} {'N':>6} {'Mpps rx':>8} {'Mpps fwd':>9} {'range rx':>13} {'emc%':>6} {'cyc/pkt':>8} {'pmd run% min':>12}")
for name in names:
    s = json.load(open(f"{base}/results/{name}/summary.json"))
    runs, n = s["runs"], s["args"]["n"]
    med = lambda k: st.median(r[k] for r in runs)
    rx = [r["total_rx_Mpps"] for r in runs]
    row = dict(name=name, connections=n, emc_prob=s["args"]["emc_prob"], reps=len(runs), mpps=med("total_rx_Mpps"),
               fwd_mpps=med("total_fwd_Mpps"), emc_pct=med("emc_pct"), cyc_per_pkt=med("cyc_per_pkt"),
               min_pmd_run_pct=min(r["pmd_run_pct"] for r in runs), runs_mpps=rx)
    rows.append(row)
    print(f"{name:24} {n:6} {row['mpps']:8.2f} {row['fwd_mpps']:9.2f} {min(rx):6.2f}-{max(rx):6.2f} {row['emc_pct']:6.1f} {row['cyc_per_pkt']:8.1f} {row['min_pmd_run_pct']:12.1f}")
json.dump(rows, open(f"{base}/reference-medians.json", "w"), indent=1)
print(f"(pmd run% well under 100 means the PMD core was shared: a noisy machine)\nwrote {base}/reference-medians.json")
PY
