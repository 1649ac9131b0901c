#!/usr/bin/env python3
"""lossy-forwarder.py — a user-space "router" that damages traffic on purpose.

It runs inside the middle network namespace made by
scripts/make-lossy-capture.sh (this kernel has no netem, so the impairment is
done here). It opens one AF_PACKET raw socket on each of two interfaces and
copies every IPv4 Ethernet frame that ARRIVES on one interface out of the
other, like a router would:

  * the Ethernet source MAC becomes the MAC of the outgoing interface, the
    destination MAC becomes the next hop's MAC (given on the command line);
    the IP packet itself is not touched (no TTL decrement: the hop is
    invisible at the IP layer, which keeps the capture simple);
  * each frame is delayed by a fixed time (--delay-ms), so the path has an
    RTT of about 2 x delay;
  * a frame is dropped with probability --drop;
  * a frame is held back with probability --reorder and sent right AFTER the
    next frame of the same direction (a swap of two neighbours). If no frame
    follows within --hold-ms, it is sent anyway (late, but not reordered).

Frames with the TCP SYN flag are never dropped or held (only delayed): a lost
SYN costs a whole second of initial RTO and adds nothing the data phase does
not already show. Non-IPv4 frames (there should be none: IPv6 is off in the
namespaces and the neighbours are static, so there is no ARP) are dropped.

The random generator is seeded (--seed), one generator per direction, and it
is consulted once per frame, in arrival order. So the same frame numbers of
a direction are impaired in every run; the captures still differ from run to
run because the kernel's TCP timing decides which segments those are.

On SIGTERM / SIGINT it prints per-direction counters to stderr and exits 0.
It prints "ready" on stdout once both sockets are open.

Usage (as root, inside the namespace):
  lossy-forwarder.py --left IF,NEXTHOP_MAC --right IF,NEXTHOP_MAC
                     [--drop 0.03] [--reorder 0.03] [--delay-ms 5]
                     [--hold-ms 20] [--seed 1] [--log FILE]
"""

import argparse
import heapq
import itertools
import random
import select
import signal
import socket
import struct
import sys
import time

ETH_P_ALL = 0x0003
ETH_P_IP = 0x0800
SOL_PACKET = 263
PACKET_IGNORE_OUTGOING = 23  # Linux >= 4.20: do not hand us our own sends
PACKET_OUTGOING = 4  # sll_pkttype of a frame this host sent


def parse_mac(text):
    parts = text.split(":")
    if len(parts) != 6:
        raise argparse.ArgumentTypeError(f"bad MAC address {text!r}")
    return bytes(int(p, 16) for p in parts)


def fmt_mac(mac):
    return ":".join(f"{b:02x}" for b in mac)


def side(text):
    """IF,NEXTHOP_MAC"""
    try:
        ifname, mac = text.split(",", 1)
    except ValueError:
        raise argparse.ArgumentTypeError("expected IF,NEXTHOP_MAC") from None
    return ifname, parse_mac(mac)


def own_mac(ifname):
    with open(f"/sys/class/net/{ifname}/address") as f:
        return parse_mac(f.read().strip())


def open_socket(ifname):
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_ALL))
    try:
        s.setsockopt(SOL_PACKET, PACKET_IGNORE_OUTGOING, 1)
    except OSError:
        pass  # old kernel: the pkttype check in the loop does the same job
    # Room for bursts while Python is busy: a forwarder that drops frames on
    # its own would blur the impairment we choose.
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
    s.bind((ifname, 0))
    s.setblocking(False)
    return s


def is_tcp_syn(frame):
    """True for an IPv4 TCP segment with SYN set (frame starts at Ethernet)."""
    if len(frame) < 14 + 20 or frame[14 + 9] != 6:  # IPPROTO_TCP
        return False
    ihl = (frame[14] & 0x0F) * 4
    flags_at = 14 + ihl + 13
    return len(frame) > flags_at and bool(frame[flags_at] & 0x02)


def tcp_summary(frame):
    """'seq=... len=...' for the log; empty when not TCP."""
    try:
        ihl = (frame[14] & 0x0F) * 4
        total = struct.unpack("!H", frame[16:18])[0]
        tcp = frame[14 + ihl:]
        seq, ack = struct.unpack("!II", tcp[4:12])
        doff = (tcp[12] >> 4) * 4
        return f"seq={seq} ack={ack} len={total - ihl - doff} flags=0x{tcp[13]:02x}"
    except (IndexError, struct.error):
        return ""


class Direction:
    """One way through the box: frames arriving on src leave on dst."""

    def __init__(self, name, src_sock, dst_sock, src_mac, dst_mac, seed):
        self.name = name
        self.src_sock = src_sock
        self.dst_sock = dst_sock
        # New Ethernet header: next hop's MAC, our outgoing MAC, IPv4.
        self.header = dst_mac + src_mac + struct.pack("!H", ETH_P_IP)
        self.rng = random.Random(seed)
        self.held = None  # (frame, time it arrived)
        self.index = 0  # frames seen in this direction
        self.counts = dict(seen=0, sent=0, dropped=0, reordered=0, held_timeout=0, other=0)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--left", type=side, required=True, metavar="IF,NEXTHOP_MAC")
    ap.add_argument("--right", type=side, required=True, metavar="IF,NEXTHOP_MAC")
    ap.add_argument("--drop", type=float, default=0.03)
    ap.add_argument("--reorder", type=float, default=0.03)
    ap.add_argument("--delay-ms", type=float, default=5.0)
    ap.add_argument("--hold-ms", type=float, default=20.0)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--log", help="write one line per impairment event here")
    args = ap.parse_args()

    delay = args.delay_ms / 1000.0
    hold_max = args.hold_ms / 1000.0
    log = open(args.log, "w", buffering=1) if args.log else None
    t0 = time.monotonic()

    (lif, lnext), (rif, rnext) = args.left, args.right
    lsock, rsock = open_socket(lif), open_socket(rif)
    lmac, rmac = own_mac(lif), own_mac(rif)
    # Separate generators per direction so that the number of ACKs going one
    # way does not shift which data segments are hit going the other way.
    ltr = Direction(f"{lif}->{rif}", lsock, rsock, rmac, rnext, args.seed * 2)
    rtl = Direction(f"{rif}->{lif}", rsock, lsock, lmac, lnext, args.seed * 2 + 1)
    by_sock = {lsock: ltr, rsock: rtl}

    queue = []  # heap of (due time, tie breaker, Direction, frame)
    tie = itertools.count()

    def schedule(d, frame, due):
        heapq.heappush(queue, (due, next(tie), d, frame))

    def event(d, what, frame):
        if log:
            log.write(f"{time.monotonic() - t0:9.4f} {d.name} #{d.index} {what} {tcp_summary(frame)}\n")

    stop = False

    def on_signal(signum, _frame):
        nonlocal stop
        stop = True

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)

    print(f"ready: {lif} ({fmt_mac(lmac)}) <-> {rif} ({fmt_mac(rmac)}); "
          f"next hops {fmt_mac(lnext)} / {fmt_mac(rnext)}; drop {args.drop} "
          f"reorder {args.reorder} delay {args.delay_ms} ms seed {args.seed}", flush=True)

    while not stop:
        now = time.monotonic()

        # 1. Send everything that is due.
        while queue and queue[0][0] <= now:
            _, _, d, frame = heapq.heappop(queue)
            try:
                d.dst_sock.send(frame)
                d.counts["sent"] += 1
            except OSError as e:
                print(f"lossy-forwarder: send on {d.name}: {e}", file=sys.stderr)

        # 2. A held frame whose successor never came goes out now.
        for d in (ltr, rtl):
            if d.held and now - d.held[1] >= hold_max:
                frame, arrived = d.held
                d.held = None
                d.counts["held_timeout"] += 1
                schedule(d, frame, max(now, arrived + delay))

        # 3. Wait for a frame or for the next deadline.
        deadlines = [q[0] for q in queue[:1]] + [d.held[1] + hold_max for d in (ltr, rtl) if d.held]
        timeout = max(0.0, min(deadlines) - now) if deadlines else 0.5
        try:
            readable, _, _ = select.select([lsock, rsock], [], [], timeout)
        except InterruptedError:
            continue

        for sock in readable:
            d = by_sock[sock]
            while True:
                try:
                    frame, addr = sock.recvfrom(65535)
                except BlockingIOError:
                    break
                except OSError as e:
                    # ENETDOWN etc.: the namespace is being torn down.
                    print(f"lossy-forwarder: receive on {d.name}: {e}; stopping", file=sys.stderr)
                    stop = True
                    break
                if addr[2] == PACKET_OUTGOING:
                    continue  # our own send seen again (old kernels)
                arrived = time.monotonic()
                if len(frame) < 14 or struct.unpack("!H", frame[12:14])[0] != ETH_P_IP:
                    d.counts["other"] += 1
                    continue
                d.index += 1
                d.counts["seen"] += 1
                frame = d.header + frame[14:]
                # One draw per frame, always, so the pattern depends only on
                # the frame's number in its direction.
                r = d.rng.random()
                if is_tcp_syn(frame):
                    pass
                elif r < args.drop:
                    d.counts["dropped"] += 1
                    event(d, "DROP", frame)
                    continue
                elif r < args.drop + args.reorder and d.held is None:
                    d.held = (frame, arrived)
                    d.counts["reordered"] += 1
                    event(d, "HOLD", frame)
                    continue
                schedule(d, frame, arrived + delay)
                if d.held:
                    # The held frame leaves right behind this one.
                    held, _ = d.held
                    d.held = None
                    event(d, "RELEASE", held)
                    schedule(d, held, arrived + delay)

    for d in (ltr, rtl):
        c = d.counts
        print(f"lossy-forwarder: {d.name}: {c['seen']} frames, {c['sent']} sent, "
              f"{c['dropped']} dropped, {c['reordered']} held for reordering "
              f"({c['held_timeout']} of them released by timeout), {c['other']} non-IPv4 ignored",
              file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
