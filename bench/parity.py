#!/usr/bin/python3
"""Issue 17's measurement: ours beside Open vSwitch with DPDK, core for core, runs alternating.

For each rep and each N (UDP), in turn: Open vSwitch with DPDK (one PMD busy-polling core 1, through
../shared/tools/ovs-dpdk-bench, restarted per run), then our `bench --json` cells, whose order rotates
from rep to rep:
  1core-on    the whole process confined to core 1 (taskset -c 1), 1 PMD, bypass on
  1core-off   the same, bypass off
  1core0-on   1core-on confined to core 0 instead: this VM's two vCPUs have slow phases of their own,
              so a two-core figure is judged against what each core did alone in the same rep
              (the per-rep table's '2 PMDs / both cores alone')
  2core-1pmd  unconfined (both cores), 1 PMD, bypass on
  2core-2pmd  unconfined, 2 PMDs, bypass on
  ...-t       the same with PMD threads (--pmd-threads on, the bench's default: each PMD on a thread
              of its own, fed by a port actor per PMD on that thread); the cells without -t run
              --pmd-threads off
  ...-p       (2core cells) PMD threads pinned with --pmd-cpu-mask: 1 PMD on core 1 (0x2, where Open
              vSwitch's PMD and our confined cells run), 2 PMDs on cores 0 and 1 (0x3)
and for TCP (ours only: the reference's pcaps are UDP) 1core-on and 1core-off.
Prints medians, ranges and the ratios the issue asks for, and writes parity.json (every run) and
parity.png (needs python3-matplotlib) to --out.

Open vSwitch past 64,000 connections (and, as a cross-check of the method, at every N of --memif-ns):
the team tool's net_pcap ports hold every frame of a capture in an mbuf of Open vSwitch's pool (about
256K), so there a generator process (dpdk-testpmd on core 0, bench/ovs_dpdk.py --source memif) loops
the captures (bench/mkpcap_many.py) and sends them over shared memory to two memif ports; cell
'ovs-memif'. The generator's core is not counted against Open vSwitch; ours generates its traffic
inside its one core.

CPU per million packets: ours from /proc (the whole process's CPU time over the window, as bench
--json reports it); Open vSwitch's PMD polls one core all the time, so its figure is one core's
seconds over the window per million packets (its main thread is idle and not counted); through memif,
only the PMD's processing cycles count (the share of the window it found frames to work on).

Needs root and Debian's openvswitch-switch-dpdk, python3-scapy and dpdk for the reference
(--skip-ovs runs ours only). About 40 s per N and rep, plus the pcaps of a million connections once.
"""
import argparse, json, os, subprocess, sys

from benchrun import REPO as repo, DLL as dll, bench_json, build, check_ovs_dpdk, common_args, fmt, locked, numbers, ratio, Record

ap = argparse.ArgumentParser()
common_args(ap, ns='1,100,10000,1000000', out='/tmp/parity')
ap.add_argument('--tcp-ns', default='100,10000')
ap.add_argument('--ovs-tool', default=os.path.join(repo, '..', 'shared', 'tools', 'ovs-dpdk-bench'))
ap.add_argument('--cells', default='1core-on,1core-off,2core-1pmd,2core-2pmd')
ap.add_argument('--render', metavar='PARITY_JSON', help="measure nothing: print the tables and draw the chart of a run's parity.json")
ap.add_argument('--memif-ns', default='10000,1000000',
                help='N at which Open vSwitch is also measured through memif (above 64,000 only that way)')
a = ap.parse_args()
if a.render:
    # Drawn again as it was measured: the run's own N and cells, unless given here.
    recorded = json.load(open(a.render)).get('args', {})
    for key in ('ns', 'tcp_ns', 'cells', 'memif_ns'):
        if key in recorded and '--' + key.replace('_', '-') not in sys.argv:
            setattr(a, key, recorded[key])

ovs_dir = os.path.join(a.out, 'ovs')
CELLS = {
    '1core-on': (['taskset', '-c', '1'], 1, 'on', ['--pmd-threads', 'off']),
    '1core-off': (['taskset', '-c', '1'], 1, 'off', ['--pmd-threads', 'off']),
    '1core0-on': (['taskset', '-c', '0'], 1, 'on', ['--pmd-threads', 'off']),
    '2core-1pmd': ([], 1, 'on', ['--pmd-threads', 'off']),
    '2core-2pmd': ([], 2, 'on', ['--pmd-threads', 'off']),
}
SINGLE_CORE = {'1core-on', '1core-off', '1core0-on'}
for name, (prefix, pmds, bypass, _) in list(CELLS.items()):
    if name in SINGLE_CORE:
        continue
    CELLS[name + '-t'] = (prefix, pmds, bypass, ['--pmd-threads', 'on'])
    if name.startswith('2core'):
        CELLS[name + '-p'] = (prefix, pmds, bypass, ['--pmd-threads', 'on', '--pmd-cpu-mask', '0x2' if pmds == 1 else '0x3'])
cells = [c for c in a.cells.split(',') if c]
unknown = set(cells) - set(CELLS)
if unknown:
    sys.exit(f'parity.py: unknown cells {sorted(unknown)}; known: {sorted(CELLS)}')
record = Record(a, 'parity.json')


def ours(cell, n, protocol):
    prefix, pmds, bypass, extra = CELLS[cell]
    cmd = locked(a) + prefix + ['dotnet', dll, 'bench', '--json', '--connections', str(n), '--pmds', str(pmds), '--bypass', bypass,
                                '--protocol', protocol, '--duration', str(a.duration), '--warmup', str(a.warmup)] + extra
    d = bench_json(f'ours {cell} N={n} {protocol}', cmd)
    if d is None:
        return None
    return dict(side='ours', cell=cell, n=n, protocol=protocol, mpps=d['mpps'], cpu_s_per_m=d['cpu_seconds_per_million_packets'],
                pmd_ns=d['pmd_ns_per_packet'], alloc_b=d['allocated_bytes_per_packet'], gc_per_m=d['gc_per_million_packets'],
                ct_msgs=d['ct_messages_per_packet'], drops=d['drops'], ct_invalid=d['ct_invalid'], load=os.getloadavg()[0],
                per_pmd=d.get('per_pmd'))


def ovs_memif(n):
    captures = os.path.join(ovs_dir, 'many')
    os.makedirs(captures, exist_ok=True)
    a2b, b2a = (os.path.join(captures, f'{side}_{n}.pcap') for side in ('a2b', 'b2a'))
    if not os.path.exists(b2a):
        subprocess.run([sys.executable, os.path.join(repo, 'bench/mkpcap_many.py'), str(n), captures], check=True, capture_output=True)
    tool = os.path.abspath(a.ovs_tool)
    # A million connections: about 2 s for the first loop to commit them all, then the table settles.
    warmup = a.ovs_warmup if n <= 64000 else max(a.ovs_warmup, 15)
    r = subprocess.run(locked(a) + [sys.executable, os.path.join(repo, 'bench/ovs_dpdk.py'), '--source', 'memif', '--flows',
                        os.path.join(tool, 'flows_ct.txt'), '--a2b', a2b, '--b2a', b2a, '--dir', os.path.join(ovs_dir, 'memif'),
                        '--warmup', str(warmup), '--dur', str(max(a.duration, 4))], capture_output=True, text=True)
    if r.returncode:
        print(f'ovs-memif N={n}: failed: {r.stderr.strip()[-300:]}', file=sys.stderr)
        return None
    d = json.loads(r.stdout)
    s = d['runs'][0]
    # dump-conntrack walks the table while the traffic runs: at a million connections it has listed
    # 99.7 % of them (every frame of the captures had been sent several times by then).
    problems = [] if d['ct_entries'] >= 0.99 * n else [f"{d['ct_entries']} conntrack entries for {n} connections"]
    return dict(side='ovs', cell='ovs-memif', n=n, protocol='udp', mpps=s['total_rx_Mpps'], busy_pct=s['busy_pct'],
                cpu_s_per_m=s['busy_pct'] / 100 / s['total_rx_Mpps'], cyc_per_pkt=s['cyc_per_pkt'], emc_pct=s['emc_pct'],
                ct_entries=d['ct_entries'], tx_drops=sum(p['tx_drop'] for p in d['ports_over_windows'].values()),
                load=os.getloadavg()[0], problems=problems)


def ovs(n, rep):
    if n > 64000:
        # mkpcap.py gives each connection its own 10.0.x.y address (64,000 at most), and net_pcap's
        # infinite_rx holds every frame of the capture in an mbuf of the port's pool: a million
        # connections do not fit the reference's setup; they are measured through memif (ovs_memif).
        return None
    tool = os.path.abspath(a.ovs_tool)
    env = dict(os.environ, OVSBENCH_DIR=ovs_dir)
    os.makedirs(ovs_dir, exist_ok=True)
    for f in ('start.sh', 'stop.sh', 'env.sh', 'flows_ct.txt'):
        dst = os.path.join(ovs_dir, f)
        if not os.path.exists(dst):
            os.symlink(os.path.join(tool, f), dst)
    if not os.path.exists(os.path.join(ovs_dir, f'a2b_{n}.pcap')):
        subprocess.run([sys.executable, os.path.join(tool, 'mkpcap.py'), str(n), ovs_dir], check=True, env=env, capture_output=True)
    name = f'parity_n{n}_r{rep}'
    subprocess.run(['rm', '-rf', os.path.join(ovs_dir, 'results', name)])
    r = subprocess.run(locked(a) + [sys.executable, os.path.join(tool, 'bench.py'), name, 'flows_ct.txt', str(n), '--reps', '1',
                        '--warmup', str(a.ovs_warmup), '--dur', str(max(a.duration, 4))], env=env, capture_output=True, text=True)
    if r.returncode:
        print(f'ovs N={n}: failed: {r.stderr.strip()[-300:]}', file=sys.stderr)
        return None
    s = json.load(open(os.path.join(ovs_dir, 'results', name, 'summary.json')))['runs'][0]
    return dict(side='ovs', cell='ovs', n=n, protocol='udp', mpps=s['total_rx_Mpps'], cpu_s_per_m=1 / s['total_rx_Mpps'],
                pmd_run_pct=s['pmd_run_pct'], cyc_per_pkt=s['cyc_per_pkt'], emc_pct=s['emc_pct'], load=os.getloadavg()[0])


if a.render:
    record.runs = json.load(open(a.render))['runs']
    for r in record.runs:
        # Runs recorded before the 99 % rule above: judged by it.
        if r.get('cell') == 'ovs-memif' and r.get('ct_entries', 0) >= 0.99 * r['n']:
            r['problems'] = []
else:
    if not a.skip_ovs:
        check_ovs_dpdk(memif=bool(a.memif_ns))
    build()


def add(result, rep):
    if result:
        result['rep'] = rep + 1
    record.add(result)


for rep in range(0 if a.render else a.reps):
    for n in numbers(a.ns):
        if not a.skip_ovs:
            add(ovs(n, rep), rep)
            if n in numbers(a.memif_ns):
                add(ovs_memif(n), rep)
        rotated = cells[rep % len(cells):] + cells[:rep % len(cells)]
        for cell in rotated:
            add(ours(cell, n, 'udp'), rep)
    for n in numbers(a.tcp_ns):
        tcp_cells = [c for c in cells if c in ('1core-on', '1core-off')] or ['1core-on', '1core-off']
        for cell in (tcp_cells if rep % 2 == 0 else tcp_cells[::-1]):
            add(ours(cell, n, 'tcp'), rep)


def med(side, cell, n, protocol, key='mpps'):
    return record.median(key, side=side, cell=cell, n=n, protocol=protocol)


print('\n| N | proto | OVS-DPDK Mpps | OVS via memif | ours 1 core on | ours 1 core off | 2 cores 1 PMD | 2 cores 2 PMDs | on/OVS | off/OVS | on/off | 2 PMDs/1 core | CPU s/M OVS | CPU s/M ours 1 core on | B/packet | GC/M |')
print('|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|')
for proto, ns in (('udp', a.ns), ('tcp', a.tcp_ns)):
    for n in numbers(ns):
        o = med('ovs', 'ovs', n, proto) or med('ovs', 'ovs-memif', n, proto)
        memif = med('ovs', 'ovs-memif', n, proto)
        on, off = med('ours', '1core-on', n, proto), med('ours', '1core-off', n, proto)
        # The two-core columns: the PMD-thread cells where they ran, else the shared-pool ones.
        c2, p2 = (med('ours', c + '-t', n, proto) or med('ours', c, n, proto) for c in ('2core-1pmd', '2core-2pmd'))
        co = med('ovs', 'ovs', n, proto, 'cpu_s_per_m') or med('ovs', 'ovs-memif', n, proto, 'cpu_s_per_m')
        cu = med('ours', '1core-on', n, proto, 'cpu_s_per_m')
        al, gc = med('ours', '1core-on', n, proto, 'alloc_b'), med('ours', '1core-on', n, proto, 'gc_per_m')
        print(f'| {n:,} | {proto} | {fmt(o)} | {fmt(memif)} | {fmt(on)} | {fmt(off)} | {fmt(c2)} | {fmt(p2)} | {ratio(on, o)} | {ratio(off, o)} | '
              f'{ratio(on, off)} | {ratio(p2, on)} | {co[0] if co else 0:.3f} | {cu[0] if cu else 0:.3f} | {al[0] if al else 0:.2f} | {gc[0] if gc else 0:.1f} |')

print('\nEvery cell (median Mpps, range):')
print('| N | proto | ' + ' | '.join(cells) + ' |')
print('|---:|---|' + '---:|' * len(cells))
for proto, ns in (('udp', a.ns), ('tcp', a.tcp_ns)):
    for n in numbers(ns):
        print(f'| {n:,} | {proto} | ' + ' | '.join(fmt(med('ours', c, n, proto)) for c in cells) + ' |')


def per_rep():
    """Each rep's cells beside the Open vSwitch run of that rep and N: this VM's slow phases move whole
    reps, so the ratios the issue asks for are judged per rep, not between medians of different reps."""
    reps, seen = {}, {}
    for r in record.runs:
        if r.get('problems'):
            continue
        if 'rep' in r:
            number = r['rep']
        else:
            # Runs recorded before reps were tagged: the k-th run of a cell and N is rep k.
            key = (r['n'], r['protocol'], r['cell'])
            seen[key] = number = seen.get(key, 0) + 1
        reps.setdefault((r['protocol'] != 'udp', r['n'], number), {})[r['cell']] = r['mpps']
    two_pmds = next((c for c in ('2core-2pmd-t', '2core-2pmd', '2core-2pmd-p') if c in cells), None)
    one_pmd = next((c for c in ('2core-1pmd-t', '2core-1pmd', '2core-1pmd-p') if c in cells), None)
    print('\nPer rep (Mpps; ratios within the rep):')
    print('| N | proto | rep | OVS | ' + ' | '.join(cells) + ' | on/OVS | off/OVS | on/off | 1 PMD two cores / one core | 2 PMDs / one core | 2 PMDs / both cores alone |')
    print('|---:|---|---:|---:|' + '---:|' * (len(cells) + 6))
    for (tcp, n, number), got in sorted(reps.items()):
        def rt(x, y):
            return f'{x / y:.2f}' if x and y else ''
        o = got.get('ovs') or got.get('ovs-memif')
        on, off, on0 = got.get('1core-on'), got.get('1core-off'), got.get('1core0-on')
        both = on + on0 if on and on0 else None
        print(f"| {n:,} | {'tcp' if tcp else 'udp'} | {number} | {f'{o:.2f}' if o else ''} | "
              + ' | '.join(f'{got[c]:.2f}' if c in got else '' for c in cells)
              + f' | {rt(on, o)} | {rt(off, o)} | {rt(on, off)} | {rt(got.get(one_pmd), on)} | {rt(got.get(two_pmds), on)} | {rt(got.get(two_pmds), both)} |')


per_rep()

ns = numbers(a.ns)
series = [('ovs', 'ovs', 'Open vSwitch + DPDK (1 PMD core)'), ('ovs', 'ovs-memif', 'Open vSwitch + DPDK, fed over memif')] + [('ours', c, 'ours ' + c) for c in cells]
# A series no run measured (memif cells not asked for, --skip-ovs) gets no bar and no legend entry.
series = [s for s in series if any(med(s[0], s[1], n, 'udp') for n in ns)]
try:
    if not series:
        raise LookupError('no run to draw')
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    fig, ax = plt.subplots(figsize=(9, 4.5))
    width = 0.8 / len(series)
    for i, (side, cell, label) in enumerate(series):
        vals = [(med(side, cell, n, 'udp') or (0, 0, 0)) for n in ns]
        xs = [j + i * width for j in range(len(ns))]
        ax.bar(xs, [v[0] for v in vals], width, label=label,
               yerr=[[v[0] - v[1] for v in vals], [v[2] - v[0] for v in vals]], capsize=2)
    ax.set_xticks([j + width * (len(series) - 1) / 2 for j in range(len(ns))], [f'N = {n:,}' for n in ns])
    ax.set_ylabel('Mpps (both ports, 64-byte UDP)')
    ax.set_title('Firewall with conntrack: medians of alternating runs (bars: range)')
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(os.path.join(a.out, 'parity.png'), dpi=110)
    print(f"wrote {os.path.join(a.out, 'parity.png')}")
except ImportError:
    print('no python3-matplotlib: no chart', file=sys.stderr)
except LookupError:
    print('no run measured: no chart', file=sys.stderr)
if not a.render:
    print(f"wrote {os.path.join(a.out, 'parity.json')}")
