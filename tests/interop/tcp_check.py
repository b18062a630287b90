#!/usr/bin/env python3
"""Kernel-side TCP checks against shunt's TCP examples and tools over net_tap.

  tcp_check.py echo SERVER [--port 7] [--bytes 4M] [--conns 1] [--seed N] [--timeout 60]
      Opens --conns connections at once; on each, one thread sends --bytes of
      seeded pseudo-random data in writes of varying size (1 byte .. 64 KiB)
      while another reads the echo, then half-closes and waits for the
      server's FIN.  Every echoed byte is compared; exit 0 only if all came
      back, in order, and the server then closed cleanly.

  tcp_check.py sink PORT --out FILE [--timeout 300] [--ready FILE]
      Listens on PORT (all addresses), accepts one connection, writes all it
      receives to FILE until the peer's FIN, prints bytes and MB/s.  --ready
      is created once listening (the test waits for it).

  tcp_check.py source SERVER PORT --file FILE [--timeout 300]
      Connects, sends FILE with sendfile(), half-closes, waits for the peer to
      close, prints bytes and MB/s.

  tcp_check.py refused SERVER PORT
      connect() to a port nobody listens on must fail with ECONNREFUSED
      (the kernel's reading of a RST).

  tcp_check.py http SERVER [--port 80] --path P --expect-file F [--requests 5]
      Sends --requests GET and HEAD requests for P on one kept-alive
      connection (http.client), then one for a missing file; checks status
      codes, Content-Length, the body's bytes against F, that HEAD has no
      body, and that the connection was never reopened.
"""
import argparse
import http.client
import os
import random
import socket
import sys
import threading
import time


def parse_size(s):
    mult = {"k": 1 << 10, "m": 1 << 20, "g": 1 << 30}
    s = s.strip().lower().rstrip("b")
    if s and s[-1] in mult:
        return int(s[:-1]) * mult[s[-1]]
    return int(s)


def echo_one(idx, a, results):
    rng = random.Random(a.seed * 1000 + idx)
    data = rng.randbytes(a.bytes)
    s = socket.create_connection((a.server, a.port), timeout=a.timeout)
    err = []

    def writer():
        try:
            off = 0
            wr = random.Random(a.seed + 77 + idx)
            while off < len(data):
                n = min(len(data) - off, wr.choice((1, 7, 100, 1448, 4096, 65536, 65536)))
                s.sendall(data[off:off + n])
                off += n
            s.shutdown(socket.SHUT_WR)
        except OSError as e:
            err.append(f"send: {e}")

    t = threading.Thread(target=writer)
    t0 = time.monotonic()
    t.start()
    got = bytearray()
    try:
        while True:
            r = s.recv(1 << 20)
            if not r:
                break
            got += r
    except OSError as e:
        err.append(f"recv after {len(got)} bytes: {e}")
    t.join()
    dt = time.monotonic() - t0
    s.close()
    if len(got) != len(data) or got != data:
        first = next((i for i in range(min(len(got), len(data))) if got[i] != data[i]), min(len(got), len(data)))
        err.append(f"echo differs: {len(got)} of {len(data)} bytes back, first difference at byte {first}")
    results[idx] = (err, dt)


def cmd_echo(a):
    results = [None] * a.conns
    threads = [threading.Thread(target=echo_one, args=(i, a, results)) for i in range(a.conns)]
    t0 = time.monotonic()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    dt = time.monotonic() - t0
    bad = 0
    for i, (err, _) in enumerate(results):
        for e in err:
            print(f"connection {i}: {e}", file=sys.stderr)
            bad += 1
    total = a.bytes * a.conns
    print(f"echo: {a.conns} connection(s) x {a.bytes} bytes, {'all intact' if not bad else 'FAILED'}, "
          f"{dt:.2f} s, {2 * total / dt / 1e6:.1f} MB/s both ways together")
    return 0 if bad == 0 else 1


def cmd_sink(a):
    ls = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind(("0.0.0.0", a.port))
    ls.listen(1)
    ls.settimeout(a.timeout)
    if a.ready:
        open(a.ready, "w").close()
    c, peer = ls.accept()
    c.settimeout(a.timeout)
    n = 0
    t0 = time.monotonic()
    with open(a.out, "wb") as f:
        while True:
            r = c.recv(1 << 20)
            if not r:
                break
            f.write(r)
            n += len(r)
    dt = time.monotonic() - t0
    c.close()
    ls.close()
    print(f"sink: {n} bytes from {peer[0]}:{peer[1]} in {dt:.2f} s, {n / dt / 1e6:.1f} MB/s")
    return 0


def cmd_source(a):
    s = socket.create_connection((a.server, a.port), timeout=a.timeout)
    size = os.path.getsize(a.file)
    t0 = time.monotonic()
    with open(a.file, "rb") as f:
        sent = s.sendfile(f)
    s.shutdown(socket.SHUT_WR)
    # The peer closes when it has everything: wait for its FIN.
    while s.recv(65536):
        pass
    dt = time.monotonic() - t0
    s.close()
    print(f"source: {sent} of {size} bytes in {dt:.2f} s, {sent / dt / 1e6:.1f} MB/s")
    return 0 if sent == size else 1


def cmd_refused(a):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.settimeout(10)
    try:
        s.connect((a.server, a.port))
    except ConnectionRefusedError:
        print(f"connect to {a.server}:{a.port}: ECONNREFUSED, as expected")
        return 0
    except OSError as e:
        print(f"connect to {a.server}:{a.port}: {e} (want ECONNREFUSED)", file=sys.stderr)
        return 1
    print(f"connect to {a.server}:{a.port} succeeded (want ECONNREFUSED)", file=sys.stderr)
    return 1


def cmd_http(a):
    want = open(a.expect_file, "rb").read()
    conn = http.client.HTTPConnection(a.server, a.port, timeout=30)
    bad = 0
    sock = None
    for i in range(a.requests):
        method = "HEAD" if i % 3 == 2 else "GET"
        conn.request(method, a.path)
        r = conn.getresponse()
        body = r.read()
        if sock is None:
            sock = conn.sock
        elif conn.sock is not sock:
            print(f"request {i}: the connection was reopened (no keep-alive)", file=sys.stderr)
            bad += 1
            sock = conn.sock
        clen = r.getheader("Content-Length")
        if r.status != 200:
            print(f"request {i} ({method}): status {r.status}", file=sys.stderr)
            bad += 1
        elif clen is None or int(clen) != len(want):
            print(f"request {i} ({method}): Content-Length {clen}, want {len(want)}", file=sys.stderr)
            bad += 1
        elif method == "GET" and body != want:
            print(f"request {i}: body of {len(body)} bytes differs from the file", file=sys.stderr)
            bad += 1
        elif method == "HEAD" and body:
            print(f"request {i}: HEAD response carried {len(body)} body bytes", file=sys.stderr)
            bad += 1
    conn.request("GET", a.path + ".does-not-exist")
    r = conn.getresponse()
    r.read()
    if r.status != 404:
        print(f"missing file: status {r.status}, want 404", file=sys.stderr)
        bad += 1
    if conn.sock is not sock:
        print("the 404 came on a new connection", file=sys.stderr)
        bad += 1
    conn.close()
    print(f"http: {a.requests} requests + a 404 on one connection, {'all as expected' if not bad else 'FAILED'}")
    return 0 if bad == 0 else 1


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="cmd", required=True)
    e = sub.add_parser("echo")
    e.add_argument("server")
    e.add_argument("--port", type=int, default=7)
    e.add_argument("--bytes", type=parse_size, default=4 << 20)
    e.add_argument("--conns", type=int, default=1)
    e.add_argument("--seed", type=int, default=1)
    e.add_argument("--timeout", type=float, default=60)
    k = sub.add_parser("sink")
    k.add_argument("port", type=int)
    k.add_argument("--out", required=True)
    k.add_argument("--timeout", type=float, default=300)
    k.add_argument("--ready")
    o = sub.add_parser("source")
    o.add_argument("server")
    o.add_argument("port", type=int)
    o.add_argument("--file", required=True)
    o.add_argument("--timeout", type=float, default=300)
    r = sub.add_parser("refused")
    r.add_argument("server")
    r.add_argument("port", type=int)
    h = sub.add_parser("http")
    h.add_argument("server")
    h.add_argument("--port", type=int, default=80)
    h.add_argument("--path", required=True)
    h.add_argument("--expect-file", required=True)
    h.add_argument("--requests", type=int, default=5)
    a = p.parse_args()
    return {"echo": cmd_echo, "sink": cmd_sink, "source": cmd_source, "refused": cmd_refused,
            "http": cmd_http}[a.cmd](a)


if __name__ == "__main__":
    sys.exit(main())
