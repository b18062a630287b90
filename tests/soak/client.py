#!/usr/bin/python3
"""Soak load from the kernel side: a mixed workload against an echo server
(TCP and UDP on the same port) for a set time, every byte checked.

  client.py SERVER PORT --seconds N [--workers 8] [--long 4] [--udp 1] [--seed S]

--workers threads each loop: connect, send a random amount (1 byte .. 2 MB,
mostly small) in writes of random size while reading the echo, compare,
close (now and then abortively, with a RST).  --long connections stay open
the whole time, exchanging a few KB every 100 ms.  --udp threads send
datagrams of 1..1400 bytes and check what comes back (UDP may lose some under
impairment: only wrong bytes count as errors).  Prints a progress line every
30 s and a summary; exit 0 if nothing came back wrong and every worker made
progress.
"""
import argparse
import os
import random
import socket
import struct
import sys
import threading
import time

lock = threading.Lock()
stats = {"conns": 0, "bytes": 0, "errors": 0, "timeouts": 0, "udp_sent": 0, "udp_ok": 0, "long_rounds": 0}
errors = []


def note(k, n=1):
    with lock:
        stats[k] += n


def fail(msg):
    with lock:
        stats["errors"] += 1
        if len(errors) < 20:
            errors.append(msg)


def size(rng):
    r = rng.random()
    if r < 0.5:
        return rng.randint(1, 1500)
    if r < 0.9:
        return rng.randint(1500, 65536)
    return rng.randint(65536, 2 << 20)


def echo_once(a, rng):
    n = size(rng)
    data = rng.randbytes(n)
    s = socket.create_connection((a.server, a.port), timeout=30)
    s.settimeout(30)
    got = bytearray()
    err = []

    def reader():
        try:
            while len(got) < n:
                b = s.recv(65536)
                if not b:
                    break
                got.extend(b)
        except OSError as e:
            err.append(e)
    t = threading.Thread(target=reader)
    t.start()
    off = 0
    while off < n:
        k = min(n - off, rng.choice((1, 100, 1448, 4096, 65536)))
        s.sendall(data[off:off + k])
        off += k
    t.join(60)
    if err or len(got) != n:
        if err and isinstance(err[0], socket.timeout):
            note("timeouts")
        fail("echo of %d bytes: got %d (%s)" % (n, len(got), err[0] if err else "short"))
    elif bytes(got) != data:
        fail("echo of %d bytes differs" % n)
    if rng.random() < 0.1:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))	# RST
    s.close()
    note("conns")
    note("bytes", n)


def worker(a, idx, deadline):
    rng = random.Random(a.seed * 100 + idx)
    while time.monotonic() < deadline:
        try:
            echo_once(a, rng)
        except OSError as e:
            fail("worker %d: %s" % (idx, e))
            time.sleep(0.5)


def long_conn(a, idx, deadline):
    rng = random.Random(a.seed * 1000 + idx)
    s = socket.create_connection((a.server, a.port), timeout=30)
    s.settimeout(30)
    while time.monotonic() < deadline:
        data = rng.randbytes(rng.randint(1, 4096))
        try:
            s.sendall(data)
            got = b""
            while len(got) < len(data):
                b = s.recv(65536)
                if not b:
                    raise OSError("closed")
                got += b
            if got != data:
                fail("long connection %d: bytes differ" % idx)
            note("long_rounds")
        except OSError as e:
            fail("long connection %d: %s" % (idx, e))
            return
        time.sleep(0.1)
    s.close()


def udp(a, idx, deadline):
    rng = random.Random(a.seed * 10000 + idx)
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.settimeout(0.5)
    s.connect((a.server, a.port))
    while time.monotonic() < deadline:
        data = struct.pack("!I", rng.getrandbits(32)) + rng.randbytes(rng.randint(0, 1396))
        s.send(data)
        note("udp_sent")
        try:
            # Replies to datagrams given up on may still come: skip those (their tag differs).
            while True:
                got = s.recv(2048)
                if got[:4] == data[:4]:
                    break
            if got != data:
                fail("udp datagram differs")
            else:
                note("udp_ok")
        except socket.timeout:
            pass
        time.sleep(0.005)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("server")
    ap.add_argument("port", type=int)
    ap.add_argument("--seconds", type=int, default=600)
    ap.add_argument("--workers", type=int, default=8)
    ap.add_argument("--long", type=int, default=4)
    ap.add_argument("--udp", type=int, default=1)
    ap.add_argument("--seed", type=int, default=int(time.time()))
    a = ap.parse_args()
    print("soak client: seed %d, %d s, %d workers, %d long connections, %d UDP" %
          (a.seed, a.seconds, a.workers, a.long, a.udp), flush=True)
    deadline = time.monotonic() + a.seconds
    ths = [threading.Thread(target=worker, args=(a, i, deadline)) for i in range(a.workers)]
    ths += [threading.Thread(target=long_conn, args=(a, i, deadline)) for i in range(a.long)]
    ths += [threading.Thread(target=udp, args=(a, i, deadline)) for i in range(a.udp)]
    for t in ths:
        t.daemon = True
        t.start()
    start = time.monotonic()
    while any(t.is_alive() for t in ths):
        time.sleep(1)
        if int(time.monotonic() - start) % 30 == 0:
            with lock:
                print("  t=%3d s: %d connections, %.1f MB echoed, %d long rounds, UDP %d/%d, %d errors" %
                      (time.monotonic() - start, stats["conns"], stats["bytes"] / 1e6, stats["long_rounds"],
                       stats["udp_ok"], stats["udp_sent"], stats["errors"]), flush=True)
        if time.monotonic() > deadline + 120:
            fail("workers still running 120 s after the deadline")
            break
    print("soak client: %d connections, %.1f MB echoed, %d long-connection rounds, UDP %d of %d back, "
          "%d errors (%d timeouts)" % (stats["conns"], stats["bytes"] / 1e6, stats["long_rounds"],
                                       stats["udp_ok"], stats["udp_sent"], stats["errors"], stats["timeouts"]))
    for e in errors:
        print("  error: %s" % e)
    ok = stats["errors"] == 0 and stats["conns"] > 0 and stats["long_rounds"] > 0
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
