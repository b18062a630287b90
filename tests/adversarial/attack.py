#!/usr/bin/python3
"""Adversarial peer suite: hostile and malformed traffic against a shunt
server over DPDK net_tap, from the kernel side of the tap in a private netns.

  attack.py --pid PID [--target 198.18.0.2] [--port 7] [--udp-port 7]
            [--mode echo|http --http-path P --http-file F] [--only NAME,...] [--list]

After every probe the oracle runs (peer.Oracle): the server process is alive,
ping answers, a fresh connection works, and two connections opened at the
start still carry their data intact.  Each case also checks what the RFCs say
shunt must do (challenge ACKs, no reset, no data taken, bounded answers).
Prints one line per case and ends with "N passed, N failed"; exit 0 if all pass.
"""
import argparse
import os
import random
import sys
import time
import traceback

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from peer import Conn, Oracle, Wire, ip_checksum, now_ms, opts_default, seq_add  # noqa: E402
from scapy.layers.inet import ICMP, IP, TCP, UDP, fragment  # noqa: E402
from scapy.layers.l2 import Ether  # noqa: E402

CASES = []


def case(tcp=True, udp=False):
    def reg(fn):
        CASES.append((fn.__name__, fn, tcp, udp))
        return fn
    return reg


class Fail(Exception):
    pass


def expect(cond, msg):
    if not cond:
        raise Fail(msg)


class Ctx:
    def __init__(self, a):
        self.a = a
        self.target = a.target
        self.w = Wire(a.iface, a.target)
        self.port = a.port
        self.udp_port = a.udp_port
        self.n = 0
        self.http = a.mode == "http"

    def src(self):
        """A fresh spoofed source inside 198.19.0.0/16."""
        self.n += 1
        return "198.19.%d.%d" % ((self.n >> 8) & 0xff, 1 + (self.n & 0x7f))

    def conn(self, **kw):
        c = Conn(self.w, self.src(), self.target, self.port, **kw)
        return c

    def established(self, opts=None, **kw):
        c = self.conn(**kw)
        c.handshake(opts=opts)
        self.w.drain()
        return c

    def data_check(self, c, n=1500):
        """The connection still works: for an echo, bytes round-trip; for HTTP, a request is answered."""
        if not self.http:
            expect(c.echo_check(n), "connection lost data or died (stream %d bytes)" % len(c.stream))
            return
        base = len(c.stream)
        c.write(("GET %s HTTP/1.1\r\nHost: x\r\n\r\n" % self.a.http_path).encode())
        body = self.a.http_body_bytes

        def complete(cc):
            head, sep, rest = cc.stream[base:].partition(b"\r\n\r\n")
            return sep != b"" and len(rest) >= len(body)
        c.pump(8, until=complete)
        expect(b" 200 " in c.stream[base:base + 20], "HTTP request on the connection not answered")
        expect(c.stream.endswith(self.a.http_body_bytes), "HTTP body differs")

    def replies(self, c, secs=0.4):
        return self.w.collect(c.mine, secs)


def is_ack_only(p):
    return (p[TCP].flags & 0x17) == 0x10


# ---------------------------------------------------------------- RFC 5961

@case()
def rst_exact_resets(x):
    """Control: a RST at exactly RCV.NXT does reset (proves the probes reach the connection)."""
    c = x.established()
    c.send("R", seq=c.snd_nxt, ack=0, opts=[])
    time.sleep(0.1)
    x.w.drain()
    c.send("PA", data=b"after reset")
    r = x.replies(c)
    expect(any(p[TCP].flags & 0x04 for p in r), "data after the exact RST was not answered with a RST")


@case()
def rst_in_window_challenged(x):
    """RFC 5961 §3.2: an in-window RST that is not exact gets a challenge ACK and changes nothing."""
    c = x.established()
    for off in (1, 1000, 30000):
        x.w.drain()
        c.send("R", seq=seq_add(c.snd_nxt, off), ack=0, opts=[])
        r = x.replies(c)
        expect(any(is_ack_only(p) and p[TCP].ack == c.snd_nxt for p in r),
               "no challenge ACK for a RST at RCV.NXT+%d" % off)
        expect(not any(p[TCP].flags & 0x04 for p in r), "shunt answered a RST with a RST")
    x.data_check(c)
    c.close()


@case()
def rst_out_of_window_ignored(x):
    """RFC 5961 §3.2: a RST outside the window is dropped without a word."""
    c = x.established()
    for off in (-1, -70000, 1 << 20, 1 << 31):
        c.send("R", seq=seq_add(c.snd_nxt, off), ack=0, opts=[])
    r = x.replies(c)
    expect(not r, "%d answers to out-of-window RSTs" % len(r))
    x.data_check(c)
    c.close()


def observe_kept(x, i):
    """The kernel's port and shunt's last segment on the oracle's kept connection i, learnt off the
    wire during one ordinary exchange: its ACK field is shunt's RCV.NXT, its SEQ just below SND.NXT."""
    s = x.oracle.keep[i]
    lport = s.getsockname()[1]
    x.w.drain()
    x.oracle.exchange(s)
    seen = x.w.collect(lambda p: p.haslayer(TCP) and p[IP].src == x.target and p[TCP].dport == lport, 0.3)
    expect(seen, "could not observe the kernel connection")
    return lport, seen[-1][TCP]


@case()
def rst_ack_blind_against_kernel_connection(x):
    """Blind RSTs spoofing the kernel's address against a live kernel connection
    (in-window but not exact, and off-window): the connection survives."""
    lport, t = observe_kept(x, 0)
    rcv_nxt = t.ack		# what shunt expects next from the kernel
    for off in (1, 7, 5000, 40000, 1 << 24):
        x.w.send(IP(src="198.18.0.1", dst=x.target) / TCP(sport=lport, dport=x.port, flags="R",
                                                             seq=seq_add(rcv_nxt, off)))
        x.w.send(IP(src="198.18.0.1", dst=x.target) / TCP(sport=lport, dport=x.port, flags="RA",
                                                             seq=seq_add(rcv_nxt, off), ack=t.seq))
    time.sleep(0.2)


@case()
def syn_on_established_challenged(x):
    """RFC 5961 §4: a SYN on a synchronized connection (in or out of window) gets a challenge ACK, no reset."""
    c = x.established()
    for off in (0, 500, 1 << 30):
        x.w.drain()
        c.send("S", seq=seq_add(c.snd_nxt, off), ack=0, opts=opts_default())
        r = x.replies(c)
        expect(any(is_ack_only(p) and p[TCP].ack == c.snd_nxt for p in r),
               "no challenge ACK for a SYN at +%d" % off)
        expect(not any(p[TCP].flags & 0x06 for p in r), "answered a SYN with SYN or RST")
    x.data_check(c)
    c.close()


@case()
def data_injection_out_of_window(x):
    """Data far beyond the window, or before it, is not taken: the stream stays exactly what was sent in order."""
    c = x.established()
    c.send("PA", seq=seq_add(c.snd_nxt, 10 << 20), data=b"EVIL" * 100)
    c.send("PA", seq=seq_add(c.snd_nxt, -(1 << 20)), data=b"EVIL" * 100)
    r = x.replies(c)
    expect(all(is_ack_only(p) and p[TCP].ack == c.snd_nxt for p in r), "unexpected answer to off-window data")
    x.data_check(c)
    expect(b"EVIL" not in c.stream, "injected bytes came back")
    c.close()


@case()
def data_injection_bad_ack(x):
    """RFC 5961 §5: data whose ACK field acknowledges what was never sent (or is too old) is discarded."""
    c = x.established()
    snd_nxt_peer = c.rcv_nxt	# shunt's SND.NXT
    for ack in (seq_add(snd_nxt_peer, 100000), seq_add(snd_nxt_peer, -(1 << 30))):
        x.w.drain()
        c.send("PA", ack=ack, data=b"EVIL" * 50)
        r = x.replies(c)
        expect(any(is_ack_only(p) and p[TCP].ack == c.snd_nxt for p in r), "no challenge ACK for ack=%d" % ack)
    x.data_check(c)
    expect(b"EVIL" not in c.stream, "data with an unacceptable ACK was taken")
    c.close()


@case()
def challenge_ack_rate_limited(x):
    """RFC 5961 §7: challenge ACKs are rate-limited (1000/s per stack by default)."""
    c = x.established()
    x.w.drain()
    seg = bytes(c.seg("R", seq=seq_add(c.snd_nxt, 100), ack=0, opts=[]))
    start = time.monotonic()
    for _ in range(3000):
        x.w.send(seg)
    took = time.monotonic() - start
    r = x.w.collect(c.mine, 0.5)
    acks = sum(1 for p in r if is_ack_only(p))
    # A bucket of one second's worth (1000), refilled at 1000/s while the probe lasted.
    limit = 1000 + 1000 * (took + 0.6) + 20
    print("    3000 in-window RSTs in %.2f s -> %d challenge ACKs (bound %d)" % (took, acks, limit))
    expect(acks > 0, "no challenge ACK at all")
    expect(acks <= limit, "%d challenge ACKs exceed the rate limit" % acks)
    x.data_check(c)
    c.close()


@case()
def paws_old_timestamp(x):
    """RFC 7323 §5: a segment with a timestamp older than TS.Recent is dropped (and ACKed), its data not taken."""
    c = x.established()
    x.data_check(c, 100)
    old = (now_ms() - 1000000) & 0xffffffff
    x.w.drain()
    c.send("PA", data=b"STALE" * 10, opts=[("Timestamp", (old, c.ts_recent))])
    r = x.replies(c)
    expect(any(is_ack_only(p) and p[TCP].ack == c.snd_nxt for p in r), "no ACK for the PAWS-failed segment")
    x.data_check(c)
    expect(b"STALE" not in c.stream, "data of an old-timestamp segment was taken")
    c.close()


# ---------------------------------------------------------------- TCP headers and options

@case()
def tcp_bad_data_offset(x):
    """Data offset below 5, or beyond the segment: dropped, no answer; the connection goes on."""
    c = x.established()
    for doff in (0, 1, 4, 15):
        raw = bytearray(bytes(c.seg("PA", data=b"X" * 8, opts=[])))
        raw[20 + 12] = (doff << 4) | (raw[20 + 12] & 0x0f)
        fix_tcp_csum(raw)
        x.w.send(bytes(raw))
    r = x.replies(c)
    expect(not any(p[TCP].flags & 0x04 for p in r), "a bad data offset provoked a RST")
    x.data_check(c)
    expect(b"XXXXXXXX" not in c.stream, "a segment with a bad data offset was taken")
    c.close()


def fix_tcp_csum(raw, ihl=20):
    """Recomputes the IPv4 header and TCP checksums of a datagram in place."""
    raw[10:12] = b"\0\0"
    raw[10:12] = ip_checksum(bytes(raw[:ihl])).to_bytes(2, "big")
    tl = int.from_bytes(raw[2:4], "big")
    seg = raw[ihl:tl]
    seg[16:18] = b"\0\0"
    pseudo = bytes(raw[12:20]) + b"\0\x06" + len(seg).to_bytes(2, "big")
    raw[ihl + 16:ihl + 18] = ip_checksum(pseudo + bytes(seg)).to_bytes(2, "big")


MALFORMED_OPTS = [
    b"\x02",			# MSS, no length
    b"\x02\x00\x05\xb4",		# MSS, length 0
    b"\x02\x01\x05\xb4",		# MSS, length 1
    b"\x02\x03\x05\x00",		# MSS, length 3
    b"\x02\x28",			# MSS, length past the header
    b"\x03\x02\x07\x00",		# wscale, length 2
    b"\x03\x04\x07\x00",		# wscale, length 4
    b"\x04\x03\x00\x00",		# SACK-permitted, length 3
    b"\x05\x03\x00\x00",		# SACK, length 3
    b"\x05\x0b" + b"\x00" * 10,	# SACK, length 11
    b"\x05\x22" + b"\xff" * 32,	# SACK, 4 blocks of nonsense
    b"\x08\x09" + b"\x00" * 10,	# timestamp, length 9
    b"\x08\x0b" + b"\x00" * 10,	# timestamp, length 11
    b"\x08",			# timestamp, cut
    b"\xfe\x00\x00\x00",		# experimental, length 0
    b"\xff\xff" + b"\x00" * 2,	# unknown kind 255, length 255
    b"\x01" * 40,			# 40 NOPs
    b"\x00" * 40,			# EOL then padding
]


def raw_tcp(src, dst, sport, dport, flags, seq, ack, win, optbytes, data=b""):
    optbytes = optbytes[:40]
    pad = (-len(optbytes)) % 4
    optbytes += b"\0" * pad
    doff = 5 + len(optbytes) // 4
    t = TCP(sport=sport, dport=dport, flags=flags, seq=seq, ack=ack, window=win, dataofs=doff)
    raw = bytearray(bytes(IP(src=src, dst=dst) / t))
    # scapy emits a bare 20-byte header for a dataofs without options: splice them in
    hdr = raw[:40] + optbytes + data
    hdr[2:4] = len(hdr).to_bytes(2, "big")
    fix_tcp_csum(hdr)
    return bytes(hdr)


@case()
def tcp_malformed_options_on_syn(x):
    """Every option malformed or truncated on a SYN: no crash; the handshake either completes and works, or is refused."""
    for ob in MALFORMED_OPTS:
        c = x.conn()
        x.w.send(raw_tcp(c.src, x.target, c.sport, x.port, "S", c.iss, 0, 65535, ob))
        r = x.w.collect(lambda p: c.mine(p) and (p[TCP].flags & 0x12) == 0x12, 0.5, True)
        if r:
            sa = r[0][TCP]
            c.irs, c.rcv_nxt, c.snd_nxt = sa.seq, seq_add(sa.seq, 1), seq_add(c.iss, 1)
            c.ts_ok = any(k == "Timestamp" for k, _ in sa.options)
            if c.ts_ok:
                c.ts_recent = [v for k, v in sa.options if k == "Timestamp"][0][0]
            c.send("A")
            x.data_check(c, 300)
            c.close()


@case()
def tcp_malformed_options_established(x):
    """The same malformed options on segments of an established connection: ignored, data flows."""
    c = x.established()
    for ob in MALFORMED_OPTS:
        x.w.send(raw_tcp(c.src, x.target, c.sport, x.port, "A", c.snd_nxt, c.rcv_nxt, 65535, ob))
    r = x.replies(c)
    expect(not any(p[TCP].flags & 0x04 for p in r), "malformed options provoked a RST")
    x.data_check(c)
    c.close()


@case()
def tcp_mss_tiny(x):
    """MSS 0, 1 and 64 in the SYN: shunt never sends segments of nothing; data comes back intact in small segments."""
    for mss in (0, 1, 64):
        c = x.conn()
        c.handshake(opts=[("MSS", mss), ("Timestamp", (now_ms(), 0))])
        x.w.drain()
        if x.http:
            x.data_check(c)
            seen = []
        else:
            data = os.urandom(3000)
            c.write(data, mss=500)
            seen = c.pump(5, want=3000)
            expect(c.stream[:3000] == data, "MSS %d: echo differs (%d bytes back)" % (mss, len(c.stream)))
        biggest = max([len(bytes(p[TCP].payload)) for p in seen] + [0])
        expect(biggest <= 64, "MSS %d: shunt sent a %d-byte segment" % (mss, biggest))
        c.close()


@case()
def tcp_wscale_over_14(x):
    """Window scale 15 and 255 in a SYN are taken as 14 (RFC 7323 §2.3): the connection works."""
    for ws in (15, 255):
        c = x.conn()
        c.handshake(opts=[("MSS", 1460), ("WScale", ws), ("Timestamp", (now_ms(), 0))])
        c.win = 512		# x 2^14 = 8 MB
        x.w.drain()
        x.data_check(c)
        c.close()


@case()
def tcp_flag_combinations(x):
    """SYN+FIN, SYN+RST, SYN+FIN+PSH+URG, no flags, FIN alone, to the listener: no connection, no SYN-ACK."""
    for flags in ("SF", "SR", "SFPU", "", "F", "FPU", "SRA", "SFA"):
        c = x.conn()
        c.send(flags, seq=c.iss, ack=0, opts=opts_default())
        r = x.w.collect(c.mine, 0.2)
        expect(not any((p[TCP].flags & 0x12) == 0x12 for p in r), "flags %r got a SYN-ACK" % flags)


@case()
def tcp_flag_combinations_established(x):
    """SYN+FIN and SYN+RST on an established connection: challenged or dropped, never obeyed."""
    c = x.established()
    for flags in ("SF", "SR", "SRA", "SFPU"):
        c.send(flags, seq=seq_add(c.snd_nxt, 10), opts=[])
    time.sleep(0.2)
    x.data_check(c)
    c.close()


@case()
def land_attack(x):
    """A SYN from shunt's own address and port to itself: dropped, no self-talk, no storm."""
    for _ in range(3):
        x.w.send(IP(src=x.target, dst=x.target) / TCP(sport=x.port, dport=x.port, flags="S", seq=12345,
                                                       options=opts_default()))
        x.w.send(IP(src=x.target, dst=x.target) / UDP(sport=x.udp_port or 7, dport=x.udp_port or 7) / b"loop")
        x.w.send(IP(src=x.target, dst=x.target) / ICMP(type=8, id=1, seq=1) / b"loop")
    time.sleep(0.3)
    busy = x.oracle.busy(1.0)
    print("    server CPU after the land attack: %.0f %%" % (busy * 100))
    expect(busy < 0.5, "the server keeps a CPU busy (%.0f %%) after a land attack" % (busy * 100))


@case()
def overlapping_segments_conflicting(x):
    """Overlapping, out-of-order segments with conflicting bytes: the stream that comes back has the right
    length and every byte is one that was sent for its position (nothing invented, nothing lost)."""
    if x.http:
        return
    c = x.established()
    base = c.snd_nxt
    n = 1400
    a, b, d = b"A" * n, b"B" * n, b"C" * n
    layout = ((500, 1000, "B"), (700, 1200, "C"), (1100, 1400, "A"), (400, 600, "C"), (0, 550, "A"),
              (0, 1400, "B"))
    # Out of order first, overlapping one another, then the hole is filled by overlapping segments.
    for s0, e0, ch in layout:
        c.send("PA", seq=seq_add(base, s0), data={"A": a, "B": b, "C": d}[ch][s0:e0])
    c.snd_nxt = seq_add(base, n)
    c.pump(5, want=n)
    got = c.stream[:n]
    expect(len(got) == n, "echo length %d, want %d" % (len(got), n))
    allowed = [set() for _ in range(n)]
    for s0, e0, ch in layout:
        for i in range(s0, e0):
            allowed[i].add(ord(ch))
    bad = [i for i in range(n) if got[i] not in allowed[i]]
    expect(not bad, "bytes at %s were never sent there" % bad[:5])
    x.data_check(c)
    c.close()


@case()
def out_of_order_storm(x):
    """2000 out-of-order segments in random order with duplicates: reassembled exactly."""
    if x.http:
        return
    c = x.established()
    data = os.urandom(20000)
    base = c.snd_nxt
    pieces = [(i, data[i:i + 100]) for i in range(0, len(data), 100)]
    pieces = pieces * 2
    random.shuffle(pieces)
    for off, chunk in pieces:
        c.send("PA", seq=seq_add(base, off), data=chunk)
    c.snd_nxt = seq_add(base, len(data))
    # Past its out-of-order memory (bounded by the window, charged by buffer) shunt drops
    # what it cannot hold; as a real sender would, go back to what it acknowledged.
    end = time.monotonic() + 15
    while len(c.stream) < len(data) and time.monotonic() < end:
        c.pump(0.3, want=len(data))
        ackd = (c.peer_ack - base) & 0xffffffff
        if ackd < len(data):
            for off in range(ackd - ackd % 100, len(data), 100):
                c.send("PA", seq=seq_add(base, off), data=data[off:off + 100])
    expect(c.stream[:len(data)] == data, "reassembled stream differs (%d bytes back)" % len(c.stream))
    c.close()


@case()
def zero_window_peer(x):
    """A peer that announces a zero window: shunt sends nothing past it (probes only), then
    delivers everything intact when the window opens."""
    if x.http:
        return
    c = x.established()
    data = os.urandom(8000)
    c.win = 0
    c.write(data)
    seen = c.pump(2.5, ack=True)
    sent = sum(len(bytes(p[TCP].payload)) for p in seen)
    expect(sent <= 1 * len(seen) and sent <= 16, "shunt sent %d bytes into a zero window" % sent)
    c.win = 65535
    c.send("A")
    c.pump(8, want=len(data))
    expect(c.stream[:len(data)] == data, "echo after the window opened differs (%d bytes)" % len(c.stream))
    c.close()


@case()
def small_window_peer(x):
    """A peer that keeps a 10-byte window: shunt honours it and the echo is intact."""
    if x.http:
        return
    c = x.established(win=10)
    data = os.urandom(600)
    c.write(data, mss=200)
    seen = c.pump(10, want=len(data))
    biggest = max([len(bytes(p[TCP].payload)) for p in seen] + [0])
    expect(biggest <= 10, "a %d-byte segment into a 10-byte window" % biggest)
    expect(c.stream[:len(data)] == data, "echo differs (%d bytes)" % len(c.stream))
    c.close()


@case()
def icmp_errors_quoting_connection(x):
    """ICMP errors quoting a live connection (unreachables, source quench, parameter problem, TTL exceeded,
    with sequence numbers in and out of flight) never tear an established connection down."""
    lport, t = observe_kept(x, 1)
    for seq in (t.seq, seq_add(t.seq, 1), seq_add(t.seq, -100000)):
        quote = bytes(IP(src=x.target, dst="198.18.0.1", proto=6) /
                      TCP(sport=x.port, dport=lport, seq=seq, ack=t.ack, flags="PA"))[:28]
        for typ, code in ((3, 0), (3, 1), (3, 2), (3, 3), (3, 4), (3, 13), (4, 0), (11, 0), (12, 0)):
            icmp = ICMP(type=typ, code=code)
            if (typ, code) == (3, 4):
                icmp = ICMP(type=3, code=4, nexthopmtu=68)
            for src in ("198.18.0.1", "198.19.200.1"):
                x.w.send(IP(src=src, dst=x.target) / icmp / quote)
    time.sleep(0.2)


@case()
def icmp_frag_needed_in_flight(x):
    """ICMP "fragmentation needed" (MTU 576) quoting data in flight on an attacker connection:
    shunt shrinks its segments and the data still arrives intact; MTU below 576 is ignored."""
    if x.http:
        return
    c = x.established()
    data = os.urandom(6000)
    c.write(data)
    seen = c.pump(1.0, ack=False)	# hold the ACKs: shunt's segments stay in flight
    expect(seen, "no echo data")
    first = seen[0]
    quote = bytes(first[IP])[:28]
    x.w.send(IP(src="198.19.250.1", dst=x.target) / ICMP(type=3, code=4, nexthopmtu=300) / quote)
    x.w.send(IP(src="198.19.250.1", dst=x.target) / ICMP(type=3, code=4, nexthopmtu=576) / quote)
    seen = c.pump(8, want=len(data))
    expect(c.stream[:len(data)] == data, "echo differs after PMTU change")
    after = [len(bytes(p[TCP].payload)) for p in seen]
    print("    largest segment after frag-needed 576: %d" % max(after + [0]))
    expect(max(after + [0]) <= 536, "segments still exceed the 576-byte path MTU")
    c.close()


# ---------------------------------------------------------------- IPv4 headers

def ip_raw(proto_payload, src, dst, proto, ihl=5, tot=None, csum=None, ver=4, opts=b"", ttl=64, flags=0, frag=0,
           ident=1):
    hdr = bytearray(20) + bytearray(opts)
    hdr[0] = (ver << 4) | (ihl & 0xf)
    tl = len(hdr) + len(proto_payload) if tot is None else tot
    hdr[2:4] = (tl & 0xffff).to_bytes(2, "big")
    hdr[4:6] = ident.to_bytes(2, "big")
    hdr[6:8] = ((flags << 13) | frag).to_bytes(2, "big")
    hdr[8] = ttl
    hdr[9] = proto
    hdr[12:16] = bytes(map(int, src.split(".")))
    hdr[16:20] = bytes(map(int, dst.split(".")))
    c = ip_checksum(bytes(hdr)) if csum is None else csum
    hdr[10:12] = c.to_bytes(2, "big")
    return bytes(hdr) + proto_payload


def echo_req(ident, seq, data=b"ping"):
    return bytes(ICMP(type=8, id=ident, seq=seq) / data)


@case()
def ipv4_malformed_headers(x):
    """Bad IHL, total length (short, long, below the header), checksum, version; TTL 0; martian sources:
    all dropped without an answer."""
    src = x.src()
    icmp = echo_req(0x4242, 1)
    bad = [
        ip_raw(icmp, src, x.target, 1, ihl=0),
        ip_raw(icmp, src, x.target, 1, ihl=3),
        ip_raw(icmp, src, x.target, 1, ihl=15),
        ip_raw(icmp, src, x.target, 1, tot=10),
        ip_raw(icmp, src, x.target, 1, tot=19),
        ip_raw(icmp, src, x.target, 1, tot=2000),
        ip_raw(icmp, src, x.target, 1, tot=65535),
        ip_raw(icmp, src, x.target, 1, csum=0x1234),
        ip_raw(icmp, src, x.target, 1, ver=6),
        ip_raw(icmp, src, x.target, 1, ver=0),
        ip_raw(icmp, "255.255.255.255", x.target, 1),
        ip_raw(icmp, "224.0.0.1", x.target, 1),
        ip_raw(icmp, "127.0.0.1", x.target, 1),
        ip_raw(icmp, "0.0.0.0", x.target, 1),
        ip_raw(icmp, src, "198.18.0.99", 1),
        ip_raw(b"", src, x.target, 1),
        ip_raw(icmp, src, x.target, 1, opts=b"\x07\x27" + b"\x00" * 2, ihl=6),	# RR option, length lie
        ip_raw(icmp, src, x.target, 1, opts=b"\x44\x00\x00\x00", ihl=6),		# timestamp option, length 0
        ip_raw(icmp, src, x.target, 1, opts=b"\x83\x01\x00\x00", ihl=6),		# LSRR, length 1
    ]
    for b in bad:
        x.w.send(b)
    # Truncated Ethernet payloads: less than an IP header.
    for n in (0, 1, 19):
        x.w.send_raw_frame(bytes(Ether(src=x.w.mac, dst=x.w.peer_mac, type=0x0800)) +
                           ip_raw(icmp, src, x.target, 1)[:n])
    r = x.w.collect(lambda p: p.haslayer(ICMP) and p[IP].dst == src and p[ICMP].type == 0, 0.5)
    expect(not r, "%d echo replies to malformed datagrams" % len(r))


@case()
def ipv4_options_honest(x):
    """Valid IPv4 options (NOP, record route, timestamp, 40 bytes of NOPs, LSRR) are skipped; the datagram is
    taken and a ping answered; source routes are not followed."""
    src = x.src()
    good = [
        (b"\x01\x01\x01\x00", 6),
        (b"\x07\x07\x04\x00\x00\x00\x00\x00", 7),
        (b"\x01" * 40, 15),
        (b"\x83\x07\x04\xc6\x13\xfe\x01\x00", 7),	# LSRR via 198.19.254.1
    ]
    for i, (o, ihl) in enumerate(good):
        x.w.send(ip_raw(echo_req(0x4343, i), src, x.target, 1, opts=o, ihl=ihl))
    r = x.w.collect(lambda p: p.haslayer(ICMP) and p[IP].dst == src and p[ICMP].type == 0, 0.6)
    expect(len(r) >= 3, "only %d of the pings with options answered" % len(r))
    expect(not any(p[IP].dst != src for p in r), "a reply followed a source route")


@case(udp=True)
def udp_length_lies(x):
    """UDP length above the datagram, below 8, below the payload (trailing bytes are trimmed), checksum 0
    and wrong: no crash, only honest datagrams echoed, and only their declared bytes."""
    if not x.udp_port:
        return
    src = x.src()
    sport = 40000

    def udp(payload, ulen=None, csum=None):
        u = bytearray(8) + payload
        u[0:2] = sport.to_bytes(2, "big")
        u[2:4] = x.udp_port.to_bytes(2, "big")
        u[4:6] = (len(u) if ulen is None else ulen).to_bytes(2, "big")
        if csum is None:
            pseudo = bytes(map(int, src.split("."))) + bytes(map(int, x.target.split("."))) + \
                b"\0\x11" + len(u).to_bytes(2, "big")
            c = ip_checksum(pseudo + bytes(u)) or 0xffff
        else:
            c = csum
        u[6:8] = c.to_bytes(2, "big")
        return bytes(u)

    lies = [udp(b"LIE1" * 10, ulen=500), udp(b"LIE2" * 10, ulen=7), udp(b"LIE3" * 10, ulen=0),
            udp(b"LIE4" * 10, csum=0x0bad)]
    for u in lies:
        x.w.send(ip_raw(u, src, x.target, 17))
    # Length shorter than the payload: only the declared bytes count (checksum over them).
    short = bytearray(udp(b"KEEP"))
    x.w.send(ip_raw(bytes(short) + b"TRAILINGJUNK", src, x.target, 17))
    x.w.send(ip_raw(udp(b"ZEROCSUM", csum=0), src, x.target, 17))
    r = x.w.collect(lambda p: p.haslayer(UDP) and p[IP].dst == src, 0.6)
    payloads = sorted(bytes(p[UDP].payload)[:p[UDP].len - 8] for p in r)
    expect(not any(b"LIE" in pl for pl in payloads), "a lying datagram was echoed: %r" % payloads)
    expect(b"KEEP" in payloads, "the honest short datagram was not echoed: %r" % payloads)
    expect(not any(b"JUNK" in pl for pl in payloads), "trailing bytes past the UDP length were echoed")
    expect(b"ZEROCSUM" in payloads, "a datagram without checksum (0) was not echoed")


@case(udp=True)
def udp_closed_port_rate_limited(x):
    """UDP to closed ports: ICMP port unreachables, bounded by the rate limit."""
    src = x.src()
    x.w.drain()
    for i in range(400):
        x.w.send(IP(src=src, dst=x.target) / UDP(sport=1000 + i, dport=9) / b"x")
    r = x.w.collect(lambda p: p.haslayer(ICMP) and p[IP].dst == src and p[ICMP].type == 3, 0.5)
    print("    400 datagrams to a closed port -> %d port unreachables" % len(r))
    expect(0 < len(r) <= 400, "no port unreachable")


# ---------------------------------------------------------------- fragments

def frags_of(payload, src, dst, proto, ident, size):
    out = []
    off = 0
    while off < len(payload):
        chunk = payload[off:off + size]
        more = 1 if off + size < len(payload) else 0
        out.append(ip_raw(chunk, src, dst, proto, flags=more, frag=off // 8, ident=ident))
        off += size
    return out


@case()
def ping_of_death(x):
    """Fragments that add up to more than 65535 bytes: dropped, no reply, nothing else harmed."""
    src = x.src()
    payload = echo_req(0x5151, 1, b"D" * 66000)
    for f in frags_of(payload, src, x.target, 1, 0x7777, 1480):
        x.w.send(f)
    # One last fragment alone at the very end of the offset space.
    x.w.send(ip_raw(b"E" * 1000, src, x.target, 1, flags=0, frag=8189, ident=0x7778))
    r = x.w.collect(lambda p: p.haslayer(ICMP) and p[IP].dst == src and p[ICMP].type == 0, 0.5)
    expect(not r, "ping of death answered")


@case()
def fragments_reassembled(x):
    """Control: a 4000-byte ping in fragments, out of order and with an exact duplicate, is answered."""
    src = x.src()
    fr = frags_of(echo_req(0x5252, 1, os.urandom(4000)), src, x.target, 1, 0x1111, 1000)
    fr = [fr[2], fr[0], fr[3], fr[0], fr[1], fr[4]]
    for f in fr:
        x.w.send(f)
    r = x.w.collect(lambda p: p.haslayer(IP) and p[IP].dst == src and p[IP].proto == 1, 1.0)
    expect(r, "fragmented ping not answered")


@case()
def overlapping_fragments(x):
    """Overlapping fragments with different bytes (teardrop, Rose, a fragment inside another): the datagram
    is discarded whole, never answered."""
    src = x.src()
    payload = echo_req(0x5353, 1, b"O" * 3000)
    for ident, layout in ((0x2001, [(0, 1480, 1), (1000, 1480, 1), (2480, 528, 0)]),
                          (0x2002, [(0, 1480, 1), (8, 800, 1), (1480, 1480, 1), (2960, 48, 0)]),
                          (0x2003, [(1480, 1480, 1), (2960, 48, 0), (0, 1480, 1), (1000, 600, 1)]),
                          (0x2004, [(0, 24, 1), (16, 1400, 0)])):
        for off, ln, more in layout:
            chunk = bytearray(payload[off:off + ln])
            chunk[-1:] = b"Z"		# conflicting bytes
            x.w.send(ip_raw(bytes(chunk), src, x.target, 1, flags=more, frag=off // 8, ident=ident))
    r = x.w.collect(lambda p: p.haslayer(IP) and p[IP].dst == src and p[IP].proto == 1 and
                    (p[IP].frag != 0 or p[IP].flags & 1 or (p.haslayer(ICMP) and p[ICMP].type == 0)), 0.6)
    expect(not r, "an overlapping datagram was answered")


@case()
def fragment_flood(x):
    """20000 first fragments that never complete, 8 MB with overheads: the reassembly memory bound
    holds (oldest evicted) and a fragmented ping works right after."""
    src = x.src()
    chunk = b"F" * 400
    pkts = [ip_raw(chunk, "198.19.%d.%d" % (100 + i % 50, 1 + i // 50 % 250), x.target, 17, flags=1, frag=0,
                   ident=i & 0xffff) for i in range(20000)]
    start = time.monotonic()
    for p in pkts:
        x.w.send(p)
    print("    20000 fragments in %.2f s" % (time.monotonic() - start))
    time.sleep(0.2)
    fr = frags_of(echo_req(0x5454, 1, os.urandom(3000)), src, x.target, 1, 0x3333, 1000)
    ok = False
    for _ in range(3):
        for f in fr:
            x.w.send(f)
        if x.w.collect(lambda p: p.haslayer(IP) and p[IP].dst == src and p[IP].proto == 1, 1.0):
            ok = True
            break
    expect(ok, "no reassembly after the flood")


@case()
def tiny_fragment_flood(x):
    """Fragments of 8 bytes, thousands per datagram: bounded by the per-fragment charge."""
    src = x.src()
    for ident in range(20):
        for off in range(0, 8 * 400, 8):
            x.w.send(ip_raw(b"t" * 8, src, x.target, 1, flags=1, frag=off // 8, ident=0x4000 + ident))


# ---------------------------------------------------------------- ICMP and misc

@case()
def icmp_malformed(x):
    """ICMP with a bad checksum, truncated, of unknown types, echo to broadcast, huge echo in fragments."""
    src = x.src()
    e = bytearray(echo_req(0x6161, 1))
    e[2:4] = b"\x12\x34"
    x.w.send(ip_raw(bytes(e), src, x.target, 1))
    x.w.send(ip_raw(b"\x08", src, x.target, 1))
    x.w.send(ip_raw(b"\x08\x00\x00", src, x.target, 1))
    for t in (1, 2, 5, 6, 7, 9, 10, 13, 15, 17, 40, 200):
        x.w.send(IP(src=src, dst=x.target) / ICMP(type=t) / (b"\x00" * 12))
    x.w.send(IP(src=src, dst="198.18.0.255") / ICMP(type=8, id=0x6262, seq=1))
    x.w.send(IP(src=src, dst="255.255.255.255") / ICMP(type=8, id=0x6262, seq=2))
    r = x.w.collect(lambda p: p.haslayer(ICMP) and p[IP].dst == src, 0.5)
    expect(not any(p[ICMP].type == 0 and p[ICMP].id == 0x6161 for p in r), "echo with a bad checksum answered")
    big = frags_of(echo_req(0x6363, 1, os.urandom(60000)), src, x.target, 1, 0x4444, 1480)
    for f in big:
        x.w.send(f)
    r = x.w.collect(lambda p: p.haslayer(IP) and p[IP].dst == src and p[IP].proto == 1, 1.5)
    expect(r, "a 60000-byte ping in fragments was not answered")


@case()
def syn_to_closed_port_and_stray_acks(x):
    """SYNs to closed ports get RSTs; stray ACKs to the listener get RSTs, never a connection."""
    c = Conn(x.w, x.src(), x.target, 9)
    c.send("S", seq=c.iss, ack=0, opts=opts_default())
    r = x.w.collect(c.mine, 0.3)
    expect(any(p[TCP].flags & 0x04 for p in r), "no RST from a closed port")
    c = x.conn()
    for i in range(200):
        c.send("A", seq=seq_add(c.iss, i), ack=random.randint(0, 0xffffffff), opts=[])
    r = x.w.collect(c.mine, 0.3)
    expect(not any(p[TCP].flags & 0x02 for p in r), "a stray ACK opened something")


@case()
def half_open_and_abandoned(x):
    """500 handshakes completed and abandoned, 500 SYNs never completed: the server keeps serving."""
    for i in range(500):
        c = x.conn()
        c.send("S", seq=c.iss, ack=0, opts=opts_default())
    for i in range(50):
        c = x.established()
    time.sleep(0.3)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--pid", type=int, required=True)
    ap.add_argument("--target", default="198.18.0.2")
    ap.add_argument("--iface", default="sh0")
    ap.add_argument("--port", type=int, default=7)
    ap.add_argument("--udp-port", type=int, default=0)
    ap.add_argument("--mode", choices=("echo", "http"), default="echo")
    ap.add_argument("--http-path", default="/")
    ap.add_argument("--http-file")
    ap.add_argument("--only", default="")
    ap.add_argument("--list", action="store_true")
    ap.add_argument("--seed", type=int, default=int(time.time()))
    a = ap.parse_args()
    if a.list:
        for name, fn, _, _ in CASES:
            print("%-40s %s" % (name, " ".join(fn.__doc__.split())))
        return 0
    random.seed(a.seed)
    print("seed %d" % a.seed)
    a.http_body_bytes = open(a.http_file, "rb").read() if a.http_file else b""
    x = Ctx(a)
    x.oracle = Oracle(a.target, a.port, a.mode, a.pid, a.http_path, a.http_body_bytes)
    err = x.oracle.check()
    if err:
        print("FAIL oracle before any probe: %s" % err)
        return 1
    only = set(filter(None, a.only.split(",")))
    passed = failed = 0
    for name, fn, _, needs_udp in CASES:
        if only and name not in only:
            continue
        if needs_udp and not a.udp_port:
            continue
        t0 = time.monotonic()
        why = None
        try:
            x.w.drain()
            fn(x)
        except Fail as e:
            why = str(e)
        except Exception as e:
            why = "error: %s" % e
            traceback.print_exc()
        oracle = x.oracle.check()
        if oracle:
            why = (why + "; " if why else "") + "oracle: " + oracle
        dt = time.monotonic() - t0
        if why:
            failed += 1
            print("FAIL %s (%.1f s): %s" % (name, dt, why), flush=True)
            if not x.oracle.alive():
                break
        else:
            passed += 1
            print("PASS %s (%.1f s)" % (name, dt), flush=True)
    print("oracle ran %d times" % x.oracle.checks)
    print("%d passed, %d failed" % (passed, failed))
    return 0 if failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
