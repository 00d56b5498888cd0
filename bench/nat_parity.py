#!/usr/bin/python3
"""Issue 13's measurement: the firewall plain and with SNAT, ours (bypass off and on) beside Open vSwitch
with DPDK on the same flow tables and the same frames, runs alternating. The sibling of bench/parity.py.

Per rep and N (UDP, 64-byte frames, 1 PMD), in an order that rotates from rep to rep, the cells:
  ovs-plain   Open vSwitch with DPDK (bench/ovs_dpdk.py: one PMD busy-polling core 1), hocon/firewall.flows
  ovs-snat    the same, bench/flows_ct_snat.txt (the table `bench --nat snat` embeds)
  plain-off   ours, `bench --json`, the whole process confined to core 1 (taskset -c 1), bypass off
  plain-on    the same, bypass on
  snat-off    ours, `bench --json --nat snat`, core 1, bypass off
  snat-on     the same, bypass on
Open vSwitch's ports loop the captures of `ovs-actors-bench reference-pcaps` (our bench's frames byte for
byte; behind the SNAT the server answers the translated address), so both sides see the same traffic.

Every run is checked, not only timed: Open vSwitch's conntrack must hold N entries (with SNAT: N whose
reply tuple goes to the translated address) and each port must have transmitted what the other received
(the replies forwarded, not dropped); ours must report no drop and no invalid packet, as many packets
transmitted as received, and bypass hits when the bypass is on. A run that fails its check is reported
and left out of the medians.

Open vSwitch's memory per connection: its malloc heap in use (bench/ovs_dpdk.py --heap) grows by
D(N) between the installed flows and the end of a run; (D(N max) - D(N min)) / (N max - N min), per
table, is printed with the medians.

--lock FILE wraps every run in `flock FILE` (a machine shared with other measurements); bench/benchrun.py
holds what this script shares with bench/parity.py.
Needs root, openvswitch-switch-dpdk, dpdk and gdb for the reference (--skip-ovs runs ours only).
About 75 s per N and rep.
"""
import argparse, json, os, subprocess, sys

from benchrun import REPO as repo, DLL as dll, bench_json, build, check_ovs_dpdk, common_args, fmt, locked, numbers, ratio, Record

SNAT_ADDRESS = '192.0.2.100'
FLOWS = {'plain': os.path.join(repo, 'hocon/firewall.flows'), 'snat': os.path.join(repo, 'bench/flows_ct_snat.txt')}
CELLS = ['ovs-plain', 'ovs-snat', 'plain-off', 'plain-on', 'snat-off', 'snat-on']

ap = argparse.ArgumentParser()
common_args(ap, ns='100,10000', out='/tmp/nat-parity')
ap.add_argument('--ovs-duration', type=float, default=4)
ap.add_argument('--cells', default=','.join(CELLS))
a = ap.parse_args()

ns = numbers(a.ns)
cells = [c for c in a.cells.split(',') if c and not (a.skip_ovs and c.startswith('ovs'))]
unknown = set(cells) - set(CELLS)
if unknown:
    sys.exit(f'nat_parity.py: unknown cells {sorted(unknown)}; known: {CELLS}')
record = Record(a, 'nat-parity.json')


def pcaps(table, n):
    folder = os.path.join(a.out, 'pcaps', table)
    if not os.path.exists(os.path.join(folder, f'b2a_{n}.pcap')):
        nat = ['--nat', 'snat'] if table == 'snat' else []
        subprocess.run(['dotnet', dll, 'reference-pcaps', '--connections', str(n), '--out', folder, *nat], check=True, capture_output=True)
    return os.path.join(folder, f'a2b_{n}.pcap'), os.path.join(folder, f'b2a_{n}.pcap')


def ovs(table, n):
    a2b, b2a = pcaps(table, n)
    cmd = locked(a) + [sys.executable, os.path.join(repo, 'bench/ovs_dpdk.py'), '--flows', FLOWS[table], '--a2b', a2b, '--b2a', b2a,
                    '--dir', os.path.join(a.out, 'ovs'), '--warmup', str(a.ovs_warmup), '--dur', str(a.ovs_duration), '--heap']
    if table == 'snat':
        cmd += ['--snat', SNAT_ADDRESS]
    r = subprocess.run(cmd, capture_output=True, text=True)
    if r.returncode:
        print(f'ovs-{table} N={n}: failed: {r.stderr.strip()[-300:]}', file=sys.stderr)
        return None
    d = json.loads(r.stdout)
    run, w = d['runs'][0], d['ports_over_windows']
    problems = []
    if d['ct_entries'] != n:
        problems.append(f"{d['ct_entries']} conntrack entries, not {n}")
    if table == 'snat' and d.get('ct_translated') != n:
        problems.append(f"{d.get('ct_translated')} entries translated to {SNAT_ADDRESS}, not {n}")
    # Each port transmits what the other received (a few packets in flight at either end of the windows).
    for rx, tx in ((2, 1), (1, 2)):
        if w[str(rx)]['rx'] == 0 or abs(w[str(tx)]['tx'] - w[str(rx)]['rx']) > 0.001 * w[str(rx)]['rx'] + 64:
            problems.append(f"port {rx} received {w[str(rx)]['rx']}, port {tx} transmitted {w[str(tx)]['tx']}")
        if w[str(rx)]['rx_drop'] or w[str(tx)]['tx_drop']:
            problems.append(f'drops at port {rx} or {tx}')
    return dict(side='ovs', cell=f'ovs-{table}', n=n, mpps=run['total_rx_Mpps'], tx_mpps=run['total_tx_Mpps'],
                cyc_per_pkt=run['cyc_per_pkt'], emc_pct=run['emc_pct'], ct_entries=d['ct_entries'], ct_translated=d.get('ct_translated'),
                ct_sample=d['ct_sample'][:1], ports=w, heap_growth=d['heap_end'] - d['heap_before_ports'],
                load=run['loadavg'], problems=problems)


def ours(cell, n):
    table, bypass = cell.split('-')
    nat = ['--nat', 'snat'] if table == 'snat' else []
    cmd = locked(a) + ['taskset', '-c', '1', 'dotnet', dll, 'bench', '--json', '--connections', str(n), '--pmds', '1', '--bypass', bypass,
                       '--protocol', 'udp', '--duration', str(a.duration), '--warmup', str(a.warmup), *nat]
    load = os.getloadavg()[0]
    d = bench_json(f'{cell} N={n}', cmd)
    if d is None:
        return None
    problems = []
    if d['drops'] or d['ct_invalid'] or d['upcalls']:
        problems.append(f"drops {d['drops']}, invalid {d['ct_invalid']}, upcalls {d['upcalls']}")
    # A closed loop: what is not transmitted is in flight or counted as a drop. The PMDs' and the ports'
    # counters are read by separate asks, milliseconds apart on a loaded machine: 1 % of slack.
    if abs(d['tx_packets'] - d['rx_packets']) > 0.01 * d['rx_packets']:
        problems.append(f"received {d['rx_packets']}, transmitted {d['tx_packets']}")
    if bypass == 'on' and d['bypass_hits'] == 0:
        problems.append('no bypass hit')
    if (d.get('nat') == 'snat') != (table == 'snat'):
        problems.append(f"nat cell {d.get('nat')}")
    return dict(side='ours', cell=cell, n=n, mpps=d['mpps'], tx_mpps=d['tx_mpps'], pmd_ns=d['pmd_ns_per_packet'],
                rx_packets=d['rx_packets'], tx_packets=d['tx_packets'], bypass_hits=d['bypass_hits'], recirculations=d['recirculations'],
                alloc_b=d['allocated_bytes_per_packet'], load=max(load, os.getloadavg()[0]), problems=problems)


if any(c.startswith('ovs') for c in cells):
    check_ovs_dpdk(tools=('gdb',))  # gdb: Open vSwitch's heap (ovs_dpdk.py --heap)
build()
for rep in range(a.reps):
    for n in ns:
        for cell in cells[rep % len(cells):] + cells[:rep % len(cells)]:
            record.add(ovs(cell[4:], n) if cell.startswith('ovs') else ours(cell, n))


def med(cell, n, key='mpps'):
    return record.median(key, cell=cell, n=n)


print('\n| N | OVS plain | OVS SNAT | ours plain off | ours plain on | ours SNAT off | ours SNAT on | SNAT/plain OVS | SNAT/plain ours on | SNAT on/off | SNAT on/OVS SNAT | plain on/OVS plain | load |')
print('|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|')
for n in ns:
    m = {c: med(c, n) for c in CELLS}
    loads = [r['load'] for r in record.runs if r['n'] == n]
    print(f"| {n:,} | {fmt(m['ovs-plain'])} | {fmt(m['ovs-snat'])} | {fmt(m['plain-off'])} | {fmt(m['plain-on'])} | {fmt(m['snat-off'])} | "
          f"{fmt(m['snat-on'])} | {ratio(m['ovs-snat'], m['ovs-plain'])} | {ratio(m['snat-on'], m['plain-on'])} | {ratio(m['snat-on'], m['snat-off'])} | "
          f"{ratio(m['snat-on'], m['ovs-snat'])} | {ratio(m['plain-on'], m['ovs-plain'])} | {min(loads) if loads else 0:.1f}-{max(loads) if loads else 0:.1f} |")
failed = [r for r in record.runs if r['problems']]
print(f'{len(record.runs)} runs, {len(failed)} failed their check' + ''.join(f"\n  {r['cell']} N={r['n']}: {'; '.join(r['problems'])}" for r in failed))
if len(ns) > 1 and not a.skip_ovs:
    lo, hi = min(ns), max(ns)
    for table in ('plain', 'snat'):
        g_lo, g_hi = med(f'ovs-{table}', lo, 'heap_growth'), med(f'ovs-{table}', hi, 'heap_growth')
        if g_lo and g_hi:
            print(f'Open vSwitch malloc heap per connection, {table}: {(g_hi[0] - g_lo[0]) / (hi - lo):.0f} B '
                  f'(heap growth {g_lo[0] / 1e6:.2f} MB at N = {lo:,}, {g_hi[0] / 1e6:.2f} MB at N = {hi:,}, medians)')
print(f"wrote {os.path.join(a.out, 'nat-parity.json')}")
