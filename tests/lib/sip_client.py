#!/usr/bin/env python3
"""Minimal SIP test client for the core-*.sh flow tests (UDP or TCP, loopback only).

sip_client.py HOST:PORT [--tcp] [--timeout S] [--raw] [--all] [--bind IP] [--port P]
              [--encode CODING] < request
The request text on stdin may use @LOCAL@ (our ip:port), @BRANCH@ and @CALLID@; LF line ends
are turned into CRLF unless --raw (bytes sent as they are, for torture messages).
--encode compresses the body with Python's zlib and adds Content-Encoding: deflate (zlib
format), raw-deflate (sent as "deflate"), gzip; any other CODING is only named in the header.
Prints the final response (or every response with --all); exit 3 if none came in time.
"""
import gzip, os, random, socket, sys, time, zlib


def encode(body, coding):
    """The body compressed as CODING, and the Content-Encoding header's value."""
    if coding == 'deflate':
        return zlib.compress(body), 'deflate'
    if coding == 'raw-deflate':
        c = zlib.compressobj(6, zlib.DEFLATED, -15)
        return c.compress(body) + c.flush(), 'deflate'
    if coding == 'gzip':
        return gzip.compress(body, mtime=0), 'gzip'
    return body, coding

def main():
    args = sys.argv[1:]
    host, port = args[0].rsplit(':', 1)
    tcp = '--tcp' in args
    raw = '--raw' in args
    show_all = '--all' in args
    timeout = float(args[args.index('--timeout') + 1]) if '--timeout' in args else 5.0
    lport = int(args[args.index('--port') + 1]) if '--port' in args else 0
    bind = args[args.index('--bind') + 1] if '--bind' in args else '127.0.0.1'
    coding = args[args.index('--encode') + 1] if '--encode' in args else None
    data = sys.stdin.buffer.read()
    if tcp:
        s = socket.create_connection((host, int(port)), timeout=timeout)
    else:
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.bind((bind, lport))
    local = '%s:%d' % s.getsockname()[:2]
    if not raw:
        text = data.decode('utf-8')
        text = text.replace('@LOCAL@', local)
        text = text.replace('@BRANCH@', 'z9hG4bK%016x' % random.getrandbits(64))
        text = text.replace('@CALLID@', '%016x@test' % random.getrandbits(64))
        head, sep, body = text.partition('\n\n')
        head = head.replace('\r\n', '\n').replace('\n', '\r\n')
        payload = body.encode('utf-8')
        if coding:
            payload, name = encode(payload, coding)
            head += '\r\nContent-Encoding: %s' % name
        if 'Content-Length' not in head and '\nl:' not in head:
            head += '\r\nContent-Length: %d' % len(payload)
        data = (head + '\r\n\r\n').encode('utf-8') + payload
    if tcp:
        s.sendall(data)
    else:
        s.sendto(data, (host, int(port)))
    deadline = time.time() + timeout
    buf = b''
    while time.time() < deadline:
        s.settimeout(max(0.01, deadline - time.time()))
        try:
            chunk = s.recv(65536) if tcp else s.recvfrom(65536)[0]
        except socket.timeout:
            break
        if not chunk:
            break
        buf += chunk
        while b'\r\n\r\n' in buf:
            head, _, rest = buf.partition(b'\r\n\r\n')
            clen = 0
            for line in head.split(b'\r\n'):
                k, _, v = line.partition(b':')
                if k.strip().lower() in (b'content-length', b'l'):
                    clen = int(v.strip())
            if tcp and len(rest) < clen:
                break
            msg, buf = head + b'\r\n\r\n' + rest[:clen], rest[clen:]
            text = msg.decode('utf-8', 'replace')
            first = text.split('\r\n', 1)[0]
            code = int(first.split()[1]) if first.startswith('SIP/2.0 ') else 0
            if show_all or code >= 200:
                sys.stdout.write(text.replace('\r\n', '\n'))
                sys.stdout.write('\n')
                sys.stdout.flush()
            if code >= 200:
                return 0
            if not tcp:
                buf = b''
    return 3

try:
    sys.exit(main())
except BrokenPipeError:
    sys.exit(0)
