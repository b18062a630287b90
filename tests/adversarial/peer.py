"""A hostile peer on the wire: raw Ethernet I/O on the kernel side of shunt's
tap, a hand-driven TCP connection whose every field the test chooses, and the
oracle that runs after every probe.  Imported by attack.py and synflood.py.

Addresses: the attacker speaks from spoofed sources in 198.19.0.0/16 (inside
198.18.0.0/15).  shunt runs with the kernel (198.18.0.1) as its gateway, so
its answers to those sources come back over the tap to the kernel's MAC; the
kernel does not forward (ip_forward is 0 in the private netns and there is no
route out), so it drops them silently, and we read them off the tap with a
packet socket.  Nothing leaves the namespace.
"""
import os
import random
import select
import socket
import struct
import subprocess
import time

from scapy.layers.inet import ICMP, IP, TCP, UDP
from scapy.layers.l2 import ARP, Ether

ETH_P_ALL = 0x0003
PACKET_OUTGOING = 4


def now_ms():
    return int(time.monotonic() * 1000) & 0xffffffff


def seq_add(a, n):
    return (a + n) & 0xffffffff


class Wire:
    """Frames in and out of one interface (the kernel side of the tap)."""

    def __init__(self, iface, target):
        self.iface = iface
        self.target = target
        self.sock = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_ALL))
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 8 << 20)
        self.sock.bind((iface, 0))
        with open("/sys/class/net/%s/address" % iface) as f:
            self.mac = f.read().strip()
        self.peer_mac = None
        self.peer_mac = self.resolve(target)

    def send(self, pkt):
        """pkt: a scapy packet (IP or Ether) or raw bytes of an IP datagram."""
        if isinstance(pkt, (bytes, bytearray)):
            frame = bytes(Ether(src=self.mac, dst=self.peer_mac, type=0x0800)) + bytes(pkt)
        elif pkt.haslayer(Ether):
            frame = bytes(pkt)
        else:
            frame = bytes(Ether(src=self.mac, dst=self.peer_mac) / pkt)
        self.sock.send(frame)

    def send_raw_frame(self, frame):
        self.sock.send(frame)

    def drain(self):
        while True:
            r, _, _ = select.select([self.sock], [], [], 0)
            if not r:
                return
            self.sock.recv(65535)

    def frames(self, timeout):
        """Yields incoming frames (bytes) until timeout seconds have passed."""
        end = time.monotonic() + timeout
        while True:
            left = end - time.monotonic()
            if left <= 0:
                return
            r, _, _ = select.select([self.sock], [], [], left)
            if not r:
                return
            data, addr = self.sock.recvfrom(65535)
            if addr[2] == PACKET_OUTGOING:
                continue
            yield data

    def collect(self, pred, timeout, first=False):
        """Incoming frames, parsed, for which pred(pkt) holds."""
        out = []
        for data in self.frames(timeout):
            try:
                pkt = Ether(data)
            except Exception:
                continue
            if pred(pkt):
                out.append(pkt)
                if first:
                    break
        return out

    def resolve(self, ip):
        req = Ether(src=self.mac, dst="ff:ff:ff:ff:ff:ff") / ARP(
            op=1, hwsrc=self.mac, psrc="198.18.0.1", pdst=ip)
        for _ in range(10):
            self.sock.send(bytes(req))
            got = self.collect(lambda p: p.haslayer(ARP) and p[ARP].op == 2 and p[ARP].psrc == ip, 0.5, True)
            if got:
                return got[0][ARP].hwsrc
        raise RuntimeError("no ARP answer from %s" % ip)


def opts_default(ts=True, mss=1460, sack=True, wscale=None):
    o = []
    if mss is not None:
        o.append(("MSS", mss))
    if sack:
        o.append(("SAckOK", b""))
    if ts:
        o.append(("Timestamp", (now_ms(), 0)))
    if wscale is not None:
        o.append(("WScale", wscale))
    return o


class Conn:
    """A TCP connection the test drives by hand, from a spoofed source."""

    def __init__(self, wire, src, dst, dport, sport=None, win=65535):
        self.w = wire
        self.src, self.dst, self.dport = src, dst, dport
        self.sport = sport or random.randint(20000, 60000)
        self.win = win
        self.iss = random.randint(0, 0xffffffff)
        self.snd_nxt = self.iss
        self.rcv_nxt = None
        self.irs = None
        self.ts_ok = False
        self.ts_recent = 0
        self.peer_mss = None
        self.peer_win = 0
        self.peer_ack = 0	# the last ACK field shunt sent: what it holds of our stream
        self.got = {}		# seq -> payload of shunt's segments not yet taken in order
        self.stream = b""	# in-order bytes received from shunt
        self.fin = False
        self.rst = False

    def mine(self, p):
        return (p.haslayer(TCP) and p[IP].src == self.dst and p[IP].dst == self.src and
                p[TCP].sport == self.dport and p[TCP].dport == self.sport)

    def ts_opt(self, val=None):
        return [("Timestamp", (now_ms() if val is None else val, self.ts_recent))] if self.ts_ok else []

    def seg(self, flags, seq=None, ack=None, data=b"", opts=None, win=None):
        t = TCP(sport=self.sport, dport=self.dport, flags=flags,
                seq=self.snd_nxt if seq is None else seq,
                ack=(self.rcv_nxt or 0) if ack is None else ack,
                window=self.win if win is None else win,
                options=self.ts_opt() if opts is None else opts)
        return IP(src=self.src, dst=self.dst) / t / data

    def send(self, flags, **kw):
        self.w.send(self.seg(flags, **kw))

    def handshake(self, opts=None, timeout=3.0):
        opts = opts_default() if opts is None else opts
        syn = IP(src=self.src, dst=self.dst) / TCP(sport=self.sport, dport=self.dport, flags="S",
                                                   seq=self.iss, window=self.win, options=opts)
        for _ in range(3):
            self.w.send(syn)
            got = self.w.collect(lambda p: self.mine(p) and (p[TCP].flags & 0x12) == 0x12, timeout / 3, True)
            if got:
                break
        else:
            raise RuntimeError("no SYN-ACK from %s:%d" % (self.dst, self.dport))
        sa = got[0][TCP]
        if sa.ack != seq_add(self.iss, 1):
            raise RuntimeError("SYN-ACK acks %d, want %d" % (sa.ack, seq_add(self.iss, 1)))
        self.irs = sa.seq
        self.rcv_nxt = seq_add(sa.seq, 1)
        self.snd_nxt = seq_add(self.iss, 1)
        self.peer_win = sa.window
        self.peer_ack = sa.ack
        for k, v in sa.options:
            if k == "Timestamp":
                self.ts_ok = True
                self.ts_recent = v[0]
            if k == "MSS":
                self.peer_mss = v
        self.send("A")
        return sa

    def note(self, p):
        """Takes what a segment from shunt carries; returns its payload."""
        t = p[TCP]
        for k, v in t.options:
            if k == "Timestamp":
                self.ts_recent = v[0]
        self.peer_win = t.window
        if t.flags & 0x10:
            self.peer_ack = t.ack
        data = bytes(t.payload)
        if p[IP].len is not None:
            data = data[:max(0, p[IP].len - p[IP].ihl * 4 - t.dataofs * 4)]
        if t.flags & 0x04:
            self.rst = True
        if data:
            self.got[t.seq] = data
        if t.flags & 0x01:
            self.got[seq_add(t.seq, len(data))] = None
        self.advance()
        return data

    def advance(self):
        moved = True
        while moved:
            moved = False
            for sq in list(self.got):
                d = self.got[sq]
                if d is None:
                    if sq == self.rcv_nxt:
                        self.rcv_nxt = seq_add(self.rcv_nxt, 1)
                        self.fin = True
                        del self.got[sq]
                        moved = True
                    continue
                off = (self.rcv_nxt - sq) & 0xffffffff
                if off < len(d):
                    self.stream += d[off:]
                    self.rcv_nxt = seq_add(sq, len(d))
                    del self.got[sq]
                    moved = True
                elif off < 0x80000000:
                    del self.got[sq]	# old
                    moved = True

    def pump(self, timeout, want=None, ack=True, until=None):
        """Reads shunt's segments for this connection, ACKing them; returns the segments seen."""
        seen = []
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            if want is not None and len(self.stream) >= want:
                break
            if until is not None and until(self):
                break
            got = self.w.collect(self.mine, min(0.05, max(0.001, end - time.monotonic())))
            for p in got:
                seen.append(p)
                self.note(p)
            if got and ack and not self.rst:
                self.send("A")
        return seen

    def write(self, data, mss=1000):
        """Sends data in order (no retransmission: the wire inside the netns does not lose)."""
        for i in range(0, len(data), mss):
            chunk = data[i:i + mss]
            self.send("PA", data=chunk)
            self.snd_nxt = seq_add(self.snd_nxt, len(chunk))

    def echo_check(self, n=2000, timeout=5.0):
        """Sends n fresh random bytes and expects exactly them back next in the stream."""
        data = os.urandom(n)
        base = len(self.stream)
        self.write(data)
        self.pump(timeout, want=base + n)
        return self.stream[base:base + n] == data

    def close(self):
        if not self.rst:
            self.send("RA")


class Oracle:
    """After every probe: shunt is alive, answers ping, takes a fresh
    connection, and the connections opened before keep their data intact."""

    def __init__(self, target, port, mode, pid, http_path=None, http_body=None):
        self.target, self.port, self.mode, self.pid = target, port, mode, pid
        self.http_path, self.http_body = http_path, http_body
        self.keep = []
        for _ in range(2):
            self.keep.append(self.open())
        self.checks = 0

    def open(self):
        s = socket.create_connection((self.target, self.port), timeout=5)
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return s

    def exchange(self, s):
        if self.mode == "echo":
            data = os.urandom(random.randint(1, 6000))
            s.sendall(data)
            got = b""
            while len(got) < len(data):
                b = s.recv(65536)
                if not b:
                    raise RuntimeError("echo connection closed")
                got += b
            if got != data:
                raise RuntimeError("echoed bytes differ")
            return
        req = ("GET %s HTTP/1.1\r\nHost: x\r\nConnection: keep-alive\r\n\r\n" % self.http_path).encode()
        s.sendall(req)
        buf = b""
        while b"\r\n\r\n" not in buf:
            b = s.recv(65536)
            if not b:
                raise RuntimeError("http connection closed")
            buf += b
        head, body = buf.split(b"\r\n\r\n", 1)
        if b" 200 " not in head.split(b"\r\n")[0]:
            raise RuntimeError("http status %r" % head.split(b"\r\n")[0])
        clen = None
        for line in head.split(b"\r\n")[1:]:
            k, _, v = line.partition(b":")
            if k.strip().lower() == b"content-length":
                clen = int(v)
        while len(body) < clen:
            b = s.recv(65536)
            if not b:
                raise RuntimeError("http body cut short")
            body += b
        if body != self.http_body:
            raise RuntimeError("http body differs")

    def alive(self):
        try:
            os.kill(self.pid, 0)
        except OSError:
            return False
        with open("/proc/%d/stat" % self.pid) as f:
            return f.read().split(")")[-1].split()[0] != "Z"

    def ping(self):
        for _ in range(3):
            r = subprocess.run(["ping", "-n", "-q", "-c", "1", "-W", "1", self.target],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            if r.returncode == 0:
                return True
        return False

    def check(self):
        """Returns None if all holds, else what failed."""
        self.checks += 1
        if not self.alive():
            return "shunt process died"
        if not self.ping():
            return "ping unanswered"
        try:
            s = self.open()
            self.exchange(s)
            s.close()
        except Exception as e:
            return "fresh connection: %s" % e
        for i, s in enumerate(self.keep):
            try:
                self.exchange(s)
            except Exception as e:
                return "existing connection %d: %s" % (i, e)
        return None

    def cpu_ticks(self):
        with open("/proc/%d/stat" % self.pid) as f:
            fields = f.read().split(")")[-1].split()
        return int(fields[11]) + int(fields[12])

    def busy(self, secs=1.0):
        """Share of one CPU the server burnt over secs while nobody talked to it."""
        a = self.cpu_ticks()
        time.sleep(secs)
        b = self.cpu_ticks()
        return (b - a) / (os.sysconf("SC_CLK_TCK") * secs)


def ip_checksum(b):
    if len(b) % 2:
        b += b"\0"
    s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    while s >> 16:
        s = (s & 0xffff) + (s >> 16)
    return (~s) & 0xffff
