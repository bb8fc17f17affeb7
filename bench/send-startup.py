#!/usr/bin/env python3
"""How long cpm-send takes from exec to its first request on the wire.

Starts a UDP socket on 127.0.9.3 as the 'proxy', runs cpm-send against it RUNS times, and
measures from just before exec to the arrival of the first datagram. Not run by CI.
Usage: bench/send-startup.py [RUNS]   (default 50)
"""
import os, socket, statistics, subprocess, sys, time

top = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
binary = os.environ.get("CPM_BIN", os.path.join(top, "build", "release", "tools"))
runs = int(sys.argv[1]) if len(sys.argv) > 1 else 50
sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
sock.bind(("127.0.9.3", 0))
port = sock.getsockname()[1]


def measure(argv):
    samples = []
    for _ in range(runs):
        t0 = time.perf_counter_ns()
        p = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        sock.settimeout(5)
        sock.recvfrom(65536)
        samples.append((time.perf_counter_ns() - t0) / 1e6)
        p.kill()
        p.wait()
    samples.sort()
    return (f"median {statistics.median(samples):.2f} ms, "
            f"p90 {samples[int(len(samples) * 0.9) - 1]:.2f} ms, min {samples[0]:.2f} ms")


# The harness's own cost (Python fork/exec, a dynamically linked program, one datagram).
base = measure(["/bin/bash", "-c", f"printf x >/dev/udp/127.0.9.3/{port}"])
send = measure([os.path.join(binary, "cpm-send"), "--proxy", f"udp:127.0.9.3:{port}",
                "--from", "sip:alice@a.example", "--timeout", "1", "sip:bob@b.example", "hi"])
print(f"over {runs} runs, exec -> first datagram on the wire:")
print(f"  cpm-send:                  {send}")
print(f"  baseline (bash /dev/udp):  {base}")
