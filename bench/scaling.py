#!/usr/bin/python3
"""Issue 17's scaling check: 1, 2, 4 and 8 PMDs on one machine, UDP, 10,000 connections, bypass on
(`bench --json`), each PMD thread pinned to a CPU of its own from --first-cpu on (CPU 0 left to the
rest of the process, as Open vSwitch leaves its main thread to dpdk-lcore-mask), runs alternating:
each rep runs every PMD count once, in an order that rotates from rep to rep. Prints each count's
median rate, its speed-up over one PMD within the same rep and the efficiency (speed-up / PMDs),
and writes scaling.json (every run) to --out. A PMD count needing more CPUs than the machine has is
skipped, and said so.

On a machine without .NET (the lent 16-core device), carry a self-contained build and name it:
  mkdir -p .device && echo /.device/ >> .git/info/exclude
  dotnet publish src/Bench -c Release -r linux-x64 --self-contained -o /tmp/pub && tar cJf .device/bench.txz -C /tmp pub
and run there (carry .device; about 3 minutes with the defaults):
  tar xJf .device/bench.txz -C /tmp && PYTHONUNBUFFERED=1 python3 bench/scaling.py --bench /tmp/pub/ovs-actors-bench --out $OUT
"""
import argparse, os, statistics as st, sys

from benchrun import DLL, bench_json, build, locked, numbers, Record

ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
ap.add_argument('--pmds', default='1,2,4,8', help='PMD counts, comma-separated')
ap.add_argument('--connections', type=int, default=10000)
ap.add_argument('--reps', type=int, default=3)
ap.add_argument('--duration', type=float, default=3, help="seconds of each run's measured window")
ap.add_argument('--warmup', type=float, default=2)
ap.add_argument('--first-cpu', type=int, default=1, help='PMD i runs on CPU first-cpu + i')
ap.add_argument('--bench', help="a self-contained ovs-actors-bench to run; default: this checkout's Release build, built first")
ap.add_argument('--lock', help='flock this file around every run (a machine shared with other measurements)')
ap.add_argument('--out', default='/tmp/scaling')
a = ap.parse_args()

cpus = os.cpu_count() or 1
counts = []
for p in numbers(a.pmds):
    if p < 1 or a.first_cpu < 0:
        sys.exit(f'scaling.py: {p} PMDs from CPU {a.first_cpu}: PMD counts are at least 1 and CPUs start at 0')
    if a.first_cpu + p > cpus:
        print(f'scaling.py: {p} PMDs skipped: CPUs {a.first_cpu}-{a.first_cpu + p - 1} needed, this machine has {cpus}', file=sys.stderr)
        continue
    counts.append(p)
if not counts:
    sys.exit('scaling.py: no PMD count fits this machine')

if a.bench:
    command = [a.bench]
else:
    build()
    command = ['dotnet', DLL]
record = Record(a, 'scaling.json')


def run(pmds, rep):
    mask = ((1 << pmds) - 1) << a.first_cpu
    d = bench_json(f'{pmds} PMDs', locked(a) + command + [
        'bench', '--json', '--protocol', 'udp', '--connections', str(a.connections), '--bypass', 'on', '--pmds', str(pmds),
        '--pmd-threads', 'on', '--pmd-cpu-mask', hex(mask), '--duration', str(a.duration), '--warmup', str(a.warmup)])
    if d is None:
        return None
    return dict(pmds=pmds, rep=rep + 1, mpps=d['mpps'], pmd_ns=d['pmd_ns_per_packet'], cpu_s_per_m=d['cpu_seconds_per_million_packets'],
                drops=d['drops'], per_pmd=d.get('per_pmd'), cpus=cpus, load=os.getloadavg()[0])


for rep in range(a.reps):
    for pmds in counts[rep % len(counts):] + counts[:rep % len(counts)]:
        record.add(run(pmds, rep))

print(f'\n{a.connections:,} UDP connections, bypass on, PMD i on CPU {a.first_cpu} + i, {cpus} CPUs; medians of {a.reps} reps (range)')
print('| PMDs | Mpps | speed-up over 1 PMD (same rep) | efficiency | PMD ns per packet | CPU s per M packets |')
print('|---:|---:|---:|---:|---:|---:|')
one = {r['rep']: r['mpps'] for r in record.runs if r['pmds'] == 1}
for pmds in counts:
    runs = [r for r in record.runs if r['pmds'] == pmds]
    if not runs:
        print(f'| {pmds} | - | | | | |')
        continue
    rates = [r['mpps'] for r in runs]
    ups = [r['mpps'] / one[r['rep']] for r in runs if r['rep'] in one]
    up = f'{st.median(ups):.2f} ({min(ups):.2f}-{max(ups):.2f})' if ups else '-'
    eff = f'{st.median(ups) / pmds:.2f}' if ups else '-'
    print(f"| {pmds} | {st.median(rates):.2f} ({min(rates):.2f}-{max(rates):.2f}) | {up} | {eff} | "
          f"{st.median(r['pmd_ns'] for r in runs):.0f} | {st.median(r['cpu_s_per_m'] for r in runs):.3f} |")
print(f"wrote {os.path.join(a.out, 'scaling.json')}")
