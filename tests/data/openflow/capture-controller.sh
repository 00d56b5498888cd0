#!/usr/bin/env bash
# Captures Debian's ovs-testcontroller (a learning switch) controlling a real Open vSwitch bridge
# (br0 of capture.sh) while port 1's peer sends an ARP request: testcontroller.pcap, then
# extract.py testcontroller.pcap 6654 > controller-messages.txt. Run as root.
set -u
export OVS_RUNDIR=/tmp/ovs-ofctl-run; mkdir -p "$OVS_RUNDIR"
out=$(pwd)
tcpdump -i lo -U -w "$out/testcontroller.pcap" 'tcp port 6654' 2>/dev/null &
dump=$!
sleep 1
ovs-testcontroller -v ptcp:6654:127.0.0.1 > /tmp/testcontroller.log 2>&1 &
ctl=$!
ovs-vsctl --db=unix:/tmp/ovs/db.sock set-controller br0 tcp:127.0.0.1:6654
sleep 3
/usr/bin/python3 -c "
from scapy.all import *
sendp(Ether(src='00:00:00:00:00:01',dst='ff:ff:ff:ff:ff:ff')/ARP(psrc='10.0.0.1',pdst='10.0.0.2',hwsrc='00:00:00:00:00:01'), iface='ofa-p', verbose=0)
sendp(Ether(src='00:00:00:00:00:02',dst='00:00:00:00:00:01')/ARP(op=2,psrc='10.0.0.2',pdst='10.0.0.1',hwsrc='00:00:00:00:00:02'), iface='ofb-p', verbose=0)
sendp(Ether(src='00:00:00:00:00:01',dst='00:00:00:00:00:02')/IP(src='10.0.0.1',dst='10.0.0.2')/ICMP(), iface='ofa-p', verbose=0)
"
sleep 2
ovs-vsctl --db=unix:/tmp/ovs/db.sock set-controller br0 ptcp:6653:127.0.0.1
sleep 1
kill $ctl $dump
