#!/usr/bin/env python3
"""A HEP v3 collector for the flow tests, written apart from libcpm's encoder so that it
checks it: hep_collector.py ADDR:PORT OUT [--ready-fd N]

Binds UDP ADDR:PORT, writes "udp:ADDR:PORT" to fd N once bound (tests/lib/proc.sh's start),
then appends one JSON object per packet to OUT (flushed each time): its generic chunks by
name (addresses as text, the payload as text), or {"error": ...} for a packet it cannot read.
Ends on SIGTERM."""
import ipaddress
import json
import os
import signal
import socket
import struct
import sys

NAMES = {1: "family", 2: "protocol", 3: "src", 4: "dst", 5: "src", 6: "dst", 7: "src_port",
         8: "dst_port", 9: "time_sec", 10: "time_usec", 11: "proto_type", 12: "capture_id",
         14: "auth_key", 15: "payload", 19: "node_name"}


def decode(data):
    if data[:4] != b"HEP3":
        return {"error": "no HEP3"}
    (length,) = struct.unpack_from(">H", data, 4)
    if length != len(data):
        return {"error": f"length {length} of {len(data)} bytes"}
    out, at = {"types": []}, 6
    while at < len(data):
        if len(data) - at < 6:
            return {"error": f"chunk header cut at {at}"}
        vendor, kind, size = struct.unpack_from(">HHH", data, at)
        if size < 6 or at + size > len(data):
            return {"error": f"chunk {kind} of length {size} at {at}"}
        body = data[at + 6:at + size]
        at += size
        if vendor != 0:
            continue
        out["types"].append(kind)
        name = NAMES.get(kind)
        if kind in (3, 4, 5, 6):
            out[name] = str(ipaddress.ip_address(body))
        elif kind in (1, 2, 11):
            out[name] = body[0]
        elif kind in (7, 8):
            out[name] = struct.unpack(">H", body)[0]
        elif kind in (9, 10, 12):
            out[name] = struct.unpack(">I", body)[0]
        elif name:
            out[name] = body.decode("utf-8", "replace")
    return out


def main():
    host, port = sys.argv[1].rsplit(":", 1)
    ready = int(sys.argv[sys.argv.index("--ready-fd") + 1]) if "--ready-fd" in sys.argv else -1
    sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind((host.strip("[]"), int(port)))
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    with open(sys.argv[2], "a", encoding="utf-8") as out:
        if ready >= 0:
            os.write(ready, f"udp:{sys.argv[1]}\n".encode())
            os.close(ready)
        while True:
            data = sock.recv(70000)
            out.write(json.dumps(decode(data)) + "\n")
            out.flush()


if __name__ == "__main__":
    main()
