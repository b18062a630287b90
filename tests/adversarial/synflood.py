#!/usr/bin/python3
"""SYN flood from spoofed sources while legitimate clients connect.

  synflood.py --count 200000 --rate 40000 [--target 198.18.0.2] [--port 7]
              [--clients 4] [--conns 400] [--iface sh0] [--seed N]

Sends --count SYNs at about --rate per second from random sources in
198.19.0.0/16 (inside 198.18.0.0/15) and random ports, each frame built once
beforehand, through a packet socket on the tap.  Meanwhile --clients kernel
threads open --conns connections in all to the echo server, each sending 64
bytes and expecting them back, with a 15 s budget per connection (the
kernel's SYN retransmissions included).  Prints the figures and the success
rate; exit 0 if at least 99 % of the legitimate connections succeeded.
"""
import argparse
import os
import random
import socket
import struct
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from peer import Wire, ip_checksum  # noqa: E402


def build_syns(w, target, port, count, rng):
    dst = socket.inet_aton(target)
    eth = bytes.fromhex(w.peer_mac.replace(":", "")) + bytes.fromhex(w.mac.replace(":", "")) + b"\x08\x00"
    # MSS 1460, SACK permitted, timestamps, NOP, window scale 7: what a Linux client offers.
    opts = b"\x02\x04\x05\xb4\x04\x02\x08\x0a\x00\x00\x00\x01\x00\x00\x00\x00\x01\x03\x03\x07"
    frames = []
    for _ in range(count):
        src = bytes((198, 19, rng.randrange(256), rng.randrange(1, 255)))
        sport = rng.randrange(1024, 65536)
        seq = rng.getrandbits(32)
        tcp = struct.pack("!HHIIBBHHH", sport, port, seq, 0, (5 + len(opts) // 4) << 4, 0x02, 64240, 0, 0) + opts
        pseudo = src + dst + struct.pack("!BBH", 0, 6, len(tcp))
        c = ip_checksum(pseudo + tcp)
        tcp = tcp[:16] + struct.pack("!H", c) + tcp[18:]
        ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(tcp), rng.getrandbits(16), 0x4000, 64, 6, 0, src, dst)
        ip = ip[:10] + struct.pack("!H", ip_checksum(ip)) + ip[12:]
        frames.append(eth + ip + tcp)
    return frames


def client(target, port, n, results, stop_at, gap):
    for _ in range(n):
        time.sleep(gap)
        t0 = time.monotonic()
        ok = False
        try:
            s = socket.create_connection((target, port), timeout=15)
            s.settimeout(15)
            data = os.urandom(64)
            s.sendall(data)
            got = b""
            while len(got) < len(data):
                b = s.recv(64)
                if not b:
                    break
                got += b
            ok = got == data
            s.close()
        except OSError:
            ok = False
        results.append((ok, time.monotonic() - t0))
        if time.monotonic() > stop_at:
            break


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--target", default="198.18.0.2")
    ap.add_argument("--port", type=int, default=7)
    ap.add_argument("--iface", default="sh0")
    ap.add_argument("--count", type=int, default=200000)
    ap.add_argument("--rate", type=int, default=40000)
    ap.add_argument("--clients", type=int, default=4)
    ap.add_argument("--conns", type=int, default=400)
    ap.add_argument("--seed", type=int, default=int(time.time()))
    a = ap.parse_args()
    rng = random.Random(a.seed)
    w = Wire(a.iface, a.target)
    t0 = time.monotonic()
    frames = build_syns(w, a.target, a.port, a.count, rng)
    print("seed %d: %d SYN frames built in %.1f s" % (a.seed, len(frames), time.monotonic() - t0), flush=True)

    results = []
    flood_secs = a.count / a.rate
    stop_at = time.monotonic() + flood_secs + 60
    per = a.conns // a.clients
    gap = flood_secs * 0.9 / per
    threads = [threading.Thread(target=client, args=(a.target, a.port, per, results, stop_at, gap))
               for _ in range(a.clients)]
    sent = 0
    start = time.monotonic()
    # Let the clients start inside the flood, not before it.
    burst = 200
    started = False
    while sent < len(frames):
        for f in frames[sent:sent + burst]:
            try:
                w.sock.send(f)
            except BlockingIOError:
                pass
        sent += len(frames[sent:sent + burst])
        if not started and sent >= min(len(frames), a.rate // 4):
            for t in threads:
                t.start()
            started = True
        ahead = sent / a.rate - (time.monotonic() - start)
        if ahead > 0:
            time.sleep(ahead)
    took = time.monotonic() - start
    if not started:
        for t in threads:
            t.start()
    print("sent %d SYNs in %.1f s (%.0f/s)" % (sent, took, sent / took), flush=True)
    for t in threads:
        t.join()
    good = sum(1 for ok, _ in results if ok)
    total = len(results)
    lat = sorted(d for ok, d in results if ok)
    rate = 100.0 * good / total if total else 0.0
    print("legitimate connections: %d of %d succeeded (%.2f %%), during a flood of %.1f s" % (good, total, rate, took))
    if lat:
        print("connection time: median %.1f ms, 99th percentile %.1f ms, max %.1f ms" %
              (1000 * lat[len(lat) // 2], 1000 * lat[min(len(lat) - 1, int(len(lat) * 0.99))], 1000 * lat[-1]))
    return 0 if total > 0 and good * 100 >= 99 * total else 1


if __name__ == "__main__":
    sys.exit(main())
