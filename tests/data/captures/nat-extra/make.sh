#!/usr/bin/env bash
# Rebuild this directory's NAME.pcap from specs/NAME.spec and record Open
# vSwitch's answers in expected/ (verdicts, frames that left each port, the
# conntrack table at the end).  Needs the ovs-oracle tool and Open vSwitch
# (Debian: apt-get install -y openvswitch-switch; or OVS_BUILD=tree).
#   ./make.sh [NAME...]        (default: every specs/*.spec)
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ORACLE=${ORACLE:-$HERE/../../tools/ovs-oracle}
cd "$HERE"
names=("$@")
[ ${#names[@]} -gt 0 ] || names=($(ls specs/*.spec | sed 's|specs/||; s|\.spec$||'))
work=$(mktemp -d /tmp/nat-expected.XXXXXX)
trap '[ -n "${KEEP_WORK:-}" ] && echo "work dir: $work" >&2 || rm -rf "$work"' EXIT
mkdir -p expected
for n in "${names[@]}"; do
    python3 "$ORACLE/mkpcap.py" "specs/$n.spec" "$n.pcap" 2>/dev/null
    "$ORACLE/replay.sh" datapath --time-warp --flows nat-extra.flows \
        --port1-mac 02:00:00:00:00:01 --port2-mac 02:00:00:00:00:02 \
        --tx-frames --out "$work/$n" "$n.pcap" 2>"$work/$n.log" ||
        { cat "$work/$n.log" >&2; exit 1; }
    cp "$work/$n/verdicts.txt" "expected/$n.verdict"
    cp "$work/$n/p1.pcap" "expected/$n.port1.pcap"
    cp "$work/$n/p2.pcap" "expected/$n.port2.pcap"
    sort "$work/$n/conntrack.txt" > "expected/$n.conntrack"
    echo "$n: $(wc -l < "expected/$n.verdict") frames," \
         "$(grep -c -- '-> [0-9]' "expected/$n.verdict") forwarded;" \
         "$(tail -n 1 "$work/$n.log")"
done
