# fish completion for cpm-send(1)
function __cpm_send_nodes
    set -l tokens (commandline -opc)
    set -l i (contains -i -- --config $tokens)
    and test (count $tokens) -gt $i
    and $tokens[1] --config $tokens[(math $i + 1)] --list-nodes 2>/dev/null
end

complete -c cpm-send -s h -l help -d 'Print help and exit'
complete -c cpm-send -l config -r -F -d 'Read settings from this TOML file'
complete -c cpm-send -l node -x -a '(__cpm_send_nodes)' -d 'Take this node\'s settings'
complete -c cpm-send -l list-nodes -d 'List the node names of --config'
complete -c cpm-send -l listen -x -d 'Listen on udp:HOST:PORT or tcp:HOST:PORT'
complete -c cpm-send -l proxy -x -d 'Outbound proxy URI'
complete -c cpm-send -l from -x -d 'Own address of record'
complete -c cpm-send -l json -d 'Write JSON Lines on stdout'
complete -c cpm-send -l trace -r -F -d 'Append every SIP message to FILE'
complete -c cpm-send -l pcap -r -F -d 'Append messages as packets to this pcap file'
complete -c cpm-send -l hep -x -a 'udp:127.0.0.1:9060' -d 'Send SIP messages as HEP v3 to this collector'
complete -c cpm-send -l hep-id -x -d 'HEP capture agent id'
complete -c cpm-send -l dns -x -d 'Resolve names (RFC 3263) on this DNS server HOST:PORT'
complete -c cpm-send -l ready-fd -x -d 'Write bound addresses to this fd once ready'
complete -c cpm-send -s v -l verbose -d 'More diagnostics'
complete -c cpm-send -s q -l quiet -d 'Fewer diagnostics'
complete -c cpm-send -l version -d 'Print the version and exit'
complete -c cpm-send -l name -x -d 'Node name in traces'
complete -c cpm-send -l file -r -F -d 'Send the content of this file'
complete -c cpm-send -l content-type -x -d 'Content type of the message'
complete -c cpm-send -l plain -d 'Send the text bare as text/plain, without CPIM'
complete -c cpm-send -l lines -d 'Send one message per stdin line'
complete -c cpm-send -l rate -x -d 'Messages per second with --lines'
complete -c cpm-send -l window -x -d 'At most N messages in flight with --rate'
complete -c cpm-send -l notify -x -a 'delivery display delivery,display' -d 'Request notifications'
complete -c cpm-send -l wait -d 'Wait for the requested notifications'
complete -c cpm-send -l recipients -x -d 'With --wait: notifications from N distinct recipients'
complete -c cpm-send -l timeout -x -d 'Seconds to wait for answers'
complete -c cpm-send -l header -r -d 'Add a header line to every MESSAGE (repeatable)'
complete -c cpm-send -l no-service-indication -d 'Leave out the CPM enabler usage indication'
complete -c cpm-send -l register -d 'Register --from with --proxy first'
complete -c cpm-send -l password -x -d 'Digest password'
complete -c cpm-send -l expires -x -d 'Registration lifetime in seconds'
complete -c cpm-send -l receive -d 'Receive messages and print them'
complete -c cpm-send -l count -x -d 'Stop after N messages'
complete -c cpm-send -l display -d 'Also send display notifications'
