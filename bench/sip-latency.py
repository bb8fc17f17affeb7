#!/usr/bin/env python3
"""Microsecond latency probe for bench/core-throughput.sh (notes/bench-peers.md pitfall 6).

SIPp times its responses on a coarse clock (whole milliseconds, in 4 ms steps on this VM),
so its p50 at 1,000/s is 0 or 4 ms whatever the proxy does. This probe sends one MESSAGE at
a time on the side of a SIPp load, paced at RATE per second, and times each request -> 200
with a monotonic nanosecond clock. The probe's own send/receive cost is in every figure,
the direct path's included, so the latency a proxy adds is its figure minus the direct one.

Usage: sip-latency.py --local IP --target IP:PORT [--rate N] [--seconds S] [--samples FILE]
Prints one line: "sent answered lost p50_us p90_us p99_us max_us". Exit 1 when no request
was answered. Every loop is bounded by --seconds plus one request timeout.
"""
import argparse
import socket
import sys
import time

p = argparse.ArgumentParser()
p.add_argument("--local", required=True, help="local IP to bind (port chosen by the kernel)")
p.add_argument("--target", required=True, help="IP:PORT the MESSAGEs go to (proxy or UAS)")
p.add_argument("--uri", default="sip:uas@b.example", help="Request-URI")
p.add_argument("--rate", type=float, default=200.0)
p.add_argument("--seconds", type=float, default=5.0)
p.add_argument("--timeout", type=float, default=0.5, help="s to wait for a final response")
p.add_argument("--samples", help="write every latency (µs) to this file, one per line")
a = p.parse_args()

host, port = a.target.rsplit(":", 1)
dst = (host, int(port))
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind((a.local, 0))
lip, lport = s.getsockname()

body = "latency probe\r\n"


def request(i):
    branch = f"z9hG4bK-probe-{lport}-{i}"
    call_id = f"probe-{lport}-{i}@{lip}"
    msg = (f"MESSAGE {a.uri} SIP/2.0\r\n"
           f"Via: SIP/2.0/UDP {lip}:{lport};branch={branch};rport\r\n"
           f"From: <sip:probe@a.example>;tag=p{i}\r\n"
           f"To: <{a.uri}>\r\n"
           f"Call-ID: {call_id}\r\n"
           "CSeq: 1 MESSAGE\r\n"
           "Max-Forwards: 70\r\n"
           "Content-Type: text/plain\r\n"
           f"Content-Length: {len(body)}\r\n\r\n{body}")
    return msg.encode(), call_id.encode()


lat = []
sent = lost = 0
t_start = time.monotonic()
t_end = t_start + a.seconds
interval = 1.0 / a.rate
next_send = t_start
while True:
    now = time.monotonic()
    if now >= t_end:
        break
    if now < next_send:
        time.sleep(next_send - now)  # pacing, not synchronisation: the clock sets the rate
    data, call_id = request(sent)
    sent += 1
    t0 = time.perf_counter_ns()
    s.sendto(data, dst)
    deadline = time.monotonic() + a.timeout
    got = False
    while not got:
        left = deadline - time.monotonic()
        if left <= 0:
            break
        s.settimeout(left)
        try:
            resp = s.recv(65535)
        except socket.timeout:
            break
        t1 = time.perf_counter_ns()
        # Only this request's final response counts (a late answer to an earlier one, or a
        # provisional response, does not).
        if not resp.startswith(b"SIP/2.0 ") or resp[8:9] == b"1" or call_id not in resp:
            continue
        lat.append((t1 - t0) / 1000.0)
        got = True
    lost += not got
    next_send += interval

if a.samples:
    with open(a.samples, "w") as f:
        f.write("".join(f"{x:.1f}\n" for x in lat))
if not lat:
    print(f"{sent} 0 {lost} - - - -")
    sys.exit(1)
lat.sort()


def pct(q):
    return lat[min(len(lat) - 1, int(q * len(lat)))]


print(f"{sent} {len(lat)} {lost} {pct(0.5):.0f} {pct(0.9):.0f} {pct(0.99):.0f} {lat[-1]:.0f}")
