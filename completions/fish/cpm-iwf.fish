# fish completion for cpm-iwf
function __cpm_iwf_nodes
    set -l tokens (commandline -opc)
    for idx in (seq (count $tokens))
        if test "$tokens[$idx]" = --config; and test $idx -lt (count $tokens)
            cpm-iwf --config $tokens[(math $idx + 1)] --list-nodes 2>/dev/null
            return
        end
    end
end
complete -c cpm-iwf -l config -r -F -d 'Read settings from this TOML file'
complete -c cpm-iwf -l node -x -a '(__cpm_iwf_nodes)' -d 'Take this node settings from the config'
complete -c cpm-iwf -l list-nodes -d 'List the node names of --config'
complete -c cpm-iwf -l listen -x -d 'Listen address, udp:HOST:PORT or tcp:HOST:PORT'
complete -c cpm-iwf -l domain -x -d 'A domain this IWF serves'
complete -c cpm-iwf -l proxy -x -d 'SIP/IP Core URI'
complete -c cpm-iwf -l json -d 'Print events as JSON Lines'
complete -c cpm-iwf -l pipe -d 'The SMS side is stdin and stdout, as JSON lines'
complete -c cpm-iwf -l smsc -x -d 'The SMSC to bind to, HOST:PORT'
complete -c cpm-iwf -l system-id -x -d 'SMPP system_id of the bind'
complete -c cpm-iwf -l password -x -d 'SMPP password of the bind'
complete -c cpm-iwf -l db -r -F -d 'Keep the store in this SQLite file'
complete -c cpm-iwf -l timeout -x -d 'Give up on a MESSAGE after this many ms'
complete -c cpm-iwf -l reassembly-timeout -x -d 'Deliver an incomplete SMS after this many ms'
complete -c cpm-iwf -l trace -r -F -d 'Append messages to this JSON Lines file'
complete -c cpm-iwf -l pcap -r -F -d 'Append messages as packets to this pcap file'
complete -c cpm-iwf -l hep -x -a 'udp:127.0.0.1:9060' -d 'Send SIP messages as HEP v3 to this collector'
complete -c cpm-iwf -l hep-id -x -d 'HEP capture agent id'
complete -c cpm-iwf -l dns -x -d 'Resolve names (RFC 3263) on this DNS server HOST:PORT'
complete -c cpm-iwf -l tls-cert -r -F -d 'PEM certificate chain (and key) for SIP over TLS'
complete -c cpm-iwf -l tls-key -r -F -d 'PEM private key of --tls-cert'
complete -c cpm-iwf -l tls-ca -r -F -d 'PEM file of the CAs to trust'
complete -c cpm-iwf -l no-tls-verify -d 'Do not verify the TLS peers certificates'
complete -c cpm-iwf -l name -x -d 'Node name written in the trace'
complete -c cpm-iwf -l ready-fd -x -d 'Write bound addresses to this fd once ready'
complete -c cpm-iwf -s v -l verbose -d 'More diagnostics'
complete -c cpm-iwf -s q -l quiet -d 'Fewer diagnostics'
complete -c cpm-iwf -l version -d 'Print the version'
complete -c cpm-iwf -s h -l help -d 'Print the options'
