complete -c exabgpcli -s i -l instance -d 'The instance (exabgp@NAME) to talk to; its socket is NAME.sock. A plain name, as the daemon\'s --instance (letters, digits, \'.\', \'-\', \'_\', \'@\')' -r
complete -c exabgpcli -s s -l socket -d 'The control socket path (wins over every other way of finding it)' -r -F
complete -c exabgpcli -l env-file -d 'The env file to read exabgp_api_* settings from (default: /etc/exabgp/NAME.env for --instance NAME, when it exists)' -r -F
complete -c exabgpcli -l root -d 'Install prefix searched after / (default: derived from this program\'s path)' -r -F
complete -c exabgpcli -l system-prefix -d 'The first search prefix, "/" (tests point it at a fake tree)' -r -F
complete -c exabgpcli -l timeout -d 'Seconds to wait for an answer (at most 86400)' -r
complete -c exabgpcli -l json -d 'Ask for JSON output (show, version)'
complete -c exabgpcli -l which -d 'Print which socket would be used and why, then exit'
complete -c exabgpcli -s h -l help -d 'Print help (see more with \'--help\')'
complete -c exabgpcli -s V -l version -d 'Print version'
