#!/usr/bin/env python3
"""Counts of a pager run through the loss lab (tests/loss/fig5-6-loss.sh, labs/pager.sh).

Usage: loss_report.py --sender ALICE.json --printed BOB.out --lines IN TRACE...

Prints one "key value" line per count (the test asserts on them) and a human summary on
stderr. The counts:
  sent, ok (2xx), failed, no_answer             alice's --json "response"/"timeout" events
  failed_STATUS                                 alice's failures by status (failed_482 ...)
  notified, notify_dup                          messages with a notification, extra ones
  printed_missing, printed_dup, printed_extra   bob's output against the lines sent
  txn_NODE, retx_NODE, reforwarded_NODE         MESSAGE transactions a node received, the
                                                retransmissions among its datagrams, and the
                                                requests that came again under a new branch
  wire_STATUS                                   final responses >= 300 any node sent
"""
import argparse
import collections
import json
import re
import sys


def header(message, *names):
    """The first value of a header (long or compact name) of a SIP message text."""
    for line in message.split("\r\n")[1:] if "\r\n" in message else message.split("\n")[1:]:
        if not line.strip():
            break
        name, _, value = line.partition(":")
        if name.strip().lower() in names:
            return value.strip()
    return ""


def vias(message):
    """How many Via values a SIP message text carries (a spiral adds one per pass)."""
    n = 0
    for line in message.replace("\r\n", "\n").split("\n")[1:]:
        if not line.strip():
            break
        name, _, value = line.partition(":")
        if name.strip().lower() in ("via", "v"):
            n += len(value.split(","))
    return n


def branch(message):
    via = header(message, "via", "v").split(",")[0]
    m = re.search(r";\s*branch=([^;\s,]+)", via, re.I)
    return m.group(1) if m else ""


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--sender", required=True)
    ap.add_argument("--printed", required=True)
    ap.add_argument("--lines", required=True)
    ap.add_argument("traces", nargs="*")
    a = ap.parse_args()
    out = collections.OrderedDict()

    # The sender's view.
    status = {}
    timeouts = set()
    notes = collections.Counter()
    for line in open(a.sender, encoding="utf-8", errors="replace"):
        try:
            e = json.loads(line)
        except ValueError:
            continue
        if e.get("type") == "response":
            status[e["message_id"]] = e.get("status")
        elif e.get("type") == "timeout":
            timeouts.add(e["message_id"])
        elif e.get("type") == "notification":
            notes[e["message_id"]] += 1
    codes = collections.Counter(status.values())
    out["sent"] = len(status) + len(timeouts - set(status))
    out["ok"] = sum(n for c, n in codes.items() if c is not None and 200 <= c < 300)
    out["failed"] = sum(n for c, n in codes.items() if c is not None and c >= 300)
    out["no_answer"] = codes.get(None, 0) + len(timeouts - set(status))
    for c in sorted(c for c in codes if c is not None and c >= 300):
        out[f"failed_{c}"] = codes[c]
    ok_ids = {m for m, c in status.items() if c is not None and 200 <= c < 300}
    out["notified"] = sum(1 for m in ok_ids if notes[m] > 0)
    out["notify_dup"] = sum(n - 1 for n in notes.values() if n > 1)

    # The receiver's view: each line sent printed once.
    want = collections.Counter(open(a.lines, encoding="utf-8").read().splitlines())
    got = collections.Counter(open(a.printed, encoding="utf-8", errors="replace").read().splitlines())
    out["printed_missing"] = sum(1 for l in want if got[l] == 0)
    out["printed_dup"] = sum(n - 1 for l, n in got.items() if n > 1 and l in want)
    out["printed_extra"] = sum(n for l, n in got.items() if l not in want)

    # The wire: per node, the MESSAGE requests it received.
    wire = collections.Counter()
    for path in a.traces:
        node = None
        seen = collections.Counter()  # (call-id, cseq, branch) -> datagrams
        branches = collections.defaultdict(set)  # (call-id, cseq) -> branches
        for line in open(path, encoding="utf-8", errors="replace"):
            try:
                e = json.loads(line)
            except ValueError:
                continue
            node = node or e.get("node")
            first = e.get("first_line", "")
            msg = e.get("message", "")
            if e.get("dir") == "rx" and first.startswith("MESSAGE "):
                # A spiral passes a node again with one Via more; a request forwarded
                # again (a late retransmission) comes with as many Vias, another branch.
                key = (e.get("call_id", ""), header(msg, "cseq"), vias(msg))
                b = branch(msg)
                seen[key + (b,)] += 1
                branches[key].add(b)
            elif e.get("dir") == "tx" and first.startswith("SIP/2.0 "):
                code = int(first.split()[1])
                if code >= 300:
                    wire[code] += 1
        if node is None:
            continue
        out[f"txn_{node}"] = len(seen)
        out[f"retx_{node}"] = sum(seen.values()) - len(seen)
        out[f"reforwarded_{node}"] = sum(len(b) - 1 for b in branches.values())
    for c in sorted(wire):
        out[f"wire_{c}"] = wire[c]

    for k, v in out.items():
        print(k, v)
    failures = ", ".join(f"{k[7:]} {v}" for k, v in out.items() if k.startswith("failed_"))
    refw = sum(v for k, v in out.items() if k.startswith("reforwarded_"))
    spurious = ", ".join(f"{k[5:]} {v}" for k, v in out.items() if k.startswith("wire_"))
    txns = ", ".join(f"{k[4:]} {v} (+{out['retx_' + k[4:]]} retransmitted)"
                     for k, v in out.items() if k.startswith("txn_"))
    print(f"MESSAGE transactions received: {txns}", file=sys.stderr)
    print(
        f"sender: sent {out['sent']}, 2xx {out['ok']}, failed {out['failed']}"
        f"{' (' + failures + ')' if failures else ''}, no answer {out['no_answer']}; "
        f"notified {out['notified']}, duplicate notifications {out['notify_dup']}\n"
        f"receiver: missing {out['printed_missing']}, printed twice {out['printed_dup']}, "
        f"unexpected {out['printed_extra']}\n"
        f"wire: requests forwarded again under a new branch {refw}; "
        f"final responses >= 300: {spurious or 'none'}",
        file=sys.stderr,
    )


if __name__ == "__main__":
    main()
