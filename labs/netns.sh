#!/bin/bash
# Networks in namespaces: the networks of a lab config (A, B and X of examples/lab-icsi.toml)
# each in a network namespace of its own, joined through a router namespace by veth links,
# with real routing between them and one dnsmasq per network serving its DNS zone.
#
# Usage: labs/netns.sh up K [CONFIG] | down K | status K | config K [CONFIG [--ips]]
#   up      creates the namespaces of lab K (needs root, ip, nft, dnsmasq, python3), starts the
#           dnsmasqs, checks every zone with a query and prints the address plan
#   down    stops the dnsmasqs it started (by PID) and deletes its namespaces: nothing stays
#   status  what lab K has: namespaces, addresses, the router's packet counts, the dnsmasqs
#   config  prints CONFIG for lab K (what the nodes must be given): its addresses, names
#           resolved by each network's dnsmasq for proxies and peers (--ips: addresses only)
# K (1..254) names the lab: its namespaces are cpm-netK-r (the router) and cpm-netK-LABEL
# per network, its addresses 10.K.0.0/16, its state (dnsmasq configs, logs, PID files) in
# ${TMPDIR:-/tmp}/cpm-netns-K. The labs (labs/*.sh --netns) take K from the loopback prefix
# 127.K. that the flow harness locks (claim_prefix), so parallel runs never share one.
# CONFIG (default examples/lab-icsi.toml) puts each network on a 127.0.N.0/24: its nodes go
# into one namespace with the addresses 10.K.N.M (M as in 127.0.N.M) on its link eth0, the
# router is 10.K.N.254, the network's DNS server (dnsmasq) 10.K.N.53 port 53. A network is
# named after the domain of its core (a.example -> cpm-netK-a); its zone has an A record
# NAME.DOMAIN per node, SRV _sip._udp/_sip._tcp and NAPTR SIP+D2U/SIP+D2T records for its
# core, and forwards the other networks' domains to their servers.
# Exit status: 0, 1 when it cannot (the reason on stderr; whatever `up` made is removed),
# 2 on a usage error.
#
# Sourced (after tests/lib/flow.sh) it gives the labs netns_lab: see there.

_netns_self=${BASH_SOURCE[0]}

# _netns_err MSG: MSG on stderr, as labs/netns.sh.
_netns_err() { printf 'labs/netns.sh: %s\n' "$*" >&2; }

_netns_state() { printf '%s/cpm-netns-%s\n' "${TMPDIR:-/tmp}" "$1"; }

# netns_plan K CONFIG: the plan of CONFIG on lab K, one line per network
#   net N LABEL DOMAIN CORE UDP_PORT TCP_PORT   (CORE "-" when the network has no core)
# and per node
#   node N M NAME DOMAIN
netns_plan()
{
  python3 - "$1" "$2" <<'PY'
import re, sys, tomllib
k, path = sys.argv[1], sys.argv[2]
try:
    with open(path, "rb") as f:
        cfg = tomllib.load(f)
except (OSError, tomllib.TOMLDecodeError) as e:
    sys.exit(f"cannot read {path}: {e}")
nets, nodes = {}, []
for node in cfg.get("node", []):
    addrs = [re.fullmatch(r"(udp|tcp):127\.0\.(\d+)\.(\d+):(\d+)", a) for a in node.get("listen", [])]
    addrs = [a for a in addrs if a]
    if not addrs:
        continue
    n, m = int(addrs[0][2]), int(addrs[0][3])
    if m in (53, 254) or m == 0 or m > 253:
        sys.exit(f"node {node['name']}: 127.0.{n}.{m} is the network's DNS server, router or not a host")
    net = nets.setdefault(n, {"domain": None, "core": None})
    if node.get("role") == "core":
        net["core"] = node["name"]
        net["domain"] = node.get("domain")
        net["ports"] = {a[1]: a[4] for a in reversed(addrs)}
    elif net["domain"] is None and node.get("domain"):
        net["domain"] = node["domain"]
    nodes.append((n, m, node["name"]))
if not nets:
    sys.exit(f"{path} has no node listening on 127.0.N.M")
labels = set()
for n, net in sorted(nets.items()):
    d = net["domain"]
    label = re.sub(r"[^a-z0-9]", "", d.split(".")[0].lower())[:6] if d else ""
    if not label or label in labels or label == "r":
        label = f"n{n}"
    labels.add(label)
    net["label"] = label
    p = net.get("ports", {})
    print("net", n, label, d or "-", net["core"] or "-", p.get("udp", "-"), p.get("tcp", "-"))
for n, m, name in nodes:
    print("node", n, m, name, nets[n]["domain"] or "-")
PY
}

# netns_config K CONFIG [--ips]: CONFIG (a lab config on 127.0.N.M) for lab K, on stdout:
# every address 10.K.N.M, and (unless --ips) names instead of addresses where DNS serves
# them: each node of a network with a domain resolves on its network's dnsmasq (dns =
# "10.K.N.53"), a core's peers table gives way to dns_peers = true (the other domains by
# their NAPTR/SRV/A records), and a proxy naming a core becomes "sip:DOMAIN" of that core.
netns_config()
{
  local k=$1 src=$2
  if [[ ${3:-} == --ips ]]; then
    sed "s/127\.0\./10.$k./g" "$src"
    return
  fi
  python3 - "$k" "$src" <<'PY'
import re, sys, tomllib
k, path = sys.argv[1], sys.argv[2]
text = open(path, encoding="utf-8").read()
cfg = tomllib.loads(text)
# A node's network: the third byte of its first 127.0.N.M listen address; its domain: the
# domain of that network's core.
net_of, domain_of_net, core_domain, has_dns = {}, {}, {}, set()
for node in cfg.get("node", []):
    for a in node.get("listen", []):
        m = re.fullmatch(r"(?:udp|tcp):127\.0\.(\d+)\.\d+:\d+", a)
        if m:
            net_of[node["name"]] = int(m[1])
            break
    if "dns" in node:
        has_dns.add(node["name"])
for node in cfg.get("node", []):
    if node.get("role") == "core" and node.get("domain") and node["name"] in net_of:
        domain_of_net[net_of[node["name"]]] = node["domain"]
        core_domain[node["name"]] = node["domain"]
in_node = False
for line in text.splitlines():
    out = re.sub(r"127\.0\.", f"10.{k}.", line)
    if line.startswith("["):
        in_node = line.strip() == "[[node]]"
    elif in_node:
        m = re.match(r'\s*name\s*=\s*"([^"]+)"', line)
        if m and m[1] not in has_dns and net_of.get(m[1]) in domain_of_net:
            out += f'\ndns = "10.{k}.{net_of[m[1]]}.53"  # its network\'s dnsmasq (labs/netns.sh)'
        elif re.match(r"\s*peers\s*=", line):
            out = "dns_peers = true  # the other domains by their DNS records (labs/netns.sh)"
        else:
            m = re.match(r'(\s*proxy\s*=\s*)"([^"]+)"(.*)', line)
            if m and m[2] in core_domain:
                out = f'{m[1]}"sip:{core_domain[m[2]]}"  # {m[2]}, found by DNS (labs/netns.sh)'
    print(out)
PY
}

# _netns_dns_query NS SERVER TYPE NAME [TYPE NAME...]: ask SERVER (port 53) from inside NS
# (one python for all: it starts slowly); fails on a query that gets no answer, an error
# code or no response within 2 s.
_netns_dns_query()
{
  local ns=$1
  shift
  ip netns exec "$ns" python3 - "$@" <<'PY'
import random, socket, struct, sys
server, queries = sys.argv[1], sys.argv[2:]
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.settimeout(2)
for qtype, name in zip(queries[::2], queries[1::2]):
    qid = random.randrange(65536)
    q = struct.pack("!HHHHHH", qid, 0x0100, 1, 0, 0, 0)
    q += b"".join(bytes([len(l)]) + l.encode() for l in name.split(".")) + b"\0"
    q += struct.pack("!HH", {"A": 1, "SRV": 33, "NAPTR": 35}[qtype], 1)
    try:
        s.sendto(q, (server, 53))
        r = s.recv(4096)
    except OSError as e:
        sys.exit(f"{name} {qtype}: no answer from {server}: {e}")
    rid, flags, _, an = struct.unpack("!HHHH", r[:8])
    if rid != qid or flags & 0xF or an == 0:
        sys.exit(f"{name} {qtype}: rcode {flags & 0xF}, {an} answers from {server}")
PY
}

# netns_up K [CONFIG] [OWNER]: see the usage. OWNER is a PID whose end makes the lab stale:
# a later `up K` removes a stale lab first (one left by a run killed with SIGKILL) instead
# of refusing a name in use.
netns_up()
{
  local k=$1 config=${2:-} owner=${3:-} st plan err ns n m label domain core udp tcp name
  local -a nets=() taken=()
  [[ -n $config ]] || config="$(cd "$(dirname "$_netns_self")/.." && pwd)/examples/lab-icsi.toml"
  if [[ ! $k =~ ^[0-9]+$ ]] || ((k < 1 || k > 254)); then
    _netns_err "K must be 1..254, not \"$k\""
    return 2
  fi
  ((EUID == 0)) || { _netns_err "network namespaces need root (run as root, or sudo)"; return 1; }
  for name in ip nft dnsmasq python3; do
    command -v "$name" >/dev/null 2>&1 || {
      _netns_err "$name is not installed (scripts/deps.sh --netns)"
      return 1
    }
  done
  st=$(_netns_state "$k")
  plan=$(netns_plan "$k" "$config" 2>&1) || { _netns_err "$plan"; return 1; }
  while read -r _ n label _; do nets+=("$n:$label"); done < <(grep '^net ' <<<"$plan")
  # A name in use is an error, unless its owner is gone (a lab killed with SIGKILL).
  for ns in "cpm-net$k-r" "${nets[@]/#*:/cpm-net$k-}"; do
    ip netns list 2>/dev/null | grep -q "^$ns\( \|$\)" && taken+=("$ns")
  done
  if ((${#taken[@]})); then
    local old
    old=$(cat "$st/owner" 2>/dev/null || true)
    if [[ -n $old ]] && ! kill -0 "$old" 2>/dev/null; then
      _netns_err "lab $k of the ended process $old is still there: removing it first"
      netns_down "$k" >/dev/null
    else
      _netns_err "namespace ${taken[*]} in use${old:+ (by process $old)}; labs/netns.sh down $k removes lab $k"
      return 1
    fi
  fi
  rm -rf "$st"
  mkdir -p "$st" || { _netns_err "cannot make $st"; return 1; }
  [[ -z $owner ]] || echo "$owner" >"$st/owner"
  printf '%s\n' "$plan" >"$st/plan"
  if ! err=$(_netns_make "$k" "$st" 2>&1); then
    _netns_err "$err"
    netns_down "$k" >/dev/null
    return 1
  fi
  printf '%s\n' "$err"
}

# _netns_make K STATE: the namespaces, links, routes and dnsmasqs of STATE/plan; each step
# is recorded in STATE (namespaces, *.pid) so that netns_down removes exactly what was made.
_netns_make()
{
  local k=$1 st=$2 r="cpm-net$1-r" n m label domain core udp tcp name ns d out
  local -a dns=()
  _netns_add "$r" "$st" || return 1
  ip netns exec "$r" sysctl -qw net.ipv4.ip_forward=1 || return 1
  # The router counts the IP packets it forwards from and to each network (nftables: a
  # link's own statistics would count ARP too).
  awk '$1 == "net" { l[++n] = $3 }
    END {
      print "table ip lab {"
      for (i = 1; i <= n; i++) printf "  counter from_%s {}\n  counter to_%s {}\n", l[i], l[i]
      print "  chain forward {\n    type filter hook forward priority 0; policy accept;"
      for (i = 1; i <= n; i++)
        printf "    iifname \"net-%s\" counter name \"from_%s\"\n    oifname \"net-%s\" counter name \"to_%s\"\n", l[i], l[i], l[i], l[i]
      print "  }\n}"
    }' "$st/plan" >"$st/router.nft"
  ip netns exec "$r" nft -f "$st/router.nft" || return 1
  while read -r _ n label domain core udp tcp; do
    ns="cpm-net$k-$label"
    _netns_add "$ns" "$st" || return 1
    ip -n "$r" link add "net-$label" type veth peer name eth0 netns "$ns" || return 1
    ip -n "$r" addr add "10.$k.$n.254/24" dev "net-$label" || return 1
    ip -n "$r" link set "net-$label" up || return 1
    # The nodes' addresses, lowest first: the first is the source of the connections a
    # program opens without binding (TCP), as on a host whose main address is the core's.
    while read -r m; do
      ip -n "$ns" addr add "10.$k.$n.$m/24" dev eth0 || return 1
    done < <(awk -v n="$n" '$1 == "node" && $2 == n { print $3 }' "$st/plan" | sort -nu)
    ip -n "$ns" addr add "10.$k.$n.53/24" dev eth0 || return 1
    ip -n "$ns" link set eth0 up || return 1
    ip -n "$ns" route add default via "10.$k.$n.254" || return 1
    [[ $domain == - ]] || dns+=("$domain:10.$k.$n.53")
  done < <(grep '^net ' "$st/plan")
  # One dnsmasq per network with a domain: its zone, and the others' servers for theirs.
  while read -r _ n label domain core udp tcp; do
    [[ $domain != - ]] || continue
    ns="cpm-net$k-$label"
    {
      printf 'port=53\nlisten-address=10.%s.%s.53\nbind-interfaces\nno-resolv\nno-hosts\n' "$k" "$n"
      printf 'user=root\npid-file=%s/dns-%s.pid\nlog-queries\nlog-facility=%s/dns-%s.log\n' \
        "$st" "$label" "$st" "$label"
      printf 'local=/%s/\ncache-size=0\n' "$domain" # no cache: each query shows where it goes
      while read -r _ _ m name _; do
        printf 'host-record=%s.%s,10.%s.%s.%s\n' "${name,,}" "$domain" "$k" "$n" "$m"
      done < <(awk -v n="$n" '$1 == "node" && $2 == n' "$st/plan")
      if [[ $core != - ]]; then
        [[ $udp == - ]] || printf 'srv-host=_sip._udp.%s,%s.%s,%s,0,10\n' "$domain" "${core,,}" "$domain" "$udp"
        [[ $tcp == - ]] || printf 'srv-host=_sip._tcp.%s,%s.%s,%s,0,10\n' "$domain" "${core,,}" "$domain" "$tcp"
        [[ $udp == - ]] || printf 'naptr-record=%s,10,10,S,SIP+D2U,,_sip._udp.%s\n' "$domain" "$domain"
        [[ $tcp == - ]] || printf 'naptr-record=%s,20,10,S,SIP+D2T,,_sip._tcp.%s\n' "$domain" "$domain"
      fi
      for d in "${dns[@]}"; do
        # Forwarded from its own address (not the host's first, a node's).
        [[ ${d%%:*} == "$domain" ]] || printf 'server=/%s/%s@10.%s.%s.53\n' "${d%%:*}" "${d#*:}" "$k" "$n"
      done
    } >"$st/dns-$label.conf"
    # dnsmasq returns once it serves (or failed): its PID file is there then.
    out=$(ip netns exec "$ns" dnsmasq --conf-file="$st/dns-$label.conf" 2>&1) || {
      echo "dnsmasq in $ns: $out"
      return 1
    }
    [[ -s $st/dns-$label.pid ]] || { echo "dnsmasq in $ns wrote no PID file"; return 1; }
  done < <(grep '^net ' "$st/plan")
  # Every server answers for every zone (its own, the others' through their servers).
  local -a q=()
  while read -r _ _ _ domain core _; do
    [[ $domain != - ]] || continue
    q+=(NAPTR "$domain" SRV "_sip._udp.$domain" SRV "_sip._tcp.$domain")
    [[ $core == - ]] || q+=(A "${core,,}.$domain")
  done < <(grep '^net ' "$st/plan")
  while read -r _ n label domain _; do
    [[ $domain == - ]] || _netns_dns_query "cpm-net$k-$label" "10.$k.$n.53" "${q[@]}" || return 1
  done < <(grep '^net ' "$st/plan")
  _netns_describe "$k" "$st"
}

# _netns_add NS STATE: ip netns add NS (an error when it exists) and record it.
_netns_add()
{
  local err
  err=$(ip netns add "$1" 2>&1) || { echo "cannot create namespace $1: $err"; return 1; }
  echo "$1" >>"$2/namespaces"
  # IPv4 only: no IPv6 router solicitations in the router's packet counts.
  ip netns exec "$1" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 \
    net.ipv6.conf.default.disable_ipv6=1 >/dev/null 2>&1 || true
  ip -n "$1" link set lo up
}

# _netns_describe K STATE: the address plan, one line per network.
_netns_describe()
{
  local k=$1 st=$2 n label domain core hosts
  echo "lab $k: router cpm-net$k-r (forwarding), state in $st"
  while read -r _ n label domain core _; do
    hosts=$(awk -v n="$n" -v k="$k" '$1 == "node" && $2 == n { printf " %s=10.%s.%s.%s", $4, k, n, $3 }' "$st/plan")
    printf '  cpm-net%s-%s: 10.%s.%s.0/24 via 10.%s.%s.254' "$k" "$label" "$k" "$n" "$k" "$n"
    [[ $domain == - ]] || printf ', %s served by dnsmasq 10.%s.%s.53' "$domain" "$k" "$n"
    printf ';%s\n' "$hosts"
  done < <(grep '^net ' "$st/plan")
}

# _netns_alive PID: running (a zombie that nobody reaped yet is not).
_netns_alive()
{
  local state
  state=$(awk '{print $3}' "/proc/$1/stat" 2>/dev/null) || return 1
  [[ -n $state && $state != Z && $state != X ]]
}

# netns_down K: stop the dnsmasqs lab K started (by their PID files, only when the PID is
# still a dnsmasq), then whatever else still runs in its namespaces (ip netns pids), delete
# the namespaces, remove its state; says what it removed.
netns_down()
{
  local k=$1 st pidf pid pids ns i alive gone=()
  st=$(_netns_state "$k")
  for pidf in "$st"/dns-*.pid; do
    [[ -s $pidf ]] || continue
    pid=$(cat "$pidf")
    [[ $pid =~ ^[0-9]+$ ]] || continue
    tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -qF -- "--conf-file=$st/" || continue
    kill -TERM "$pid" 2>/dev/null && gone+=("dnsmasq $pid")
    for ((i = 0; i < 50; i++)); do
      _netns_alive "$pid" || break
      sleep 0.1 # bounded wait for its exit
    done
  done
  if [[ -r $st/namespaces ]]; then
    # What still runs in them (nodes started by hand, or by a lab that was killed): TERM,
    # a bounded wait, then KILL.
    pids=$(while read -r ns; do ip netns pids "$ns" 2>/dev/null; done <"$st/namespaces")
    if [[ -n $pids ]]; then
      for pid in $pids; do kill -TERM "$pid" 2>/dev/null && gone+=("process $pid"); done
      for ((i = 0; i < 50; i++)); do
        alive=0
        for pid in $pids; do _netns_alive "$pid" && alive=1; done
        ((alive)) || break
        sleep 0.1 # bounded wait for their exit
      done
      for pid in $pids; do kill -KILL "$pid" 2>/dev/null || true; done
    fi
    while read -r ns; do
      ip netns delete "$ns" 2>/dev/null && gone+=("$ns")
    done <"$st/namespaces"
  fi
  rm -rf "$st"
  echo "lab $k down: removed ${gone[*]:-nothing}"
}

# netns_sweep: take down every lab whose owner (a lab run's shell) is gone: one killed with
# SIGKILL leaves its namespaces and dnsmasqs behind.
netns_sweep()
{
  local owner st
  for owner in "${TMPDIR:-/tmp}"/cpm-netns-*/owner; do
    [[ -s $owner ]] || continue
    st=${owner%/owner}
    kill -0 "$(cat "$owner")" 2>/dev/null || netns_down "${st##*/cpm-netns-}" >&2
  done
}

# netns_status K: lab K's namespaces, addresses, router counters and dnsmasqs; 1 when it
# has none.
netns_status()
{
  local k=$1 st ns pidf pid found=1
  st=$(_netns_state "$k")
  while read -r ns _; do
    [[ $ns == cpm-net$k-* ]] || continue
    found=0
    echo "$ns:"
    ip -n "$ns" -br addr show | sed 's/^/  /'
    ip -n "$ns" route show | sed 's/^/  route /'
  done < <(ip netns list 2>/dev/null | sort)
  ((found == 0)) || { echo "lab $k: no namespaces"; return 1; }
  netns_counts "$k" | sed 's/^/  packets /'
  for pidf in "$st"/dns-*.pid; do
    [[ -s $pidf ]] || continue
    pid=$(cat "$pidf")
    if _netns_alive "$pid"; then
      echo "  dnsmasq $pid ($(basename "$pidf" .pid)) serving"
    else
      echo "  dnsmasq $pid ($(basename "$pidf" .pid)) gone"
    fi
  done
}

# netns_counts K: per link of the router, "LINK FROM TO": the IP packets it forwarded so
# far from that network and to it.
netns_counts()
{
  ip netns exec "cpm-net$1-r" nft list counters table ip lab 2>/dev/null | awk '
    $1 == "counter" { split($2, w, "_"); dir = w[1]; net = w[2]; if (!(net in seen)) { seen[net] = 1; order[++n] = net } }
    $1 == "packets" { c[dir, net] = $2 }
    END { for (i = 1; i <= n; i++) print "net-" order[i], c["from", order[i]] + 0, c["to", order[i]] + 0 }'
}

# --- the labs' side (labs/*.sh --netns), after tests/lib/flow.sh -------------------------

# netns_lab CONFIG NAME: lab_config in namespaces. Claims a loopback prefix 127.K. (for
# its lock only), brings lab K up from CONFIG (netns_up, owned by this shell), writes
# $t/NAME rewritten onto 10.K. (sets $lab, $lab_prefix "10.K." and $netns_k), and puts on
# PATH a wrapper per program that runs it in the namespace of its --node (`ip netns exec`;
# the wrapper execs, so the PID the harness records is the program's). Lab K goes down at
# exit, after the harness stopped the programs. Exits 1 when no namespace can be made.
# It uses $t, fail and claim_prefix of the harness:
# shellcheck disable=SC2154
netns_lab()
{
  local src=$1 name=${2:-$(basename "$1")} prog real bin out
  netns_sweep
  claim_prefix
  netns_k=${lab_prefix#127.}
  netns_k=${netns_k%.}
  out=$(netns_up "$netns_k" "$src" "$$") || exit 1
  trap _netns_lab_exit EXIT
  printf '%s\n' "$out"
  netns_counts "$netns_k" >"$t/netns-counts" # what the router forwarded before the lab
  wc -l "$(_netns_state "$netns_k")"/dns-*.log >"$t/netns-dns-lines" # the DNS checks' queries
  lab="$t/$name"
  netns_config "$netns_k" "$src" >"$lab" || fail "netns_lab: cannot write $lab"
  echo "lab $netns_k: proxies and peers by name, resolved by each network's dnsmasq"
  lab_prefix="10.$netns_k."
  bin="$t/netns-bin"
  mkdir -p "$bin"
  awk -v k="$netns_k" 'NR == FNR && $1 == "net" { l[$2] = $3 }
    NR != FNR && $1 == "node" { print $4, "cpm-net" k "-" l[$2] }' \
    "$(_netns_state "$netns_k")/plan" "$(_netns_state "$netns_k")/plan" >"$bin/nodes"
  for real in "$CPM_BIN"/cpm-*; do
    prog=$(basename "$real")
    [[ $prog != cpm-ladder && -x $real ]] || continue
    cat >"$bin/$prog" <<EOF
#!/bin/bash
# $prog in the namespace of its --node (labs/netns.sh, lab $netns_k)
node="" prev=""
for a in "\$@"; do
  [[ \$prev == --node ]] && node=\$a
  [[ \$a == --node=* ]] && node=\${a#--node=}
  prev=\$a
done
[[ -n \$node ]] || exec "$real" "\$@"
ns=\$(awk -v n="\$node" '\$1 == n { print \$2 }' "$bin/nodes")
[[ -n \$ns ]] || { echo "$prog: node \$node is in no namespace of lab $netns_k" >&2; exit 2; }
exec ip netns exec "\$ns" "$real" "\$@"
EOF
    chmod +x "$bin/$prog"
  done
  PATH="$bin:$PATH"
}

# _netns_lab_exit: the harness's exit with lab K's namespaces removed once its programs
# are stopped. It uses the harness's records of what it started (tests/lib/proc.sh):
# shellcheck disable=SC2154
_netns_lab_exit()
{
  local rc=$? n
  for n in "${_flow_names[@]}"; do
    [[ -n ${_flow_pid[$n]:-} ]] && _flow_kill "$n"
  done
  cp "$(_netns_state "$netns_k")"/dns-*.log "$t/" 2>/dev/null # kept with the traces (KEEP=1)
  netns_down "$netns_k" >/dev/null
  (exit "$rc")
  _flow_exit
}

# netns_routing: what crossed the networks since the lab started (after the DNS checks):
# one line with the IP packets lab K's router forwarded from and to each network ("routed by
# cpm-net7-r (IP packets from/to each network): net-a 8/9, ..."), then per dnsmasq the queries it was asked and where it forwarded
# them ("dns a.example (10.7.1.53): NAPTR b.example from 10.7.1.1 -> 10.7.2.53, ...").
netns_routing()
{
  local log st
  st=$(_netns_state "$netns_k")
  printf 'routed by cpm-net%s-r (IP packets from/to each network):' "$netns_k"
  netns_counts "$netns_k" | awk -v base="$t/netns-counts" '
    BEGIN { while ((getline l < base) > 0) { split(l, f); rx[f[1]] = f[2]; tx[f[1]] = f[3] } }
    { printf "%s %s %d/%d", n++ ? "," : "", $1, $2 - rx[$1], $3 - tx[$1] }'
  printf '\n'
  for log in "$st"/dns-*.log; do
    [[ -s $log ]] || continue
    awk -v base="$t/netns-dns-lines" -v lf="$log" -v conf="${log%.log}.conf" '
      BEGIN {
        while ((getline l < base) > 0) { split(l, f, " "); if (f[2] == lf) skip = f[1] }
        while ((getline l < conf) > 0) {
          if (l ~ /^listen-address=/) server = substr(l, 16)
          if (l ~ /^local=/) { zone = substr(l, 8); sub(/\/$/, "", zone) }
        }
      }
      FNR <= skip { next }
      match($0, /query\[[A-Z]+\] [^ ]+ from [0-9.]+/) {
        q = substr($0, RSTART + 6, RLENGTH - 6); sub(/\]/, "", q)
        split(q, w, " "); last = w[1] " " w[2] " from " w[4]
        if (!(last in seen)) { seen[last] = ++n; order[n] = last }
        next
      }
      / forwarded / { split($0, w, " forwarded "); split(w[2], v, " to "); fwd[last] = v[2] }
      END {
        if (!n) exit
        printf "dns %s (%s):", zone, server
        for (i = 1; i <= n; i++) {
          to = (order[i] in fwd) ? " -> " fwd[order[i]] : ""
          printf "%s %s%s", (i > 1) ? "," : "", order[i], to
        }
        printf "\n"
      }' "$log"
  done
}

if [[ ${BASH_SOURCE[0]} == "$0" ]]; then
  set -u
  case "${1:-}:$#" in
  up:2 | up:3) netns_up "$2" "${3:-}" ;;
  down:2) netns_down "$2" ;;
  status:2) netns_status "$2" ;;
  config:2 | config:3 | config:4)
    netns_config "$2" "${3:-$(cd "$(dirname "$0")/.." && pwd)/examples/lab-icsi.toml}" "${4:-}"
    ;;
  *)
    echo "usage: labs/netns.sh up K [CONFIG] | down K | status K | config K [CONFIG [--ips]]" >&2
    exit 2
    ;;
  esac
fi
