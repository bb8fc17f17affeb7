# shellcheck shell=bash
# The loss lab (sourced by tests/loss/*.sh and by labs/*.sh --loss): runs the calling script
# again inside a network namespace of its own whose loopback drops PCT % of the UDP
# datagrams (nftables; these machines have no netem), and deletes the namespace at the end.
#
#   . "$(dirname "$0")/../lib/netns.sh"
#   netns_enter 20 "$0" "$@"   # the rest of the script runs in the namespace, at 20 % loss
#   . "$(dirname "$0")/../lib/flow.sh"
#   ...
#   netns_report                # "loss lab: dropped D of N UDP datagrams (P %)"
#
# netns_enter returns only inside the namespace. Outside, it creates the namespace
# cpm-NAME-PID (NAME: the script's name), brings its lo up, adds the table inet lossy, runs
# `ip netns exec NS bash SCRIPT ARGS...`, deletes the namespace when that ends (also on
# failure or a signal) and exits with its status. Namespaces of this pattern whose PID is
# gone (a run killed with SIGKILL) are deleted first.
# When no namespace can be made (not root, no ip or nft, no permission) it exits 77 with
# the reason on stderr, also under CI=true: the lab needs a privilege CI may not have.
# Every address of a lab lives on the namespace's own lo, so claim_prefix's locks in /tmp
# still keep parallel tests apart and nothing outside sees the lab's traffic.

# netns_loss: the PCT of the namespace we are in ("" outside one).
netns_loss() { printf '%s\n' "${CPM_NETNS_LOSS:-}"; }

# _netns_skip MSG: exit 77 with MSG (whatever CI says).
_netns_skip()
{
  printf 'SKIP: no loss lab: %s\n' "$*" >&2
  exit 77
}

# _netns_sweep: delete the namespaces cpm-*-PID whose PID is gone.
_netns_sweep()
{
  local ns pid
  while read -r ns _; do
    [[ $ns =~ ^cpm-.*-([0-9]+)$ ]] || continue
    pid=${BASH_REMATCH[1]}
    kill -0 "$pid" 2>/dev/null || ip netns delete "$ns" 2>/dev/null || true
  done < <(ip netns list 2>/dev/null)
}

# _netns_rules NS PCT: lo up, and the nftables table that counts UDP and drops PCT % of it.
_netns_rules()
{
  local ns=$1 pct=$2
  ip -n "$ns" link set lo up || return 1
  ip netns exec "$ns" nft -f - <<EOF || return 1
table inet lossy {
  chain input {
    type filter hook input priority 0;
    meta l4proto udp counter
    meta l4proto udp numgen random mod 100 < $pct counter drop
  }
}
EOF
}

# netns_enter PCT SCRIPT [ARG...]: see above. PCT is 0..100.
netns_enter()
{
  local pct=$1 script=$2 ns err rc=0
  shift 2
  if [[ ! $pct =~ ^[0-9]+$ ]] || ((pct > 100)); then
    printf 'netns_enter: loss must be a percentage 0..100, not "%s"\n' "$pct" >&2
    exit 2
  fi
  # Inside already: the namespace we were started in is the one we are in.
  if [[ -n ${CPM_NETNS:-} && $(ip netns identify $$ 2>/dev/null) == "$CPM_NETNS" ]]; then
    return 0
  fi
  ((EUID == 0)) || _netns_skip "creating a network namespace needs root (run as root, or sudo)"
  command -v ip >/dev/null 2>&1 || _netns_skip "ip is not installed (iproute2; scripts/deps.sh)"
  command -v nft >/dev/null 2>&1 || _netns_skip "nft is not installed (nftables; scripts/deps.sh)"
  _netns_sweep
  ns=$(basename "$script" .sh)
  ns="cpm-${ns//[^A-Za-z0-9_.-]/_}-$$"
  err=$(ip netns add "$ns" 2>&1) || _netns_skip "ip netns add $ns: $err"
  _netns_ns=$ns
  trap 'ip netns delete "$_netns_ns" 2>/dev/null' EXIT
  trap 'exit 130' INT
  trap 'exit 143' TERM
  err=$(_netns_rules "$ns" "$pct" 2>&1) || _netns_skip "nftables in $ns: $err"
  # In the background, so that a signal reaches the trap at once and goes on to the lab
  # (stdin stays the script's); `ip netns exec` becomes the script's bash.
  CPM_NETNS=$ns CPM_NETNS_LOSS=$pct ip netns exec "$ns" bash "$script" "$@" <&0 &
  _netns_child=$!
  trap 'kill -TERM "$_netns_child" 2>/dev/null; wait "$_netns_child"; exit 130' INT
  trap 'kill -TERM "$_netns_child" 2>/dev/null; wait "$_netns_child"; exit 143' TERM
  wait "$_netns_child" || rc=$?
  exit "$rc"
}

# netns_counts: "DROPPED TOTAL" UDP datagrams of the namespace we are in so far.
netns_counts()
{
  nft list table inet lossy 2>/dev/null |
    awk '/counter packets/ { for (i = 1; i < NF; i++) if ($i == "packets") n[++k] = $(i + 1) }
         END { printf "%d %d\n", n[2], n[1] }'
}

# netns_report: one line on stdout with the datagrams dropped so far.
netns_report()
{
  local dropped total
  read -r dropped total < <(netns_counts)
  printf 'loss lab: %s %% configured, dropped %d of %d UDP datagrams' \
    "$(netns_loss)" "$dropped" "$total"
  ((total == 0)) || printf ' (%d.%d %%)' $((dropped * 100 / total)) $((dropped * 1000 / total % 10))
  printf '\n'
}

# netns_drop_acks ADDR [MATCH...]: a rule of the namespace we are in that drops (and counts)
# the ACKs to ADDR:5060 over UDP (a datagram whose payload starts with "ACK ": @th,64,32,
# after the UDP header) that also meet MATCH (nft statements, e.g. `numgen inc mod 1000000
# '<' 2` for the first two, `quota name Q`); netns_dropped_acks counts them.
netns_drop_acks()
{
  local addr=$1
  shift
  nft add rule inet lossy input ip daddr "$addr" udp dport 5060 @th,64,32 0x41434b20 \
    "$@" counter drop comment '"cpm: ACKs dropped"' || fail "nft: cannot drop the ACKs to $addr"
}

# netns_dropped_acks: how many ACKs each rule of netns_drop_acks dropped so far, in the
# order they were added, on one line.
netns_dropped_acks()
{
  nft list table inet lossy | awk '/"cpm: ACKs dropped"/ { for (i = 1; i < NF; i++)
    if ($i == "packets") printf "%s%s", sep, $(i + 1); sep = " " } END { printf "\n" }'
}
