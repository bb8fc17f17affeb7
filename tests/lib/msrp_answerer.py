#!/usr/bin/env python3
"""A passive MSRP endpoint (RFC 4975) for the interop tests, written apart from libcpm.

msrp_answerer.py HOST:PORT OUT [--timeout S]
Listens on HOST:PORT (TCP), accepts the connections of the active side (a=setup:passive
in the SDP answer that names it), and for every SEND: answers 200 OK (unless it says
Failure-Report: no), sends the success REPORT it asks for (Success-Report: yes) once the
last chunk arrived, and appends its body to OUT, a line "SEND <Message-ID> <Byte-Range>"
first. Empty SENDs (the active side's first, RFC 4975 §5.4) are written as that line only.
Writes "ready HOST:PORT" to stdout once listening. Ends on SIGTERM or after S seconds
(default 120).
"""
import os, random, selectors, signal, socket, sys, time


def tid():
    return '%016x' % random.getrandbits(64)


class Conn:
    def __init__(self, sock, out):
        self.sock = sock
        self.buf = b''
        self.out = out

    def frames(self):
        """Yield (first line, headers dict, body bytes, flag) for every complete frame."""
        while True:
            end = self.buf.find(b'\r\n')
            if end < 0:
                return
            first = self.buf[:end].decode('utf-8', 'replace')
            parts = first.split(' ')
            if len(parts) < 3 or parts[0] != 'MSRP':
                raise ValueError('not an MSRP frame: %r' % first)
            t = parts[1]
            line = b'\r\n-------' + t.encode()
            close = self.buf.find(line, end)
            # The end-line follows the headers directly (no body) or the body's CRLF.
            if close < 0 or len(self.buf) < close + len(line) + 3:
                return
            flag = self.buf[close + len(line):close + len(line) + 1].decode()
            block = self.buf[end + 2:close]
            self.buf = self.buf[close + len(line) + 3:]
            head, sep, body = block.partition(b'\r\n\r\n')
            headers = {}
            for h in head.decode('utf-8', 'replace').split('\r\n'):
                name, colon, value = h.partition(':')
                if colon:
                    headers[name.strip().lower()] = value.strip()
            yield first, headers, body if sep else b'', flag

    def send(self, text):
        self.sock.sendall(text.encode())

    def on_frame(self, first, h, body, flag):
        parts = first.split(' ', 3)
        if parts[2] != 'SEND':
            return  # responses to our REPORTs, REPORTs from the other side
        t = parts[1]
        to_path = h.get('to-path', '').split()
        from_path = h.get('from-path', '').split()
        if not to_path or not from_path:
            self.send('MSRP %s 400 Bad Request\r\n-------%s$\r\n' % (t, t))
            return
        me, them = to_path[-1], from_path[0]
        with open(self.out, 'ab') as f:
            f.write(('SEND %s %s\n' % (h.get('message-id', '-'), h.get('byte-range', '-'))).encode())
            if body:
                f.write(body + b'\n')
        # RFC 4975 §7.2: a response goes back to the first From-Path URI, from us.
        if h.get('failure-report', 'yes').lower() != 'no':
            self.send('MSRP %s 200 OK\r\nTo-Path: %s\r\nFrom-Path: %s\r\n-------%s$\r\n'
                      % (t, them, me, t))
        # §7.1.2: a success REPORT once the whole message arrived.
        if h.get('success-report', 'no').lower() == 'yes' and flag == '$':
            rng = h.get('byte-range', '1-*/*')
            total = rng.split('/')[-1]
            r = tid()
            self.send('MSRP %s REPORT\r\nTo-Path: %s\r\nFrom-Path: %s\r\nMessage-ID: %s\r\n'
                      'Byte-Range: 1-%s/%s\r\nStatus: 000 200 OK\r\n-------%s$\r\n'
                      % (r, them, me, h.get('message-id', ''), total, total, r))


def main():
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    host, port = sys.argv[1].rsplit(':', 1)
    out = sys.argv[2]
    timeout = float(sys.argv[sys.argv.index('--timeout') + 1]) if '--timeout' in sys.argv else 120.0
    open(out, 'ab').close()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    ls = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind((host, int(port)))
    ls.listen(8)
    sel = selectors.DefaultSelector()
    sel.register(ls, selectors.EVENT_READ, None)
    print('ready %s:%d' % ls.getsockname()[:2], flush=True)
    deadline = time.time() + timeout
    while time.time() < deadline:
        for key, _ in sel.select(timeout=max(0.0, deadline - time.time())):
            if key.data is None:
                s, _ = ls.accept()
                sel.register(s, selectors.EVENT_READ, Conn(s, out))
                continue
            c = key.data
            chunk = c.sock.recv(65536)
            if not chunk:
                sel.unregister(c.sock)
                c.sock.close()
                continue
            c.buf += chunk
            try:
                for frame in c.frames():
                    c.on_frame(*frame)
            except ValueError as e:
                print('msrp_answerer: %s' % e, file=sys.stderr, flush=True)
                sel.unregister(c.sock)
                c.sock.close()


if __name__ == '__main__':
    main()
