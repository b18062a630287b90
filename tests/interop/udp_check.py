#!/usr/bin/env python3
"""Kernel-side UDP checks against a shunt echo server (examples/udp_echo_raw).

  udp_check.py echo SERVER [--port 7] [--count 1000] [--max-size 8000] [--seed N]
               [--timeout 0.5] [--tries 5] [--max-resends N]
      Sends datagrams one at a time -- sizes from EDGES first, then
      1 + (i * 7919) % max-size, content from a seeded PRNG -- and compares
      every byte of every echo.  A datagram not echoed within the timeout is
      sent again, at most --tries times.  An echo matching an earlier datagram
      is a late duplicate; one matching nothing is corruption.
      Exit 0 only if all came back intact, nothing corrupt arrived and no more
      than --max-resends resends were needed.

  udp_check.py refused SERVER PORT
      A connected socket sends to a port nobody listens on and must get
      ECONNREFUSED (the kernel's reading of ICMP port unreachable).

  udp_check.py few SERVER [--port 7] [--count 5]
      Sends a few short text datagrams and prints each echo (demo, pcap test).

  udp_check.py junk IFACE DSTMAC [--count 2000] [--seed N]
      Writes malformed frames to DSTMAC through a packet socket on IFACE:
      runts, unknown ethertypes, and IPv4 from 198.18.0.1 to 198.18.0.2 with
      valid header sums but impossible lengths, options, fragment fields and
      truncated ICMP/UDP/TCP headers.  The receiver must survive them (the
      caller checks it still answers afterwards).
"""
import argparse
import random
import socket
import struct
import sys
import time

EDGES = [1, 2, 3, 7, 8, 9, 17, 63, 64, 65, 127, 128, 129, 255, 256, 257, 511, 1023, 1024,
         1471, 1472, 1473, 1479, 1480, 1481, 2047, 2048, 2049, 2951, 2952, 2953, 4095, 4096, 4097,
         7999, 8000]


def size_of(i, max_size):
    if i < len(EDGES) and EDGES[i] <= max_size:
        return EDGES[i]
    return 1 + (i * 7919) % max_size


def cmd_echo(a):
    rng = random.Random(a.seed)
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 20)
    s.connect((a.server, a.port))
    sent_before = {}
    ok = resent = late = corrupt = lost = 0
    nbytes = 0
    t0 = time.monotonic()
    for i in range(a.count):
        data = rng.randbytes(size_of(i, a.max_size))
        got = False
        for attempt in range(a.tries):
            if attempt:
                resent += 1
            s.send(data)
            deadline = time.monotonic() + a.timeout
            while not got:
                left = deadline - time.monotonic()
                if left <= 0:
                    break
                s.settimeout(left)
                try:
                    r = s.recv(65536)
                except socket.timeout:
                    break
                except OSError as e:
                    print(f"datagram {i}: recv: {e}", file=sys.stderr)
                    break
                if r == data:
                    got = True
                elif r in sent_before:
                    late += 1
                else:
                    corrupt += 1
                    print(f"datagram {i}: {len(r)} bytes came back that match nothing sent "
                          f"(expected {len(data)})", file=sys.stderr)
            if got:
                break
        if got:
            ok += 1
            nbytes += len(data)
        else:
            lost += 1
            print(f"datagram {i} ({len(data)} bytes): no echo after {a.tries} tries", file=sys.stderr)
            if lost >= a.max_lost:
                print(f"giving up after {lost} lost datagrams", file=sys.stderr)
                break
        sent_before[data] = i
    # Echoes of resent datagrams may still be on their way: count them as late, not lost.
    s.settimeout(0.05)
    try:
        while True:
            r = s.recv(65536)
            if r in sent_before:
                late += 1
            else:
                corrupt += 1
    except OSError:
        pass
    dt = time.monotonic() - t0
    print(f"udp echo: {ok}/{a.count} datagrams echoed intact (sizes 1..{a.max_size}, {nbytes} bytes "
          f"each way) in {dt:.2f} s: {resent} resent, {late} late duplicates, {corrupt} corrupt, "
          f"{lost} lost")
    if ok != a.count or corrupt or lost:
        return 1
    if resent > a.max_resends:
        print(f"too many resends ({resent} > {a.max_resends}): datagrams go missing on a lossless link",
              file=sys.stderr)
        return 1
    return 0


def cmd_refused(a):
    for attempt in range(3):
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.connect((a.server, a.port))
        s.settimeout(2)
        s.send(b"anyone there?")
        try:
            s.recv(100)
            print(f"port {a.port}: got an answer from a port that should be closed", file=sys.stderr)
            return 1
        except ConnectionRefusedError:
            print(f"udp to closed port {a.port}: ECONNREFUSED (ICMP port unreachable received)")
            return 0
        except socket.timeout:
            print(f"port {a.port}: no ICMP error within 2 s (try {attempt + 1})", file=sys.stderr)
        finally:
            s.close()
    return 1


def cmd_few(a):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.settimeout(1)
    bad = 0
    for i in range(a.count):
        msg = f"hello shunt #{i + 1}".encode()
        s.sendto(msg, (a.server, a.port))
        try:
            r, peer = s.recvfrom(65536)
        except socket.timeout:
            print(f"  sent {msg.decode()!r:24} -> no echo within 1 s")
            bad += 1
            continue
        same = "ok" if r == msg else "MISMATCH"
        print(f"  sent {msg.decode()!r:24} -> echo from {peer[0]}:{peer[1]}: {r.decode(errors='replace')!r} ({same})")
        bad += r != msg
    return 1 if bad else 0


def ip_sum(b):
    if len(b) % 2:
        b += b"\0"
    t = sum(int.from_bytes(b[i:i + 2], "big") for i in range(0, len(b), 2))
    while t >> 16:
        t = (t & 0xffff) + (t >> 16)
    return (~t) & 0xffff


def junk_frame(rng, dst, src):
    kind = rng.randrange(4)
    if kind == 0:                       # a runt or a frame of noise
        return dst + src + rng.randbytes(rng.randrange(0, 60))
    if kind == 1:                       # an ethertype nobody speaks
        return dst + src + b"\x88\xb5" + rng.randbytes(rng.randrange(0, 200))
    ihl = rng.choice([0, 1, 4, 5, 5, 5, 6, 15])
    opts = rng.randbytes(max(0, ihl * 4 - 20))
    payload = rng.randbytes(rng.choice([0, 1, 3, 7, 8, 19, 20, rng.randrange(0, 1480)]))
    tot = rng.choice([0, 19, 20 + len(opts) + len(payload), rng.randrange(0, 65536)])
    frag = rng.choice([0, 0x2000, rng.randrange(0, 0x2000), 0x2000 | rng.randrange(0, 0x2000),
                       0x4000, rng.randrange(0, 0x10000)])
    proto = rng.choice([1, 6, 17, 17, rng.randrange(256)])
    h = bytearray(struct.pack("!BBHHHBBH4s4s", (4 << 4) | (ihl & 15), 0, tot, rng.randrange(8) + 40000,
                              frag, rng.choice([0, 1, 64]), proto, 0,
                              socket.inet_aton("198.18.0.1"), socket.inet_aton("198.18.0.2"))) + opts
    h[10:12] = ip_sum(bytes(h)).to_bytes(2, "big")
    if kind == 3 and ihl >= 5:          # a deliberately wrong header sum
        h[10] ^= 0x5a
    return dst + src + b"\x08\x00" + bytes(h) + payload


def cmd_junk(a):
    rng = random.Random(a.seed)
    dst = bytes.fromhex(a.dstmac.replace(":", ""))
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
    s.bind((a.iface, 0))
    src = s.getsockname()[4][:6]
    sent = 0
    for _ in range(a.count):
        f = junk_frame(rng, dst, src)
        try:
            s.send(f)
            sent += 1
        except OSError:
            pass                        # the kernel refuses some runts itself
        if sent % 100 == 0:
            time.sleep(0.001)           # bounded rate: no queue is meant to overflow
    print(f"junk: {sent} malformed frames written to {a.dstmac} on {a.iface} (seed {a.seed})")
    return 0


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="cmd", required=True)
    e = sub.add_parser("echo")
    e.add_argument("server")
    e.add_argument("--port", type=int, default=7)
    e.add_argument("--count", type=int, default=1000)
    e.add_argument("--max-size", type=int, default=8000)
    e.add_argument("--seed", type=int, default=int(time.time()))
    e.add_argument("--timeout", type=float, default=0.5)
    e.add_argument("--tries", type=int, default=5)
    e.add_argument("--max-resends", type=int, default=5)
    e.add_argument("--max-lost", type=int, default=5, help="stop after this many lost datagrams")
    r = sub.add_parser("refused")
    r.add_argument("server")
    r.add_argument("port", type=int)
    j = sub.add_parser("junk")
    j.add_argument("iface")
    j.add_argument("dstmac")
    j.add_argument("--count", type=int, default=2000)
    j.add_argument("--seed", type=int, default=int(time.time()))
    f = sub.add_parser("few")
    f.add_argument("server")
    f.add_argument("--port", type=int, default=7)
    f.add_argument("--count", type=int, default=5)
    a = p.parse_args()
    if a.cmd == "echo":
        print(f"udp echo: seed {a.seed}")
        return cmd_echo(a)
    if a.cmd == "refused":
        return cmd_refused(a)
    if a.cmd == "junk":
        return cmd_junk(a)
    return cmd_few(a)


if __name__ == "__main__":
    sys.exit(main())
