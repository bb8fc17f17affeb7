# shellcheck shell=bash
# linphonec (Debian linphone-cli, liblinphone) as a headless, scripted peer of the interop
# tests: its own linphonerc under a home in $t, commands on a fifo, readiness and received
# messages read from its log and stdout. INTEROP.md ("linphonec") explains every setting.
# Sourced after flow.sh: uses $t, fail, adopt, wait_for, wait_exit.
# shellcheck disable=SC2154

declare -A _linphonec_fd=() # name -> the test's fd holding NAME's command fifo open

# start_linphonec NAME AOR ADDR CORE [CPIM]: start linphonec as NAME (stdout $t/NAME.out,
# log $t/NAME.log, home $t/NAME) with the address of record AOR (sip:user@domain, no port),
# listening on ADDR port 5060 (UDP and TCP), registered at CORE (host:port), which is also
# its outbound proxy; returns once the core has answered its REGISTER with 200. CPIM 1
# (default) wraps its messages and notifications in CPIM, 0 leaves liblinphone's default
# (text/plain messages that ask for no notification, bare message/imdn+xml notifications).
start_linphonec()
{
  local name=$1 aor=$2 addr=$3 core=$4 cpim=${5:-1} home="$t/$1"
  mkdir -p "$home/.local/share/linphone" || fail "start_linphonec: cannot create $home"
  # [sip] default_proxy: without it the `chat` command sends from sip:linphone@<host IP>.
  # reg_route: without it a request for another domain is sent where DNS says.
  # cpim_in_basic_chat_rooms_enabled is read from [proxy_default_values] only: in [proxy_0]
  # it is ignored, and then messages and notifications go out without CPIM.
  # Port 0 disables TLS (-1 would listen on a random port).
  cat >"$home/linphonerc" <<EOF || fail "start_linphonec: cannot write $home/linphonerc"
[sip]
bind_address=$addr
sip_port=5060
sip_tcp_port=5060
sip_tls_port=0
default_proxy=0
im_notif_policy=all
[proxy_default_values]
cpim_in_basic_chat_rooms_enabled=$cpim
[proxy_0]
reg_identity=$aor
reg_proxy=<sip:$core>
reg_route=<sip:$core;lr>
reg_expires=600
reg_sendregister=1
EOF
  local fifo="$home/commands" fd
  mkfifo "$fifo" || fail "start_linphonec: mkfifo $fifo"
  # Held open read-write by the test, so that linphonec never reads an end of input (its
  # readline loop would spin on it) and writes of commands never block.
  exec {fd}<>"$fifo"
  _linphonec_fd[$name]=$fd
  # PULSE_SERVER: liblinphone's sound card probe must not reach a desktop's PulseAudio.
  HOME=$home PULSE_SERVER="unix:$home/no-pulse" \
    linphonec -c "$home/linphonerc" -d 6 -l "$t/$name.log" <"$fifo" >"$t/$name.out" \
    2>"$t/$name.err" 5>&- 6>&- 7>&- 8>&- 9>&- &
  adopt "$name" $! "$t/$name.err"
  wait_for "$t/$name.log" 'to [LinphoneRegistrationOk]' 20
}

# linphonec_cmd NAME COMMAND...: give linphonec NAME one command line (as typed at its
# prompt: `chat sip:alice@a.example text`, `quit`).
linphonec_cmd()
{
  local name=$1
  shift
  [[ -n ${_linphonec_fd[$name]:-} ]] || fail "linphonec_cmd: $name was not started"
  printf '%s\n' "$*" >&"${_linphonec_fd[$name]}" || fail "linphonec_cmd: cannot write to $name"
}

# stop_linphonec NAME: `quit`, then linphonec must unregister and exit 0 by itself.
stop_linphonec()
{
  local rc=0
  linphonec_cmd "$1" quit
  wait_exit "$1" 20 || rc=$?
  ((rc == 0)) || fail "linphonec $1 exited with $rc after quit"
}
