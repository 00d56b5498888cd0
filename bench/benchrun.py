"""What bench/parity.py and bench/nat_parity.py share: their common options, the bench build, one
`bench --json` run, the record of runs (printed and saved as they come) and the medians they print."""
import json, os, statistics as st, subprocess, sys

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
