#!/usr/bin/env bash
# Captures real OpenFlow conversations: Debian's ovs-ofctl (OpenFlow 1.0 and 1.3) talking to a real
# Open vSwitch bridge (ovs-vswitchd, userspace datapath, ptcp:6653 on loopback), recorded with
# tcpdump into ofctl.pcap; the messages of both directions are the corpus of the decoder tests
# and fuzzing. Run as root with openvswitch-switch installed: bash capture.sh (from this folder).
# Open vSwitch must already run with bridge br0 (ports ofa=1, ofb=2) listening on ptcp:6653.
set -u
export OVS_RUNDIR=/tmp/ovs-ofctl-run; mkdir -p "$OVS_RUNDIR"
out=$(pwd)
T=tcp:127.0.0.1:6653
tcpdump -i lo -U -w "$out/ofctl.pcap" 'tcp port 6653' 2>/dev/null &
dump=$!
sleep 1
for O in OpenFlow10 OpenFlow13; do
  of="ovs-ofctl -O $O"
  $of del-flows $T
  $of show $T
  $of add-flows $T ../captures/firewall.flows
  $of add-flow $T "table=2,priority=5,cookie=0x10,idle_timeout=30,hard_timeout=60,send_flow_rem,tcp,nw_src=10.0.0.0/8,tp_dst=80 actions=set_field:46->ip_dscp,mod_nw_ttl:9,load:0x5->NXM_NX_REG0[0..3],resubmit(,3)"
  $of add-flow $T "table=3,priority=7,reg0=5,ct_state=+trk+est,ct_zone=3,ct_mark=0x1/0xf,ct_label=0x2,udp,udp_dst=53 actions=ct(commit,zone=7,exec(set_field:0x3->ct_mark,set_field:0x4/0xff->ct_label)),controller:128,dec_ttl,mod_dl_src:00:11:22:33:44:55,push_vlan:0x8100,set_field:4196->vlan_vid,output:2"
  $of add-flow $T "table=4,priority=1,ipv6,ipv6_src=2001:db8::/32,metadata=0x7 actions=pop_vlan,mod_tp_dst:8080,note:01.02.03,goto_table:5" 2>&1
  $of add-flow $T "table=4,priority=2,arp,arp_op=1,arp_spa=10.0.0.1 actions=move:NXM_OF_ETH_SRC[]->NXM_OF_ETH_DST[],in_port,controller(reason=no_match,max_len=64)"
  $of --strict mod-flows $T "table=0,priority=10,arp actions=NORMAL,controller"
  $of mod-flows $T "table=1,ip actions=drop"
  $of dump-flows $T
  $of dump-flows $T "table=1,in_port=1"
  $of dump-aggregate $T
  $of dump-ports $T
  $of dump-ports $T 1
  $of dump-ports-desc $T
  $of --strict del-flows $T "table=0,priority=10,arp"
  $of del-flows $T "table=1,cookie=0/0,in_port=2"
  $of del-flows $T "cookie=0x10/-1"
  $of replace-flows $T ../captures/firewall.flows
  $of diff-flows $T ../captures/firewall.flows
  $of packet-out $T "in_port=1 packet=ffffffffffff000000000001080600010800060400010000000000010a0000010000000000000a000002 actions=output:2"
  $of packet-out $T "in_port=controller packet=ffffffffffff000000000001080600010800060400010000000000010a0000010000000000000a000002 actions=table"
  $of get-frags $T
  $of monitor $T 65534 > "/tmp/monitor-$O.txt" 2>&1 &
  mon=$!
  sleep 1
  $of packet-out $T "in_port=1 packet=ffffffffffff000000000001080600010800060400010000000000010a0000010000000000000a000002 actions=controller"
  $of add-flow $T "table=9,priority=3,hard_timeout=1,send_flow_rem,cookie=0x99,ip actions=drop"
  sleep 3
  kill $mon; cat "/tmp/monitor-$O.txt"
  $of dump-flows $T
  $of --readd add-flows $T ../captures/firewall.flows
  $of add-flow $T "priority=9,check_overlap,ip actions=drop" ; $of add-flow $T "priority=9,check_overlap,ip actions=drop"
  $of -m add-flow $T "reset_counts,priority=100,ct_state=-trk,ip actions=ct(table=1)"
  $of del-flows $T
  $of dump-flows $T
done
sleep 1
kill $dump
