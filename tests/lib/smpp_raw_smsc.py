#!/usr/bin/env python3
"""A fake SMSC on a raw socket for the IWF's bad-input test: it binds the ESME, then sends
PDUs no SMPP library would (an unknown command_id, a truncated deliver_sm, a command_length
that lies), each followed by a good deliver_sm, and prints one JSON line per answer it gets
back ("listening" first). It serves two connections: the lying length ends the first one.

    smpp_raw_smsc.py HOST PORT FROM TO
"""
import json
import socket
import struct
import sys

GENERIC_NACK = 0x80000000
BIND_TRX, DELIVER_SM, ENQUIRE_LINK, UNBIND = 0x09, 0x05, 0x15, 0x06


def out(**kw):
    print(json.dumps(kw, sort_keys=True), flush=True)


def read_exact(c, n):
    b = b""
    while len(b) < n:
        chunk = c.recv(n - len(b))
        if not chunk:
            return None
        b += chunk
    return b


def read_pdu(c):
    head = read_exact(c, 16)
    if head is None:
        return None
    length, cmd, status, seq = struct.unpack(">IIII", head)
    body = read_exact(c, length - 16) if length > 16 else b""
    return cmd, status, seq, body


def pdu(cmd, seq, body=b"", status=0, length=None):
    return struct.pack(">IIII", length if length is not None else 16 + len(body), cmd, status,
                       seq) + body


def deliver_sm(src, dst, text):
    c = lambda s: s.encode() + b"\0"  # noqa: E731
    return (c("") + b"\x01\x01" + c(src) + b"\x01\x01" + c(dst) + b"\x00\x00\x00" + c("") +
            c("") + b"\x00\x00\x00\x00" + bytes([len(text)]) + text.encode())


def answer(c, seq, what):
    """Read until the answer to seq (answering the ESME's enquire_link meanwhile)."""
    while True:
        p = read_pdu(c)
        if p is None:
            out(event="closed", after=what)
            return None
        cmd, status, s, _ = p
        if cmd == ENQUIRE_LINK:
            c.sendall(pdu(0x80000000 | ENQUIRE_LINK, s))
            continue
        if cmd == UNBIND:
            c.sendall(pdu(0x80000000 | UNBIND, s))
            continue
        out(event="answer", to=what, command_id=cmd, status=status, seq=s)
        if s == seq or cmd == GENERIC_NACK:
            return p


def bind(c):
    cmd, _, seq, body = read_pdu(c)
    assert cmd == BIND_TRX, hex(cmd)
    c.sendall(pdu(0x80000000 | BIND_TRX, seq, b"raw-smsc\0"))
    out(event="bound", system_id=body.split(b"\0")[0].decode())


def main():
    host, port, src, dst = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
    ls = socket.socket()
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind((host, port))
    ls.listen(1)
    out(event="listening")
    c, _ = ls.accept()
    bind(c)
    # An unknown command_id: generic_nack ESME_RINVCMDID, same sequence.
    c.sendall(pdu(0x00000077, 101))
    answer(c, 101, "unknown")
    # A truncated deliver_sm (its fields end early; the length is true to the bytes sent).
    c.sendall(pdu(DELIVER_SM, 102, b"\0\x01\x01+1555"))
    answer(c, 102, "truncated")
    c.sendall(pdu(DELIVER_SM, 103, deliver_sm(src, dst, "after truncated")))
    answer(c, 103, "good1")
    # A deliver_sm whose command_length lies (8, under the 16-byte header).
    c.sendall(pdu(DELIVER_SM, 104, deliver_sm(src, dst, "never read"), length=8))
    answer(c, 104, "lying")
    # Read to the end of the connection the ESME closes.
    while answer(c, 0, "lying") is not None:
        pass
    c.close()
    c, _ = ls.accept()
    bind(c)
    c.sendall(pdu(DELIVER_SM, 105, deliver_sm(src, dst, "after reconnect")))
    answer(c, 105, "good2")
    while answer(c, 0, "end") is not None:
        pass


main()
