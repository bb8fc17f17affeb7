# fish completion for cpm-smsc
function __cpm_smsc_nodes
    set -l tokens (commandline -opc)
    set -l i (contains -i -- --config $tokens)
    and cpm-smsc --config $tokens[(math $i + 1)] --list-nodes 2>/dev/null
end
complete -c cpm-smsc -l config -r -F -d 'Read settings from this TOML file'
complete -c cpm-smsc -l node -x -a '(__cpm_smsc_nodes)' -d 'Take this node settings from the config'
complete -c cpm-smsc -l list-nodes -d 'List the node names of --config'
complete -c cpm-smsc -l listen -x -a 'tcp:127.0.0.1:2775 tcp:127.0.1.4:2775' -d 'Listen address, tcp:HOST:PORT'
complete -c cpm-smsc -l json -d 'Write JSON Lines on stdout'
complete -c cpm-smsc -l trace -r -F -d 'Append PDUs to this JSON Lines file'
complete -c cpm-smsc -l pcap -r -F -d 'Append messages as packets to this pcap file'
complete -c cpm-smsc -l hep -x -a 'udp:127.0.0.1:9060' -d 'Send SIP messages as HEP v3 to this collector'
complete -c cpm-smsc -l hep-id -x -d 'HEP capture agent id'
complete -c cpm-smsc -l ready-fd -x -d 'Write the bound address to this fd once ready'
complete -c cpm-smsc -l name -x -d 'Node name in traces and bind responses'
complete -c cpm-smsc -l system-id -x -d 'The system_id ESMEs must bind with'
complete -c cpm-smsc -l password -x -d 'The password ESMEs must bind with'
complete -c cpm-smsc -l receipt -x -a 'delivered failed expired rejected deleted delayed none' -d 'Receipt for every message'
complete -c cpm-smsc -l receipt-for -x -d 'Receipt for messages to one number, NUMBER=STATE'
complete -c cpm-smsc -l receipt-delay -x -d 'Send each final receipt after this many ms'
complete -c cpm-smsc -l submit-status -x -d 'Answer submit_sm to a number with a status, NUMBER=STATUS[*COUNT]'
complete -c cpm-smsc -l report -d 'SMS from stdin ask for a delivery acknowledgement'
complete -c cpm-smsc -l window -x -d 'deliver_sm PDUs outstanding per ESME'
complete -c cpm-smsc -s v -l verbose -d 'More diagnostics'
complete -c cpm-smsc -s q -l quiet -d 'Fewer diagnostics'
complete -c cpm-smsc -l version -d 'Print the version'
complete -c cpm-smsc -s h -l help -d 'Print the options'
