#!/usr/bin/env python3
"""A UAS that answers a MESSAGE as liblinphone does: its IMDN delivery notification first,
compressed (Content-Encoding: deflate), and its 200 for the MESSAGE only after that.
Independent of the toolkit: Python's socket and zlib, UDP on loopback.

imdn_peer.py IP [--coding deflate|raw-deflate|gzip] [--order before|after] [--twice]
             [--bare] [--count N] [--timeout S] [--ready-fd FD]

Binds IP:0 (UDP) and writes "udp:IP:PORT" to --ready-fd (else stdout). For each of N
MESSAGEs asking for a delivery notification (default 1): sends a MESSAGE with the
notification to where the request came from (twice with --twice, new Call-IDs), waits for
its final answer, then answers the request 200 (--order after: 200 first). Prints one line
per event on stdout: "notification N answered CODE", "answered 200". --bare sends the IMDN XML without its
CPIM wrapper (Content-Type: message/imdn+xml). Exit 0 when every
notification was answered 2xx, 1 when one was refused, 3 on timeout.
"""
import gzip, os, random, socket, sys, time, zlib


def arg(args, name, default):
    return args[args.index(name) + 1] if name in args else default


def parse(data):
    head, _, body = data.partition(b'\r\n\r\n')
    lines = head.decode('utf-8', 'replace').split('\r\n')
    hdrs = []
    for line in lines[1:]:
        k, _, v = line.partition(':')
        hdrs.append((k.strip().lower(), v.strip()))
    return lines[0], hdrs, body


def header(hdrs, *names):
    for k, v in hdrs:
        if k in names:
            return v
    return ''


def cpim_header(body, name):
    for line in body.decode('utf-8', 'replace').split('\r\n'):
        k, _, v = line.partition(':')
        if k.strip().lower() == name.lower():
            return v.strip()
    return ''


def uri_of(value):
    return value[value.index('<') + 1:value.index('>')] if '<' in value else value.split(';')[0]


def compress(data, coding):
    if coding == 'gzip':
        return gzip.compress(data, mtime=0)
    if coding == 'raw-deflate':
        c = zlib.compressobj(6, zlib.DEFLATED, -15)
        return c.compress(data) + c.flush()
    return zlib.compress(data)


def main():
    args = sys.argv[1:]
    ip = args[0]
    coding = arg(args, '--coding', 'deflate')
    order = arg(args, '--order', 'before')
    count = int(arg(args, '--count', '1'))
    timeout = float(arg(args, '--timeout', '20'))
    copies = 2 if '--twice' in args else 1
    bare = '--bare' in args
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind((ip, 0))
    local = '%s:%d' % s.getsockname()
    ready = 'udp:%s\n' % local
    fd = int(arg(args, '--ready-fd', '-1'))
    if fd >= 0:
        os.write(fd, ready.encode())
        os.close(fd)
    else:
        sys.stdout.write(ready)
        sys.stdout.flush()
    deadline = time.time() + timeout
    refused = False
    handled = 0
    seen = set()
    while handled < count:
        req, src = recv(s, deadline)
        if req is None:
            return 3
        first, hdrs, body = parse(req)
        if not first.startswith('MESSAGE '):
            continue
        call_id = header(hdrs, 'call-id', 'i')
        if call_id in seen:  # a retransmission: answered already
            s.sendto(response(first, hdrs, 200, 'OK'), src)
            continue
        seen.add(call_id)
        requested = cpim_header(body, 'imdn.Disposition-Notification')
        if 'positive-delivery' not in requested:
            s.sendto(response(first, hdrs, 200, 'OK'), src)
            continue
        if order == 'after':
            s.sendto(response(first, hdrs, 200, 'OK'), src)
            print('answered 200', flush=True)
        for n in range(copies):
            code = notify(s, src, local, hdrs, body, coding, bare, deadline)
            if code is None:
                return 3
            print('notification %d answered %d' % (n + 1, code), flush=True)
            refused = refused or code >= 300
        if order != 'after':
            s.sendto(response(first, hdrs, 200, 'OK'), src)
            print('answered 200', flush=True)
        handled += 1
    return 1 if refused else 0


def recv(s, deadline):
    left = deadline - time.time()
    if left <= 0:
        return None, None
    s.settimeout(left)
    try:
        return s.recvfrom(65536)
    except socket.timeout:
        return None, None


def response(first, hdrs, code, reason):
    out = ['SIP/2.0 %d %s' % (code, reason)]
    for k, v in hdrs:
        if k in ('via', 'v', 'from', 'f', 'call-id', 'i', 'cseq'):
            out.append('%s: %s' % (k, v))
        elif k in ('to', 't'):
            out.append('To: %s%s' % (v, '' if 'tag=' in v else ';tag=peer%x' % random.getrandbits(32)))
    out.append('Content-Length: 0')
    return ('\r\n'.join(out) + '\r\n\r\n').encode()


def notify(s, dst, local, hdrs, body, coding, bare, deadline):
    """Send one compressed delivery notification for the MESSAGE; its final status."""
    message_id = cpim_header(body, 'imdn.Message-ID')
    sender = uri_of(cpim_header(body, 'From')) or uri_of(header(hdrs, 'from', 'f'))
    me = uri_of(header(hdrs, 'to', 't'))
    now = time.strftime('%Y-%m-%dT%H:%M:%SZ', time.gmtime())
    xml = ('<?xml version="1.0" encoding="UTF-8"?>\r\n'
           '<imdn xmlns="urn:ietf:params:xml:ns:imdn"><message-id>%s</message-id>'
           '<datetime>%s</datetime><delivery-notification><status><delivered/></status>'
           '</delivery-notification></imdn>' % (message_id, now))
    cpim = ('From: <%s>\r\nTo: <%s>\r\nDateTime: %s\r\nNS: imdn <urn:ietf:params:imdn>\r\n'
            'imdn.Message-ID: %016x\r\n\r\nContent-Type: message/imdn+xml\r\n'
            'Content-Disposition: notification\r\n\r\n%s'
            % (me, sender, now, random.getrandbits(64), xml)).encode()
    coded = compress(xml.encode() if bare else cpim, coding)
    branch = 'z9hG4bK%016x' % random.getrandbits(64)
    call_id = '%016x@peer' % random.getrandbits(64)
    head = ('MESSAGE %s SIP/2.0\r\nVia: SIP/2.0/UDP %s;branch=%s;rport\r\nMax-Forwards: 70\r\n'
            'From: <%s>;tag=%x\r\nTo: <%s>\r\nCall-ID: %s\r\nCSeq: 1 MESSAGE\r\n'
            'Content-Type: message/cpim\r\nContent-Encoding: deflate\r\nContent-Length: %d\r\n\r\n'
            % (sender, local, branch, me, random.getrandbits(32), sender, call_id, len(coded)))
    if coding == 'gzip':
        head = head.replace('Content-Encoding: deflate', 'Content-Encoding: gzip')
    if bare:
        head = head.replace('Content-Type: message/cpim', 'Content-Type: message/imdn+xml')
    s.sendto(head.encode() + coded, dst)
    while True:
        data, _ = recv(s, deadline)
        if data is None:
            return None
        first, rhdrs, _ = parse(data)
        if not first.startswith('SIP/2.0 ') or header(rhdrs, 'call-id', 'i') != call_id:
            continue  # a retransmission of the request waits for its answer
        code = int(first.split()[1])
        if code >= 200:
            return code


if __name__ == '__main__':
    try:
        sys.exit(main())
    except BrokenPipeError:
        sys.exit(0)
