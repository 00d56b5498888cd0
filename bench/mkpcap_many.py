#!/usr/bin/python3
"""Two captures of N bidirectional UDP connections, for N past the 64,000 the team's mkpcap.py reaches.

usage: mkpcap_many.py N DIR [LOOPS]  ->  DIR/a2b_N[xLOOPS].pcap (the clients' frames) and DIR/b2a_N[xLOOPS].pcap
(the replies)

The same 60-byte frames as ../shared/tools/ovs-dpdk-bench/mkpcap.py (MACs, ports 10000 -> 5000, server
10.1.0.1, IPv4 checksum set, UDP checksum 0), but connection i's client is 10.16.0.0 + i, so up to
2^20 connections each have an address of their own. Written in blocks: a million connections take a
few seconds and two 76 MB files. LOOPS repeats the N connections that many times in the file, for a
reader that streams the capture once instead of looping it from memory (bench/ovs_dpdk.py --source stream).
"""
import struct
import sys

MAC_A = bytes.fromhex('020000000001')
MAC_B = bytes.fromhex('020000000002')
SERVER = bytes([10, 1, 0, 1])
CLIENTS = 10 << 24 | 16 << 16


def checksum(header):
    s = sum(struct.unpack('!10H', header))
    while s >> 16:
        s = (s & 0xffff) + (s >> 16)
    return ~s & 0xffff


def frame(smac, dmac, src, dst, sport, dport):
    udp = struct.pack('!HHHH', sport, dport, 26, 0) + bytes(18)
    ip = bytearray(struct.pack('!BBHHHBBH4s4s', 0x45, 0, 46, 0, 0x4000, 64, 17, 0, src, dst))
    ip[10:12] = struct.pack('!H', checksum(bytes(ip)))
    return dmac + smac + b'\x08\x00' + bytes(ip) + udp


def main():
    args = sys.argv[1:]
    if len(args) not in (2, 3) or not all(x.isdigit() for x in args[:1] + args[2:]) \
            or not 1 <= int(args[0]) <= 1 << 20 or (len(args) == 3 and not 1 <= int(args[2]) <= 10000):
        sys.exit('usage: mkpcap_many.py N DIR [LOOPS]   (1 <= N <= 1048576, 1 <= LOOPS <= 10000)')
    n, out, loops = int(args[0]), args[1], int(args[2]) if len(args) == 3 else 1
    fwd, rev = bytearray(), bytearray()
    for i in range(n):
        client = struct.pack('!I', CLIENTS + i)
        record = struct.pack('<IIII', i // 1000000, i % 1000000, 60, 60)
        fwd += record + frame(MAC_A, MAC_B, client, SERVER, 10000, 5000)
        rev += record + frame(MAC_B, MAC_A, SERVER, client, 5000, 10000)
    suffix = f'x{loops}' if loops > 1 else ''
    header = struct.pack('<IHHiIII', 0xa1b2c3d4, 2, 4, 0, 0, 65535, 1)
    for name, frames in (('a2b', fwd), ('b2a', rev)):
        with open(f'{out}/{name}_{n}{suffix}.pcap', 'wb') as f:
            f.write(header)
            for _ in range(loops):
                f.write(frames)


if __name__ == '__main__':
    main()
