"""What bench/parity.py and bench/nat_parity.py share: their common options, the bench build, one
`bench --json` run, the record of runs (printed and saved as they come) and the medians they print."""
import json, os, shutil, statistics as st, subprocess, sys

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DLL = os.path.join(REPO, 'src/Bench/bin/Release/net10.0/ovs-actors-bench.dll')


def common_args(ap, ns, out):
    """The options every alternating measurement takes."""
    ap.add_argument('--ns', default=ns, help='connection counts, comma-separated')
    ap.add_argument('--reps', type=int, default=3)
    ap.add_argument('--duration', type=float, default=3, help="seconds of each of our runs' measured window")
    ap.add_argument('--warmup', type=float, default=2)
    ap.add_argument('--ovs-warmup', type=float, default=4)
    ap.add_argument('--lock', help='flock this file around every run (a machine shared with other measurements)')
    ap.add_argument('--out', default=out)
    ap.add_argument('--skip-ovs', action='store_true', help='ours only')


def numbers(text):
    return [int(x) for x in text.split(',') if x]


def locked(a):
    return ['flock', a.lock] if a.lock else []


def build():
    subprocess.run(['dotnet', 'build', '-c', 'Release', os.path.join(REPO, 'src/Bench/Bench.csproj')], check=True, capture_output=True)


def check_ovs_dpdk(memif=False, tools=()):
    """Stops before any run when Open vSwitch with DPDK cannot run here: without DPDK's pcap driver
    and ring mempool (recommended by Debian's dpdk package, so left out by --no-install-recommends)
    every Open vSwitch run fails only once its ports are added, and a sitting would measure ours alone.
    memif: the memif cells' generator too (dpdk-testpmd, Debian's dpdk-dev, over DPDK's memif driver)."""
    # Open vSwitch's daemons are in /usr/sbin, which is not on a user's PATH on Debian.
    path = os.environ.get('PATH', '') + ':/usr/sbin:/sbin'
    missing = [tool for tool in ('ovs-vsctl', 'ovsdb-tool', 'ovsdb-server', 'ovs-appctl', 'ovs-ofctl') + tuple(tools) if shutil.which(tool, path=path) is None]
    if not os.access('/usr/lib/openvswitch-switch-dpdk/ovs-vswitchd-dpdk', os.X_OK):
        missing.append('ovs-vswitchd-dpdk')
    libraries = subprocess.run([shutil.which('ldconfig', path=path) or 'ldconfig', '-p'], capture_output=True, text=True).stdout
    missing += [lib for lib in ('librte_net_pcap.so', 'librte_mempool_ring.so') if lib not in libraries]
    if memif:
        missing += [need for need, present in (('librte_net_memif.so', 'librte_net_memif.so' in libraries),
                                               ('dpdk-testpmd', shutil.which('dpdk-testpmd') is not None)) if not present]
    if missing:
        sys.exit(f'{os.path.basename(sys.argv[0])}: Open vSwitch with DPDK cannot run here (missing: ' + ', '.join(missing) + '); install: '
                 'apt-get install -y openvswitch-switch-dpdk dpdk librte-net-pcap23 librte-mempool-ring23 python3-scapy'
                 + ''.join(' ' + tool for tool in tools) + ', and for memif '
                 'cells dpdk-dev librte-net-memif23 (or pass --skip-ovs)')


def bench_json(label, cmd):
    """Runs one `bench --json` command line; its JSON object, or None (said on stderr)."""
    r = subprocess.run(cmd, capture_output=True, text=True)
    line = next((l for l in r.stdout.splitlines() if l.startswith('{')), None)
    if r.returncode or line is None:
        print(f'{label}: failed ({r.returncode}): {r.stderr.strip()[-300:]}', file=sys.stderr)
        return None
    return json.loads(line)


class Record:
    """The runs so far, each printed as a JSON line and the whole saved to OUT/NAME after each."""

    def __init__(self, a, name):
        os.makedirs(a.out, exist_ok=True)
        self.args, self.path, self.runs = vars(a), os.path.join(a.out, name), []

    def add(self, result):
        if not result:
            return
        self.runs.append(result)
        print(json.dumps(result), flush=True)
        if result.get('problems'):
            print(f"{result['cell']} N={result['n']}: CHECK FAILED: {'; '.join(result['problems'])}", file=sys.stderr)
        with open(self.path, 'w') as f:
            json.dump(dict(args=self.args, runs=self.runs), f, indent=1)

    def median(self, key='mpps', **match):
        """(median, min, max) of KEY over the runs that match and passed their checks; None if none."""
        v = [r[key] for r in self.runs if all(r.get(k) == x for k, x in match.items()) and not r.get('problems')]
        return (st.median(v), min(v), max(v)) if v else None


def fmt(m):
    return f'{m[0]:.2f} ({m[1]:.2f}-{m[2]:.2f})' if m else '-'


def ratio(x, y):
    return f'{x[0] / y[0]:.2f}' if x and y else '-'
