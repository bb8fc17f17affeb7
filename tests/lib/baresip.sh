# shellcheck shell=bash
# baresip (Debian baresip-core) as a headless peer of the interop tests (sourced after
# flow.sh): its own config directory, no audio or video modules, the stdio UI reading
# commands from a fifo that the test holds open on fd 7 (one baresip at a time), its stdout
# and stderr in one log. INTEROP.md "baresip" explains the choices.
# It uses $t and the harness's adopt, wait_for, expect_exit:
# shellcheck disable=SC2154

# baresip_config DIR ADDR AOR OUTBOUND CONTACT [PASSWORD]: a config directory for AOR
# listening on ADDR:5060 (UDP and TCP), registering through OUTBOUND (a SIP URI, the Route
# of every request: no DNS lookup), with PASSWORD for a digest challenge, and CONTACT (a
# name-addr) as its current contact, the target of /message.
baresip_config()
{
  mkdir -p "$1" || fail "baresip_config: mkdir $1"
  # Only the modules messages need: stdio (commands on stdin), account (the accounts
  # file), menu (the commands, and the MESSAGE handler: without it baresip answers 501),
  # contact (the peer of /message). Without this file baresip writes a template loading
  # ALSA, STUN, TURN and ICE.
  cat >"$1/config" <<EOF || fail "baresip_config: cannot write $1/config"
poll_method epoll
sip_listen $2:5060
module_path /usr/lib/baresip/modules
module stdio.so
module_app account.so
module_app menu.so
module_app contact.so
EOF
  printf '<%s>;regint=600;outbound="%s"%s\n' "$3" "$4" "${6:+;auth_pass=$6}" >"$1/accounts"
  printf '%s\n' "$5" >"$1/contacts"
}

# baresip_audio DIR FREQ [CODEC]: let the baresip of DIR take calls with audio in CODEC
# alone (a baresip module: g711, the default, or opus), answer them at once
# (answermode=auto), say a FREQ Hz tone (the ausine module, which makes only 48 kHz stereo:
# baresip resamples it to the codec's rate) and record what it hears in DIR/dump-*-dec.wav
# (and what it says in dump-*-enc.wav: the sndfile module). Its media address is its SIP
# address (net_interface), not the first interface's. Call after baresip_config, before
# start_baresip.
baresip_audio()
{
  local addr codec=${3:-g711}
  [[ -f /usr/lib/baresip/modules/$codec.so ]] || fail "baresip_audio: no baresip module $codec"
  addr=$(sed -n 's/^sip_listen \(.*\):5060$/\1/p' "$1/config")
  [[ -n $addr ]] || fail "baresip_audio: no sip_listen in $1/config"
  cat >>"$1/config" <<EOF || fail "baresip_audio: cannot write $1/config"
net_interface $addr
module $codec.so
module ausine.so
module aufile.so
module sndfile.so
audio_source ausine,$2
audio_player aufile,/dev/null
audio_alert aufile,/dev/null
ausrc_srate 48000
ausrc_channels 2
snd_path $1
EOF
  sed -i 's/^\(<[^>]*>\)/\1;answermode=auto/' "$1/accounts" || fail "baresip_audio: $1/accounts"
}

# baresip_as_bob DIR [FREQ [CODEC]]: start baresip (recorded as baresip, its config in DIR)
# as bob of the group network (start_group_network): sip:bob@b.example on ${lab_prefix}2.10,
# registering through coreB, its contact the group sip:friends@x.example (the peer of
# /message). With FREQ it takes calls with audio in CODEC saying FREQ Hz (baresip_audio).
baresip_as_bob()
{
  baresip_config "$1" "${lab_prefix}2.10" sip:bob@b.example \
    "sip:${lab_prefix}2.1:5060" '"Friends" <sip:friends@x.example>'
  [[ -z ${2:-} ]] || baresip_audio "$1" "$2" "${3:-}"
  start_baresip baresip "$1"
}

# baresip_heard DIR: the WAV file of what the baresip of DIR heard in its last call.
baresip_heard() { find "$1" -name 'dump-*-dec.wav' | sort | tail -n 1; }

# start_baresip NAME DIR: start baresip -f DIR (log in DIR/baresip.log), recorded as NAME,
# and wait (at most 20 s) until its account is registered.
start_baresip()
{
  mkfifo "$2/baresip.in" || fail "start_baresip: mkfifo $2/baresip.in"
  # Read-write: opening never blocks, and baresip sees no end of input until it quits.
  exec 7<>"$2/baresip.in"
  baresip -f "$2" <"$2/baresip.in" >"$2/baresip.log" 2>&1 5>&- 6>&- 7>&- 8>&- 9>&- &
  adopt "$1" $! "$2/baresip.log"
  wait_for "$2/baresip.log" 'All 1 useragent registered successfully' 20
}

# baresip_command TEXT: type TEXT (a key, or /command and its newline) into baresip.
baresip_command() { printf '%s' "$1" >&7; }

# baresip_got DIR FROM TEXT: baresip printed a MESSAGE from FROM with TEXT (as `FROM: "TEXT"`)
# within 10 s.
baresip_got() { wait_for "$1/baresip.log" "$2: \"$3\"" 10; }

# stop_baresip NAME: quit (baresip unregisters first); it must exit 0 within 20 s.
stop_baresip()
{
  baresip_command q
  expect_exit "$1" 0 "$1's exit status"
  exec 7>&-
}
