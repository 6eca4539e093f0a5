#!/usr/bin/env python3
"""linkemu.py: a lossy, slow Ethernet link in user space, for kernels without tc netem.

    linkemu.py IF1 IF2 PIDFILE [loss N%] [delay Nms [Jms]]

Run inside a namespace of its own holding only IF1 and IF2 (no addresses, no forwarding):
every frame that arrives on one interface is dropped with probability N% or sent out of the
other after the delay (plus a uniform jitter of up to +-J ms, order kept), so both directions
of the link get the same loss and delay, as `tc qdisc add ... netem loss N% delay Nms` on both
ends would give. lab/lab.sh starts it for --netem when the kernel has no sch_netem, and stops
it by PID (the PIDFILE it writes once both sockets are bound). Standard library only; ends on
SIGTERM. Counters go to stdout every 10 s and at the end.
"""
import heapq
import os
import random
import select
import signal
import socket
import sys
import time

ETH_P_ALL = 0x0003


def checksum(data):
    if len(data) % 2:
        data += b"\0"
    total = sum(int.from_bytes(data[i:i + 2], "big") for i in range(0, len(data), 2))
    while total >> 16:
        total = (total & 0xFFFF) + (total >> 16)
    return ~total & 0xFFFF


def fix_l4_checksum(frame):
    """The frame with its IPv4 UDP or TCP checksum computed.

    A veth hands its peer UDP and TCP packets whose checksum the sender left to "hardware"
    (CHECKSUM_PARTIAL); a packet socket sees them unfinished, and once re-sent they would be
    dropped as corrupt. So every IPv4 UDP/TCP packet (not a fragment) gets its checksum here.
    """
    if len(frame) < 34 or frame[12:14] != b"\x08\x00":
        return frame
    ihl = (frame[14] & 0x0F) * 4
    proto = frame[23]
    total = int.from_bytes(frame[16:18], "big")
    if proto not in (6, 17) or int.from_bytes(frame[20:22], "big") & 0x3FFF or len(frame) < 14 + total:
        return frame
    l4 = bytearray(frame[14 + ihl:14 + total])
    at = 6 if proto == 17 else 16
    if len(l4) < at + 2:
        return frame
    l4[at:at + 2] = b"\0\0"
    pseudo = frame[26:34] + bytes([0, proto]) + len(l4).to_bytes(2, "big")
    c = checksum(pseudo + bytes(l4))
    if proto == 17 and c == 0:
        c = 0xFFFF
    l4[at:at + 2] = c.to_bytes(2, "big")
    return frame[:14 + ihl] + bytes(l4) + frame[14 + total:]


def parse(words):
    loss, delay, jitter = 0.0, 0.0, 0.0
    i = 0
    while i < len(words):
        w = words[i]
        if w == "loss" and i + 1 < len(words) and words[i + 1].endswith("%"):
            loss = float(words[i + 1][:-1]) / 100
            i += 2
        elif w == "delay" and i + 1 < len(words) and words[i + 1].endswith("ms"):
            delay = float(words[i + 1][:-2]) / 1000
            i += 2
            if i < len(words) and words[i].endswith("ms"):
                jitter = float(words[i][:-2]) / 1000
                i += 1
        else:
            raise SystemExit("linkemu: only 'loss N%' and 'delay Nms [Jms]' are emulated, not %r" % w)
    return loss, delay, jitter


def main():
    if len(sys.argv) < 4:
        raise SystemExit(__doc__)
    if1, if2, pidfile = sys.argv[1:4]
    loss, delay, jitter = parse(sys.argv[4:])
    socks = {}
    for name in (if1, if2):
        s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_ALL))
        s.bind((name, 0))
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
        s.setblocking(False)
        socks[name] = s
    out = {socks[if1]: socks[if2], socks[if2]: socks[if1]}
    rng = random.Random()
    queue = []  # (due, seq, socket, frame)
    seq = 0
    last_due = {socks[if1]: 0.0, socks[if2]: 0.0}
    stats = {"passed": 0, "dropped": 0, "errors": 0}
    running = [True]
    signal.signal(signal.SIGTERM, lambda *_: running.__setitem__(0, False))
    signal.signal(signal.SIGINT, lambda *_: running.__setitem__(0, False))
    tmp = pidfile + ".tmp"
    with open(tmp, "w") as f:
        f.write("%d\n" % os.getpid())
    os.rename(tmp, pidfile)
    print("linkemu %s <-> %s: loss %.1f%% delay %.0f ms jitter %.0f ms (pid %d)"
          % (if1, if2, loss * 100, delay * 1000, jitter * 1000, os.getpid()), flush=True)
    next_report = time.monotonic() + 10
    while running[0]:
        now = time.monotonic()
        timeout = 0.5
        if queue:
            timeout = max(0.0, min(timeout, queue[0][0] - now))
        try:
            ready, _, _ = select.select(list(out), [], [], timeout)
        except InterruptedError:
            continue
        now = time.monotonic()
        for s in ready:
            while True:
                try:
                    frame, addr = s.recvfrom(65535)
                except BlockingIOError:
                    break
                if addr[2] == socket.PACKET_OUTGOING:
                    continue  # our own transmission, seen by the tap
                if loss and rng.random() < loss:
                    stats["dropped"] += 1
                    continue
                due = now + delay + (rng.uniform(-jitter, jitter) if jitter else 0.0)
                target = out[s]
                due = max(due, last_due[target])  # keep order, as netem does without reorder
                last_due[target] = due
                heapq.heappush(queue, (due, seq, target, fix_l4_checksum(frame)))
                seq += 1
        now = time.monotonic()
        while queue and queue[0][0] <= now:
            _, _, target, frame = heapq.heappop(queue)
            try:
                target.send(frame)
                stats["passed"] += 1
            except OSError:
                stats["errors"] += 1
        if now >= next_report:
            print("linkemu: %(passed)d passed, %(dropped)d dropped, %(errors)d send errors" % stats, flush=True)
            next_report = now + 10
    print("linkemu: stopped: %(passed)d passed, %(dropped)d dropped, %(errors)d send errors" % stats, flush=True)


if __name__ == "__main__":
    main()
