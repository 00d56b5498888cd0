#!/usr/bin/python3
"""Splits the TCP streams of an OpenFlow capture into messages: one line per message,
'DIRECTION HEX' (c2s: client to switch, s2c: switch to client), in capture order per connection.
Usage: extract.py ofctl.pcap > messages.txt (needs python3-scapy)."""
import sys
from scapy.all import rdpcap, TCP

port = int(sys.argv[2]) if len(sys.argv) > 2 else 6653
streams = {}
order = []
for p in rdpcap(sys.argv[1]):
    if TCP not in p or not bytes(p[TCP].payload):
        continue
    t = p[TCP]
    key = (t.sport, t.dport)
    if key not in streams:
        streams[key] = {}
        order.append(key)
    streams[key][t.seq] = bytes(t.payload)
for key in order:
    segs = streams[key]
    data = b''
    nxt = None
    for seq in sorted(segs):
        if nxt is not None and seq < nxt:
            continue
        data += segs[seq]
        nxt = seq + len(segs[seq])
    direction = 'c2s' if key[1] == port else 's2c'
    i = 0
    while i + 8 <= len(data):
        n = int.from_bytes(data[i+2:i+4], 'big')
        if n < 8 or i + n > len(data):
            break
        if n <= 4096:
            print(direction, data[i:i+n].hex())
        i += n
