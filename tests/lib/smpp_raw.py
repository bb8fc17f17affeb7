#!/usr/bin/env python3
"""Raw SMPP octets for the bad-input tests: connect to HOST PORT, send each hex argument as
it is (spaces ignored; '.' between two arguments waits for one PDU in answer), and print
every PDU read back as one line 'COMMAND_ID STATUS SEQ' in hex, then 'closed' if the peer
closed the connection. Exit 3 when nothing comes within --timeout seconds.

  smpp_raw.py [--timeout S] HOST PORT HEX [. HEX]...
"""
import socket
import struct
import sys


def read_pdu(sock, buf):
    while True:
        if len(buf) >= 4:
            (length,) = struct.unpack(">I", buf[:4])
            if length >= 16 and len(buf) >= length:
                return buf[:length], buf[length:]
        chunk = sock.recv(4096)
        if not chunk:
            return None, buf
        buf += chunk


def main():
    args = sys.argv[1:]
    timeout = 5.0
    if args[:1] == ["--timeout"]:
        timeout = float(args[1])
        args = args[2:]
    host, port, steps = args[0], int(args[1]), args[2:]
    sock = socket.create_connection((host, port), timeout=timeout)
    buf = b""
    pending = 0
    try:
        for step in steps + ["."]:
            if step == ".":
                while pending:
                    pdu, buf = read_pdu(sock, buf)
                    if pdu is None:
                        print("closed", flush=True)
                        return 0
                    cmd, status, seq = struct.unpack(">III", pdu[4:16])
                    print(f"{cmd:08x} {status:08x} {seq:08x}", flush=True)
                    pending -= 1
                continue
            sock.sendall(bytes.fromhex(step.replace(" ", "")))
            pending += 1
        # After the last answer: report a close that follows at once.
        sock.settimeout(0.5)
        try:
            if sock.recv(1) == b"":
                print("closed", flush=True)
        except socket.timeout:
            pass
    except socket.timeout:
        print("timeout", flush=True)
        return 3
    return 0


if __name__ == "__main__":
    sys.exit(main())
