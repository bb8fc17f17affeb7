#!/bin/bash
# What each HEP packet says, read by a collector of its own (tests/lib/hep_collector.py,
# Python, written apart from libcpm's encoder): the pager-mode message of Figures 5+6 on
# lab-icsi.toml, every node sending HEP by its config (`hep`), coreA with hep_id = 11 and
# hep_node = "A-core", csA with hep_key = "s3cret", alice with --hep-id 5 on her command line.
# One packet per SIP event of the traces, with the event's time to the microsecond, its
# addresses and ports, IPv4 and UDP, protocol type 1 (SIP), the node's name (its --node
# unless hep_node names it otherwise), the capture id and the key each node was given.
. "$(dirname "$0")/../lib/flow.sh"
. "$(dirname "$0")/../lib/hep.sh"
need python3

lab_config "$examples/lab-icsi.toml"
collector="${lab_prefix}0.9:9060"
hep_in_config "$collector"
sed -i -e '/^name = "coreA"$/a hep_id = 11\nhep_node = "A-core"' \
  -e '/^name = "csA"$/a hep_key = "s3cret"' "$lab" || fail "cannot edit $lab"
start hep python3 "$CPM_SOURCE_DIR/tests/lib/hep_collector.py" "$collector" "$t/hep.jsonl"

start_network "" "$t"
start bob cpm-send --config "$lab" --node bob --receive --count 1 --trace "$t/bob.trace"
cpm-send --config "$lab" --node alice --register --notify delivery --wait --timeout 10 \
  --hep-id 5 --trace "$t/alice.trace" sip:bob@b.example 'Hello' \
  >"$t/alice.out" 2>"$t/alice.err" || fail "alice's cpm-send exited with $?: $(cat "$t/alice.err")"
expect_exit bob 0 "bob's exit status"
stop_network ""

want=$(sip_events "$t"/*.trace | wc -l)
((want >= 20)) || fail "only $want SIP events in the traces"
wait_count "$t/hep.jsonl" '{' "$want"
stop hep || fail "the collector did not stop cleanly"

python3 - "$t/hep.jsonl" "$t"/*.trace <<'PY' || fail "the HEP packets do not say what the traces say"
import collections, json, sys
packets = [json.loads(l) for l in open(sys.argv[1])]
name = {"coreA": "A-core"}
ids = {"coreA": 11, "alice": 5}
keys = {"csA": "s3cret"}
want, got, bad = collections.Counter(), collections.Counter(), []
for path in sys.argv[2:]:
    for line in open(path):
        e = json.loads(line)
        if e["dir"] not in ("tx", "rx") or e["transport"] == "smpp" or e["first_line"].startswith("MSRP "):
            continue
        src, dst = (e["local"], e["peer"]) if e["dir"] == "tx" else (e["peer"], e["local"])
        node = e["node"]
        want[(name.get(node, node), ids.get(node, 1), keys.get(node), e["time"], src, dst,
              e["transport"], e["message"])] += 1
for p in packets:
    if "error" in p:
        bad.append(p["error"])
        continue
    order = [1, 2, 3, 4, 7, 8, 9, 10, 11, 12] + ([14] if "auth_key" in p else []) + [19, 15]
    if p["types"] != order or p["family"] != 2 or p["proto_type"] != 1 or p["time_usec"] >= 10**6:
        bad.append(f"chunks {p['types']}, family {p['family']}, type {p['proto_type']}")
    transport = {17: "udp", 6: "tcp"}.get(p["protocol"], "?")
    got[(p["node_name"], p["capture_id"], p.get("auth_key"), p["time_sec"] * 10**6 + p["time_usec"],
         f'{p["src"]}:{p["src_port"]}', f'{p["dst"]}:{p["dst_port"]}', transport, p["payload"])] += 1
for b in bad[:5]:
    print("bad packet:", b, file=sys.stderr)
for k in list((want - got).keys())[:5]:
    print("traced, not received:", k[:7], k[7].splitlines()[0], file=sys.stderr)
for k in list((got - want).keys())[:5]:
    print("received, not traced:", k[:7], k[7].splitlines()[0], file=sys.stderr)
nodes = sorted({k[0] for k in got})
print(f"{len(packets)} HEP packets from {', '.join(nodes)}", file=sys.stderr)
sys.exit(1 if bad or want != got or "A-core" not in nodes or "csA" not in nodes else 0)
PY
echo "OK hep-chunks"
