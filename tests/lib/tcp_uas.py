#!/usr/bin/env python3
"""A SIP UAS over TCP for the flow tests (loopback only), that says where each request came from.

tcp_uas.py --listen IP:PORT [--requests N] [--invite-status CODE] --ready-fd FD
tcp_uas.py --register CORE_IP:PORT --aor USER@DOMAIN --bind IP [--requests N]
           [--invite-status CODE] --ready-fd FD

--listen accepts connections on IP:PORT. --register connects to the core from IP, registers
<sip:USER@IP:LPORT;transport=tcp> over that connection and then serves requests on it alone
(RFC 5626: the core must reach us over the connection our REGISTER came on). Readiness is
one line on FD ("tcp:IP:PORT"). Each request is answered on the connection it came on (200;
an INVITE CODE, 200 by default; an ACK not at all; a CODE under 200
leaves the INVITE pending until a CANCEL, answered 200 and the INVITE 487) and printed as one JSON line: method,
CSeq, the peer and local addresses of its connection, which connection ("register" or
accepted number), and its top Via. Exits after N requests, ACKs included (1 by default), or
with status 3 after 30 s without them.
"""
import json, os, random, select, socket, sys, time


def arg(args, name, default=None):
    return args[args.index(name) + 1] if name in args else default


def addr(text):
    host, port = text.rsplit(':', 1)
    return host, int(port)


def messages(buf):
    """Cut whole messages (head and Content-Length body) off buf: (messages, rest)."""
    out = []
    while True:
        buf = buf.lstrip(b'\r\n')  # CRLF keep-alives
        end = buf.find(b'\r\n\r\n')
        if end < 0:
            return out, buf
        head = buf[:end].decode('utf-8', 'replace')
        length = 0
        for line in head.split('\r\n')[1:]:
            name, _, value = line.partition(':')
            if name.strip().lower() in ('content-length', 'l'):
                length = int(value.strip())
        if len(buf) < end + 4 + length:
            return out, buf
        out.append(head)
        buf = buf[end + 4 + length:]


def header(head, *names):
    """The first value of a header (any of its names), '' when absent."""
    for line in head.split('\r\n')[1:]:
        name, _, value = line.partition(':')
        if name.strip().lower() in names:
            return value.strip()
    return ''


def answer(head, code):
    """A response CODE to a request head: its Via lines, From, To with a tag, Call-ID, CSeq."""
    reasons = {180: 'Ringing', 200: 'OK', 486: 'Busy Here', 487: 'Request Terminated'}
    lines = ['SIP/2.0 %d %s' % (code, reasons.get(code, 'Refused'))]
    for line in head.split('\r\n')[1:]:
        name = line.partition(':')[0].strip().lower()
        if name in ('via', 'v', 'from', 'f', 'call-id', 'i', 'cseq'):
            lines.append(line)
        elif name in ('to', 't'):
            lines.append(line if ';tag=' in line else line + ';tag=uas')
    return ('\r\n'.join(lines) + '\r\nContent-Length: 0\r\n\r\n').encode()


def main():
    args = sys.argv[1:]
    wanted = int(arg(args, '--requests', '1'))
    invite_status = int(arg(args, '--invite-status', '200'))
    ready_fd = int(arg(args, '--ready-fd'))
    deadline = time.monotonic() + 30
    conns = {}  # socket -> [name, buffer]
    listener = None
    if '--listen' in args:
        listener = socket.create_server(addr(arg(args, '--listen')))
        ready = 'tcp:%s:%d' % listener.getsockname()[:2]
    else:
        bind = arg(args, '--bind')
        s = socket.create_connection(addr(arg(args, '--register')), timeout=10,
                                     source_address=(bind, 0))
        local = '%s:%d' % s.getsockname()[:2]
        user, domain = arg(args, '--aor').split('@')
        s.sendall(('REGISTER sip:%s SIP/2.0\r\n'
                   'Via: SIP/2.0/TCP %s;branch=z9hG4bK%016x\r\n'
                   'Max-Forwards: 70\r\nFrom: <sip:%s@%s>;tag=r\r\nTo: <sip:%s@%s>\r\n'
                   'Call-ID: %016x@test\r\nCSeq: 1 REGISTER\r\n'
                   'Contact: <sip:%s@%s;transport=tcp>\r\nExpires: 600\r\n'
                   'Content-Length: 0\r\n\r\n'
                   % (domain, local, random.getrandbits(64), user, domain, user, domain,
                      random.getrandbits(64), user, local)).encode())
        buf = b''
        while True:
            got, buf = messages(buf)
            if got:
                break
            data = s.recv(65536)
            if not data:
                sys.exit('the core closed the connection before answering the REGISTER')
            buf += data
        if got[0].split(' ')[1] != '200':
            sys.exit('REGISTER: ' + got[0].split('\r\n')[0])
        conns[s] = ['register', buf]
        ready = 'tcp:' + local
    os.write(ready_fd, (ready + '\n').encode())
    os.close(ready_fd)
    served = 0
    pending = None  # an INVITE left at its provisional answer
    while served < wanted:
        left = deadline - time.monotonic()
        if left <= 0:
            print('timeout: %d of %d requests' % (served, wanted), file=sys.stderr)
            sys.exit(3)
        socks = list(conns) + ([listener] if listener else [])
        readable, _, _ = select.select(socks, [], [], left)
        for s in readable:
            if s is listener:
                c, _ = listener.accept()
                conns[c] = [str(len(conns)), b'']
                continue
            data = s.recv(65536)
            if not data:
                s.close()
                del conns[s]
                continue
            conns[s][1] += data
            got, conns[s][1] = messages(conns[s][1])
            for head in got:
                if head.startswith('SIP/2.0'):
                    continue
                method = head.split(' ')[0]
                if method == 'INVITE' and invite_status < 200:
                    pending = head
                if method == 'CANCEL' and pending:
                    s.sendall(answer(head, 200) + answer(pending, 487))
                    pending = None
                elif method != 'ACK':
                    s.sendall(answer(head, invite_status if method == 'INVITE' else 200))
                print(json.dumps({'method': method,
                                  'cseq': header(head, 'cseq'),
                                  'peer': '%s:%d' % s.getpeername()[:2],
                                  'local': '%s:%d' % s.getsockname()[:2],
                                  'conn': conns[s][0],
                                  'via': header(head, 'via', 'v')}), flush=True)
                served += 1


if __name__ == '__main__':
    main()
