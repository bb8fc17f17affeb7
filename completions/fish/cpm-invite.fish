# fish completion for cpm-invite(1)
function __cpm_invite_nodes
    set -l tokens (commandline -opc)
    set -l i (contains -i -- --config $tokens)
    and test (count $tokens) -gt $i
    and $tokens[1] --config $tokens[(math $i + 1)] --list-nodes 2>/dev/null
end

complete -c cpm-invite -s h -l help -d 'Print help and exit'
complete -c cpm-invite -l config -r -F -d 'Read settings from this TOML file'
complete -c cpm-invite -l node -x -a '(__cpm_invite_nodes)' -d 'Take this node\'s settings'
complete -c cpm-invite -l list-nodes -d 'List the node names of --config'
complete -c cpm-invite -l listen -x -d 'Listen on udp:HOST:PORT or tcp:HOST:PORT'
complete -c cpm-invite -l proxy -x -d 'Outbound proxy URI'
complete -c cpm-invite -l from -x -d 'Own address of record'
complete -c cpm-invite -l json -d 'Write JSON Lines on stdout'
complete -c cpm-invite -l trace -r -F -d 'Append every SIP and MSRP message to FILE'
complete -c cpm-invite -l pcap -r -F -d 'Append messages as packets to this pcap file'
complete -c cpm-invite -l dns -x -d 'Resolve names (RFC 3263) on this DNS server HOST:PORT'
complete -c cpm-invite -l ready-fd -x -d 'Write bound addresses to this fd once ready'
complete -c cpm-invite -s v -l verbose -d 'More diagnostics'
complete -c cpm-invite -s q -l quiet -d 'Fewer diagnostics'
complete -c cpm-invite -l version -d 'Print the version and exit'
complete -c cpm-invite -l name -x -d 'Node name in traces'
complete -c cpm-invite -l answer -d 'Wait for invitations and answer them'
complete -c cpm-invite -l answer-after -x -d 'Ring this many seconds before answering'
complete -c cpm-invite -l decline -x -a '480 486 488 603' -d 'Decline with this status'
complete -c cpm-invite -l count -x -d 'Serve N sessions, then exit'
complete -c cpm-invite -l send -x -d 'Send TEXT once the session is up'
complete -c cpm-invite -l no-stdin -d 'Do not read stdin'
complete -c cpm-invite -l duration -x -d 'End the session after this many seconds'
complete -c cpm-invite -l timeout -x -d 'Seconds to wait for the answer'
complete -c cpm-invite -l no-service-indication -d 'Leave out the CPM enabler usage indication'
complete -c cpm-invite -l register -d 'Register --from with --proxy first'
complete -c cpm-invite -l password -x -d 'Digest password'
complete -c cpm-invite -l expires -x -d 'Registration lifetime in seconds'
complete -c cpm-invite -l audio-in -r -F -d 'WAV file of what we say (looped)'
complete -c cpm-invite -l audio-once -d 'Play --audio-in once, then silence'
complete -c cpm-invite -l audio-out -r -F -d 'Record what we hear into this WAV file'
complete -c cpm-invite -l add-audio-after -x -d 'Add audio this many seconds after the session is up'
complete -c cpm-invite -l audio -d 'Offer audio in the INVITE itself, beside the chat'
complete -c cpm-invite -l accept-media -x -a 'all message message,audio' -d 'Streams to take from an offer'
complete -c cpm-invite -l codec -x -a 'pcmu pcma opus' -d 'Preferred audio codec'
