# fish completion for cpm-core-route
function __cpm_core_route_nodes
    set -l tokens (commandline -opc)
    set -l i (contains -i -- --config $tokens)
    and cpm-core-route --config $tokens[(math $i + 1)] --list-nodes 2>/dev/null
end
complete -c cpm-core-route -l config -r -F -d 'Read settings from this TOML file'
complete -c cpm-core-route -l node -x -a '(__cpm_core_route_nodes)' -d 'Take this node settings from the config'
complete -c cpm-core-route -l list-nodes -d 'List the node names of --config'
complete -c cpm-core-route -l listen -x -d 'Listen address, udp:HOST:PORT or tcp:HOST:PORT'
complete -c cpm-core-route -l domain -x -d 'A domain this core serves'
complete -c cpm-core-route -l trace -r -F -d 'Append messages to this JSON Lines file'
complete -c cpm-core-route -l pcap -r -F -d 'Append messages as packets to this pcap file'
complete -c cpm-core-route -l hep -x -a 'udp:127.0.0.1:9060' -d 'Send SIP messages as HEP v3 to this collector'
complete -c cpm-core-route -l hep-id -x -d 'HEP capture agent id'
complete -c cpm-core-route -l dns -x -d 'Resolve names (RFC 3263) on this DNS server HOST:PORT'
complete -c cpm-core-route -l tls-cert -r -F -d 'PEM certificate chain (and key) for SIP over TLS'
complete -c cpm-core-route -l tls-key -r -F -d 'PEM private key of --tls-cert'
complete -c cpm-core-route -l tls-ca -r -F -d 'PEM file of the CAs to trust'
complete -c cpm-core-route -l no-tls-verify -d 'Do not verify the TLS peers certificates'
complete -c cpm-core-route -l dns-peers -d 'Route a domain no --peer names by its DNS records'
complete -c cpm-core-route -l ready-fd -x -d 'Write bound addresses to this fd once ready'
complete -c cpm-core-route -l peer -x -d 'Route a domain to a peer core, DOMAIN=URI'
complete -c cpm-core-route -l psi -x -d 'Route a public service identity, URI=ADDR'
complete -c cpm-core-route -l db -r -F -d 'Keep registrations in this SQLite file'
complete -c cpm-core-route -l auth -d 'Require digest authentication for REGISTER'
complete -c cpm-core-route -l realm -x -d 'Digest realm'
complete -c cpm-core-route -l timeout -x -d '408 after this many ms without a final answer'
complete -c cpm-core-route -l explain -r -F -d 'Print the routing decision for a request file'
complete -c cpm-core-route -l name -x -d 'Node name written in the trace'
complete -c cpm-core-route -s v -l verbose -d 'More diagnostics'
complete -c cpm-core-route -s q -l quiet -d 'Fewer diagnostics'
complete -c cpm-core-route -l version -d 'Print the version'
complete -c cpm-core-route -s h -l help -d 'Print the options'
