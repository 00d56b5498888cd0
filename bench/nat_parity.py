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

--lock FILE wraps every run in `flock FILE` (a machine shared with other measurements).
Needs root, openvswitch-switch-dpdk, dpdk and gdb for the reference (--skip-ovs runs ours only).
About 75 s per N and rep.
"""
import argparse, json, os, statistics as st, subprocess, sys

repo = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SNAT_ADDRESS = '192.0.2.100'
FLOWS = {'plain': os.path.join(repo, 'hocon/firewall.flows'), 'snat': os.path.join(repo, 'bench/flows_ct_snat.txt')}
CELLS = ['ovs-plain', 'ovs-snat', 'plain-off', 'plain-on', 'snat-off', 'snat-on']

ap = argparse.ArgumentParser()
ap.add_argument('--ns', default='100,10000')
ap.add_argument('--reps', type=int, default=3)
ap.add_argument('--duration', type=float, default=3)
ap.add_argument('--warmup', type=float, default=1)
ap.add_argument('--ovs-duration', type=float, default=4)
ap.add_argument('--ovs-warmup', type=float, default=4)
ap.add_argument('--cells', default=','.join(CELLS))
ap.add_argument('--lock', help='flock this file around every run')
ap.add_argument('--out', default='/tmp/nat-parity')
ap.add_argument('--skip-ovs', action='store_true')
a = ap.parse_args()

os.makedirs(a.out, exist_ok=True)
dll = os.path.join(repo, 'src/Bench/bin/Release/net10.0/ovs-actors-bench.dll')
ns = [int(x) for x in a.ns.split(',') if x]
cells = [c for c in a.cells.split(',') if c and not (a.skip_ovs and c.startswith('ovs'))]
unknown = set(cells) - set(CELLS)
if unknown:
    sys.exit(f'nat_parity.py: unknown cells {sorted(unknown)}; known: {CELLS}')
locked = ['flock', a.lock] if a.lock else []
runs = []


def pcaps(table, n):
    folder = os.path.join(a.out, 'pcaps', table)
    if not os.path.exists(os.path.join(folder, f'b2a_{n}.pcap')):
        nat = ['--nat', 'snat'] if table == 'snat' else []
        subprocess.run(['dotnet', dll, 'reference-pcaps', '--connections', str(n), '--out', folder, *nat], check=True, capture_output=True)
    return os.path.join(folder, f'a2b_{n}.pcap'), os.path.join(folder, f'b2a_{n}.pcap')


def ovs(table, n):
    a2b, b2a = pcaps(table, n)
    cmd = locked + [sys.executable, os.path.join(repo, 'bench/ovs_dpdk.py'), '--flows', FLOWS[table], '--a2b', a2b, '--b2a', b2a,
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
    cmd = locked + ['taskset', '-c', '1', 'dotnet', dll, 'bench', '--json', '--connections', str(n), '--pmds', '1', '--bypass', bypass,
                    '--protocol', 'udp', '--duration', str(a.duration), '--warmup', str(a.warmup), *nat]
    load = os.getloadavg()[0]
    r = subprocess.run(cmd, capture_output=True, text=True)
    line = next((l for l in r.stdout.splitlines() if l.startswith('{')), None)
    if r.returncode or line is None:
        print(f'{cell} N={n}: failed ({r.returncode}): {r.stderr.strip()[-300:]}', file=sys.stderr)
        return None
    d = json.loads(line)
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


def record(result):
    if result:
        runs.append(result)
        print(json.dumps(result), flush=True)
        if result['problems']:
            print(f"{result['cell']} N={result['n']}: CHECK FAILED: {'; '.join(result['problems'])}", file=sys.stderr)
        json.dump(dict(args=vars(a), runs=runs), open(os.path.join(a.out, 'nat-parity.json'), 'w'), indent=1)


subprocess.run(['dotnet', 'build', '-c', 'Release', os.path.join(repo, 'src/Bench/Bench.csproj')], check=True, capture_output=True)
for rep in range(a.reps):
    for n in ns:
        for cell in cells[rep % len(cells):] + cells[:rep % len(cells)]:
            record(ovs(cell[4:], n) if cell.startswith('ovs') else ours(cell, n))


def values(cell, n, key='mpps'):
    return [r[key] for r in runs if r['cell'] == cell and r['n'] == n and not r['problems']]


def med(cell, n, key='mpps'):
    v = values(cell, n, key)
    return (st.median(v), min(v), max(v)) if v else None


def fmt(m):
    return f'{m[0]:.2f} ({m[1]:.2f}-{m[2]:.2f})' if m else '-'


def ratio(x, y):
    return f'{x[0] / y[0]:.2f}' if x and y else '-'


print('\n| N | OVS plain | OVS SNAT | ours plain off | ours plain on | ours SNAT off | ours SNAT on | SNAT/plain OVS | SNAT/plain ours on | SNAT on/off | SNAT on/OVS SNAT | plain on/OVS plain | load |')
print('|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|')
for n in ns:
    m = {c: med(c, n) for c in CELLS}
    loads = [r['load'] for r in runs if r['n'] == n]
    print(f"| {n:,} | {fmt(m['ovs-plain'])} | {fmt(m['ovs-snat'])} | {fmt(m['plain-off'])} | {fmt(m['plain-on'])} | {fmt(m['snat-off'])} | "
          f"{fmt(m['snat-on'])} | {ratio(m['ovs-snat'], m['ovs-plain'])} | {ratio(m['snat-on'], m['plain-on'])} | {ratio(m['snat-on'], m['snat-off'])} | "
          f"{ratio(m['snat-on'], m['ovs-snat'])} | {ratio(m['plain-on'], m['ovs-plain'])} | {min(loads) if loads else 0:.1f}-{max(loads) if loads else 0:.1f} |")
failed = [r for r in runs if r['problems']]
print(f'{len(runs)} runs, {len(failed)} failed their check' + ''.join(f"\n  {r['cell']} N={r['n']}: {'; '.join(r['problems'])}" for r in failed))
if len(ns) > 1 and not a.skip_ovs:
    lo, hi = min(ns), max(ns)
    for table in ('plain', 'snat'):
        g_lo, g_hi = med(f'ovs-{table}', lo, 'heap_growth'), med(f'ovs-{table}', hi, 'heap_growth')
        if g_lo and g_hi:
            print(f'Open vSwitch malloc heap per connection, {table}: {(g_hi[0] - g_lo[0]) / (hi - lo):.0f} B '
                  f'(heap growth {g_lo[0] / 1e6:.2f} MB at N = {lo:,}, {g_hi[0] / 1e6:.2f} MB at N = {hi:,}, medians)')
print(f"wrote {os.path.join(a.out, 'nat-parity.json')}")
