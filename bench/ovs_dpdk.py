#!/usr/bin/python3
"""Open vSwitch with DPDK on one flow table between two ports: one run, as JSON on stdout.

The reference side of bench/nat_parity.py, self-contained (the same method as the team's
ovs-dpdk-bench tool, which bench/parity.py uses): Debian's packaged ovs-vswitchd-dpdk in a private
sandbox under --dir, no hugepages (--no-huge --legacy-mem), one PMD busy-polling core 1 (main thread
on core 0), ports p1 and p2 of type dpdk whose net_pcap devices loop --a2b and --b2a from memory
(infinite_rx). Port 1 starts --delay-p2 seconds before port 2, so its frames create (commit) every
connection before the replies come.

net_pcap's infinite_rx holds every frame of a capture in an mbuf of the port's pool, and Open vSwitch's
pool holds about 256K: a million connections (two million frames) do not fit. --source memif keeps
the captures in a generator process instead (dpdk-testpmd on core 0, its own pool sized to the
captures) that sends them over shared memory to two memif ports of Open vSwitch, so the PMD pays a
copy per frame received, as net_pcap's loop does. --source stream reads each capture once from its
file (the PMD then also pays libpcap's read of every frame; kept to measure that cost).

After --warmup seconds, --reps windows of --dur seconds: the
packet rate from `ovs-ofctl dump-ports` (both ports' received packets, and transmitted).

Then, with the traffic still running, what shows that the table did what it says:
  - `dpctl/dump-conntrack`: how many entries, and (--snat ADDRESS) how many have their reply
    tuple addressed to ADDRESS, the translated side;
  - the port counters over the windows: packets port 2 received (the replies) against packets
    port 1 transmitted, and the other way, and the ports' drop counters.
With --heap, the daemon's malloc heap in use (glibc's malloc_info, called through gdb) after the
flows are installed and before the ports exist, and again at the end: the difference over N
connections, less the same at a small N, is Open vSwitch's memory per connection.

Needs root, openvswitch-switch-dpdk and dpdk (and gdb for --heap; dpdk-dev and librte-net-memif23
for --source memif).
"""
import argparse, json, os, re, shutil, subprocess, sys, time
import xml.etree.ElementTree as ET

VSWITCHD = '/usr/lib/openvswitch-switch-dpdk/ovs-vswitchd-dpdk'
SCHEMA = '/usr/share/openvswitch/vswitch.ovsschema'
EXTRA = '--no-huge --legacy-mem -m 2048 --no-pci --no-shconf --file-prefix=ovsnat --iova-mode=va'

ap = argparse.ArgumentParser()
ap.add_argument('--flows', required=True)
ap.add_argument('--a2b', required=True, help='capture looped by port 1 (the clients)')
ap.add_argument('--b2a', required=True, help='capture looped by port 2 (the server)')
ap.add_argument('--dir', required=True, help='sandbox folder (database, sockets, logs)')
ap.add_argument('--delay-p2', type=float, default=3.0)
ap.add_argument('--warmup', type=float, default=4.0)
ap.add_argument('--dur', type=float, default=4.0)
ap.add_argument('--reps', type=int, default=1)
ap.add_argument('--snat', help='the translated address: count conntrack entries whose reply goes to it')
ap.add_argument('--heap', action='store_true', help="measure the daemon's malloc heap in use (gdb)")
ap.add_argument('--source', choices=('loop', 'stream', 'memif'), default='loop',
                help='loop: net_pcap ports loop the captures from memory (infinite_rx); stream: they read each '
                     'capture once from its file; memif: a generator process (dpdk-testpmd on core 0) loops them '
                     'and sends them over shared memory (net_memif) to ports p1 and p2')
ap.add_argument('--testpmd', default='dpdk-testpmd', help='the generator of --source memif (Debian: dpdk-dev)')
a = ap.parse_args()

S = os.path.join(os.path.abspath(a.dir), 'sb')
env = dict(os.environ, OVS_RUNDIR=S, OVS_LOGDIR=S, OVS_DBDIR=S, OVS_SYSCONFDIR=S, OVS_PKGDATADIR='/usr/share/openvswitch')


def sh(cmd, check=True, timeout=60):
    r = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=timeout)
    if check and r.returncode:
        raise RuntimeError(f'{" ".join(cmd)}: {r.stderr.strip()}')
    return r.stdout


def pid(name):
    try:
        return int(open(os.path.join(S, f'{name}.pid')).read())
    except (OSError, ValueError):
        return None


def appctl(*args, target='ovs-vswitchd-dpdk'):
    return sh(['ovs-appctl', '-t', os.path.join(S, f'{target}.{pid(target)}.ctl'), *args])


def stop():
    for name, how in (('ovs-vswitchd-dpdk', ['exit', '--cleanup']), ('ovsdb-server', ['exit'])):
        p = pid(name)
        if p is None:
            continue
        try:
            appctl(*how, target=name)
        except (RuntimeError, subprocess.TimeoutExpired):
            try:
                os.kill(p, 15)
            except ProcessLookupError:
                pass
        for _ in range(50):
            if not os.path.exists(f'/proc/{p}'):
                break
            time.sleep(0.1)


def start():
    stop()
    shutil.rmtree(S, ignore_errors=True)
    os.makedirs(S)
    sh(['ovsdb-tool', 'create', os.path.join(S, 'conf.db'), SCHEMA])
    sh(['ovsdb-server', '--detach', '--no-chdir', '--pidfile', '-vconsole:off', '--log-file',
        f'--remote=punix:{S}/db.sock', os.path.join(S, 'conf.db')])
    sh(['ovs-vsctl', '--no-wait', 'init'])
    sh(['ovs-vsctl', '--no-wait', 'set', 'Open_vSwitch', '.', 'other_config:dpdk-init=true',
        'other_config:dpdk-lcore-mask=0x1', 'other_config:pmd-cpu-mask=0x2', f'other_config:dpdk-extra={EXTRA}'])
    sh([VSWITCHD, '--detach', '--no-chdir', '--pidfile', '-vconsole:off', '--log-file'], timeout=120)


def heap_in_use():
    """Bytes the daemon's malloc has handed out and not freed: arenas' system memory less free chunks, plus mmapped chunks."""
    out = os.path.join(S, 'malloc_info.xml')
    r = subprocess.run(['gdb', '-p', str(pid('ovs-vswitchd-dpdk')), '-batch', '-nx',
                        '-ex', f'call (void*)fopen("{out}", "w")', '-ex', 'call (int)malloc_info(0, $1)',
                        '-ex', 'call (int)fclose($1)'], capture_output=True, text=True, timeout=120)
    if r.returncode or not os.path.exists(out):
        raise RuntimeError(f'gdb malloc_info failed: {r.stderr.strip()[-300:]}')
    root = ET.parse(out).getroot()
    os.remove(out)
    total = {(e.tag, e.get('type')): int(e.get('size')) for e in root if e.tag in ('total', 'system')}
    return total[('system', 'current')] - total[('total', 'fast')] - total[('total', 'rest')] + total[('total', 'mmap')]


def ports():
    o = sh(['ovs-ofctl', 'dump-ports', 'br0'])
    d = {}
    for m in re.finditer(r'port\s+(\d+): rx pkts=(\d+), bytes=\d+, drop=(\d+).*?\n\s+tx pkts=(\d+), bytes=\d+, drop=(\d+)', o):
        d[int(m.group(1))] = dict(rx=int(m.group(2)), rx_drop=int(m.group(3)), tx=int(m.group(4)), tx_drop=int(m.group(5)))
    return d


def stat(text, key):
    m = re.search(re.escape(key) + r':\s+([\d.]+)', text)
    return float(m.group(1)) if m else None


def add_port(name, index, pcap):
    if a.source == 'memif':
        # Two queues: Open vSwitch transmits on the queue of its PMD thread (queue 1 beside the main
        # thread's 0), and memif connects only the queues both sides configured.
        device = [f'options:dpdk-devargs=net_memif{index - 1},role=server,socket={S}/memif.sock,id={index - 1}', 'options:n_rxq=2']
    else:
        device = [f'options:dpdk-devargs=net_pcap{index - 1},rx_pcap={os.path.abspath(pcap)}' + (',infinite_rx=1' if a.source == 'loop' else '')]
    sh(['ovs-vsctl', 'add-port', 'br0', name, '--', 'set', 'Interface', name, 'type=dpdk', f'ofport_request={index}'] + device,
       timeout=120)


def pcap_halves(path):
    """The capture split into two files, the first and the second half of its frames: one per queue of a memif port."""
    with open(path, 'rb') as f:
        data = f.read()
    if len(data) < 24 or data[:4] != bytes.fromhex('d4c3b2a1'):
        raise RuntimeError(f'{path}: not a little-endian pcap')
    starts, at = [], 24
    while at + 16 <= len(data):
        starts.append(at)
        at += 16 + int.from_bytes(data[at + 8:at + 12], 'little')
    if at != len(data) or len(starts) < 2:
        raise RuntimeError(f'{path}: truncated, or fewer than two frames')
    cut = starts[len(starts) // 2]
    names = []
    for i, body in enumerate((data[24:cut], data[cut:])):
        names.append(os.path.join(S, f'{os.path.basename(path)}.half{i}'))
        with open(names[-1], 'wb') as f:
            f.write(data[:24] + body)
    return names, len(starts)


generator = None


def start_generator():
    """dpdk-testpmd on core 0 (beside Open vSwitch's idle main thread), forwarding each capture's two halves,
    looped from its own mbufs (infinite_rx), to the memif port of that side; what Open vSwitch sends back is
    dropped (net_pcap with no output). It transmits as fast as the ports take frames: Open vSwitch's PMD,
    not the generator, must be the bottleneck (busy_pct near 100)."""
    global generator
    (a0, a1), na = pcap_halves(a.a2b)
    (b0, b1), nb = pcap_halves(a.b2a)
    mbufs = na + nb + 65536
    cmd = [a.testpmd, '--lcores=0@0,1@0', '--no-huge', '-m', str(max(1024, mbufs * 512 // 2**20 + 512)), '--no-pci', '--no-shconf',
           '--file-prefix=ovsgen', '--iova-mode=va',
           f'--vdev=net_pcap0,rx_pcap={a0},rx_pcap={a1},infinite_rx=1', f'--vdev=net_memif0,role=client,socket={S}/memif.sock,id=0',
           f'--vdev=net_pcap1,rx_pcap={b0},rx_pcap={b1},infinite_rx=1', f'--vdev=net_memif1,role=client,socket={S}/memif.sock,id=1',
           '--', '--nb-cores=1', '--rxq=2', '--txq=2', '--forward-mode=io', '--port-topology=paired',
           f'--total-num-mbufs={mbufs}', '--mbuf-size=256', '--auto-start']
    # testpmd runs until a line arrives on its standard input: an open pipe keeps it running.
    generator = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=open(os.path.join(S, 'testpmd.log'), 'w'), stderr=subprocess.STDOUT)


def stop_generator():
    if generator is None or generator.poll() is not None:
        return
    try:
        generator.communicate(b'\n', timeout=20)
    except subprocess.TimeoutExpired:
        generator.kill()
        generator.wait()


result = dict(flows=os.path.abspath(a.flows), a2b=os.path.abspath(a.a2b), b2a=os.path.abspath(a.b2a), runs=[])
try:
    start()
    sh(['ovs-vsctl', 'add-br', 'br0', '--', 'set', 'bridge', 'br0', 'datapath_type=netdev', 'fail-mode=secure'])
    sh(['ovs-ofctl', 'add-flows', 'br0', os.path.abspath(a.flows)])
    if a.heap:
        result['heap_before_ports'] = heap_in_use()
    add_port('p1', 1, a.a2b)
    if a.source == 'memif':
        # Both sides start together: a reply that comes before its connection is committed is dropped
        # (+new from port 2) and passes on the next loop, within the warm-up.
        add_port('p2', 2, a.b2a)
        start_generator()
    else:
        time.sleep(a.delay_p2)
        add_port('p2', 2, a.b2a)
    time.sleep(a.warmup)
    if generator is not None and generator.poll() is not None:
        raise RuntimeError(f'the generator stopped (exit {generator.returncode}): see {S}/testpmd.log')
    first = ports()
    for rep in range(a.reps):
        appctl('dpif-netdev/pmd-stats-clear')
        p0, t0 = ports(), time.time()
        time.sleep(a.dur)
        p1, t1 = ports(), time.time()
        pmd = appctl('dpif-netdev/pmd-stats-show').split('main thread:')[0]
        dt = t1 - t0
        d = {k: {f: p1[k][f] - p0[k][f] for f in p1[k]} for k in (1, 2)}
        pkts, rec = stat(pmd, 'packets received'), stat(pmd, 'packet recirculations')
        result['runs'].append(dict(
            rep=rep, dt=dt, total_rx_Mpps=(d[1]['rx'] + d[2]['rx']) / dt / 1e6, total_tx_Mpps=(d[1]['tx'] + d[2]['tx']) / dt / 1e6,
            rx_p1=d[1]['rx'], rx_p2=d[2]['rx'], tx_p1=d[1]['tx'], tx_p2=d[2]['tx'],
            emc_pct=100 * stat(pmd, 'emc hits') / (pkts + rec), megaflow_pct=100 * stat(pmd, 'megaflow hits') / (pkts + rec),
            upcalls=stat(pmd, 'miss with success upcall'), lost=stat(pmd, 'miss with failed upcall'),
            cyc_per_pkt=stat(pmd, 'avg cycles per packet'), recirc_per_pkt=rec / pkts if pkts else None,
            busy_pct=float(re.search(r'processing cycles: \d+ \(([\d.]+)%\)', pmd).group(1)),
            loadavg=os.getloadavg()[0]))
    last = ports()
    # The verdicts, with the traffic still running.
    ct = appctl('dpctl/dump-conntrack').splitlines()
    result['ct_entries'] = len(ct)
    result['ct_sample'] = ct[:3]
    if a.snat:
        result['ct_translated'] = sum(1 for l in ct if f',dst={a.snat},' in l.split('reply=(', 1)[-1])
    result['ports_over_windows'] = {k: {f: last[k][f] - first[k][f] for f in last[k]} for k in (1, 2)}
    result['ports_total'] = last
    if a.heap:
        result['heap_end'] = heap_in_use()
    print(json.dumps(result))
except Exception as e:  # one line on stderr and a non-zero exit; the sandbox is stopped either way
    print(f'ovs_dpdk.py: {e}', file=sys.stderr)
    sys.exit(1)
finally:
    stop_generator()
    stop()
