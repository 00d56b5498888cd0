#!/usr/bin/env bash
# One ovs-ofctl session in OpenFlow 1.0 and 1.3 against TARGET (bash ofctl-session.sh TARGET): adds,
# modifies, dumps, deletes, replaces and diffs flows. ofctl-session.expected is what it printed
# against Open vSwitch 3.1.0 (ovs-vswitchd, userspace datapath); the OpenFlow tests run it against
# this switch and compare (lines sorted: Open vSwitch orders equal-priority flows its own way).
T=$1
F=$(dirname "$0")/../captures/firewall.flows
for O in OpenFlow10 OpenFlow13; do
  of="timeout 10 ovs-ofctl -O $O"
  echo "=== $O"
  $of del-flows $T
  $of add-flows $T $F
  $of add-flow $T "table=2,priority=5,cookie=0x10,idle_timeout=30,hard_timeout=60,send_flow_rem,tcp,nw_src=10.0.0.0/8,tp_dst=80 actions=set_field:46->ip_dscp,mod_nw_ttl:9,load:0x5->NXM_NX_REG0[0..3],resubmit(,3)"
  $of add-flow $T "table=3,priority=7,reg0=5,ct_state=+trk+est,ct_zone=3,ct_mark=0x1/0xf,ct_label=0x2,udp,udp_dst=53 actions=ct(commit,zone=7,exec(set_field:0x3->ct_mark,set_field:0x4/0xff->ct_label)),controller:128,dec_ttl,mod_dl_src:00:11:22:33:44:55,push_vlan:0x8100,set_field:4196->vlan_vid,output:2"
  $of add-flow $T "table=4,priority=2,arp,arp_op=1,arp_spa=10.0.0.1 actions=move:NXM_OF_ETH_SRC[]->NXM_OF_ETH_DST[],in_port,controller(reason=no_match,max_len=64)"
  $of add-flow $T "table=5,priority=3,ipv6,ipv6_src=2001:db8::/32,metadata=0x7,tcp6,tp_dst=22 actions=pop_vlan,mod_tp_dst:8080,note:01.02.03,goto_table:6"
  $of add-flow $T "table=6,priority=4,icmp,icmp_type=8,nw_ttl=3,nw_ecn=1,vlan_tci=0x1000/0x1000 actions=mod_vlan_vid:5,mod_vlan_pcp:3,strip_vlan,exit"
  $of --strict mod-flows $T "table=0,priority=10,arp actions=NORMAL,controller"
  $of mod-flows $T "table=1,ip actions=drop"
  $of --no-stats dump-flows $T
  $of --no-stats dump-flows $T "table=1,in_port=1"
  $of --strict del-flows $T "table=0,priority=10,arp"
  $of del-flows $T "table=1,in_port=2"
  $of del-flows $T "cookie=0x10/-1"
  $of --no-stats dump-flows $T
  $of replace-flows $T $F
  $of diff-flows $T $F && echo same
  $of add-flow $T "priority=9,check_overlap,ip actions=drop"; $of add-flow $T "priority=9,check_overlap,ip,nw_src=1.2.3.4 actions=drop"
  $of del-flows $T
  $of --no-stats dump-flows $T
done 2>&1
