# fish completion for cpm-groupd
function __cpm_groupd_nodes
    set -l tokens (commandline -opc)
    for idx in (seq (count $tokens))
        if test "$tokens[$idx]" = --config; and test $idx -lt (count $tokens)
            cpm-groupd --config $tokens[(math $idx + 1)] --list-nodes 2>/dev/null
            return
        end
    end
end
complete -c cpm-groupd -l config -r -F -d 'Read settings from this TOML file'
complete -c cpm-groupd -l node -x -a '(__cpm_groupd_nodes)' -d 'Take this node settings from the config'
complete -c cpm-groupd -l list-nodes -d 'List the node names of --config'
complete -c cpm-groupd -l listen -x -d 'Listen address, udp:HOST:PORT or tcp:HOST:PORT'
complete -c cpm-groupd -l domain -x -d 'A domain this server serves'
complete -c cpm-groupd -l proxy -x -d 'SIP/IP Core URI'
complete -c cpm-groupd -l max-message-size -x -d 'Refuse larger bodies with 413'
complete -c cpm-groupd -l timeout -x -d '408 after this many ms without an answer'
complete -c cpm-groupd -l outbox -r -F -d 'Keep accepted group messages in this SQLite file'
complete -c cpm-groupd -l realtime-priority -x -d 'Run under SCHED_FIFO at this priority (1-99, 0 normal)'
complete -c cpm-groupd -l msrp-tls -d 'Offer the members of group sessions their chat over TLS'
complete -c cpm-groupd -l trace -r -F -d 'Append messages to this JSON Lines file'
complete -c cpm-groupd -l pcap -r -F -d 'Append messages as packets to this pcap file'
complete -c cpm-groupd -l hep -x -a 'udp:127.0.0.1:9060' -d 'Send SIP messages as HEP v3 to this collector'
complete -c cpm-groupd -l hep-id -x -d 'HEP capture agent id'
complete -c cpm-groupd -l dns -x -d 'Resolve names (RFC 3263) on this DNS server HOST:PORT'
complete -c cpm-groupd -l tls-cert -r -F -d 'PEM certificate chain (and key) for SIP over TLS'
complete -c cpm-groupd -l tls-key -r -F -d 'PEM private key of --tls-cert'
complete -c cpm-groupd -l tls-ca -r -F -d 'PEM file of the CAs to trust'
complete -c cpm-groupd -l no-tls-verify -d 'Do not verify the TLS peers certificates'
complete -c cpm-groupd -l name -x -d 'Node name written in the trace'
complete -c cpm-groupd -l ready-fd -x -d 'Write bound addresses to this fd once ready'
complete -c cpm-groupd -s v -l verbose -d 'More diagnostics'
complete -c cpm-groupd -s q -l quiet -d 'Fewer diagnostics'
complete -c cpm-groupd -l version -d 'Print the version'
complete -c cpm-groupd -s h -l help -d 'Print the options'
