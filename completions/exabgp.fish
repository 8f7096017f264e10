# Print an optspec for argparse to handle cmd's options that are independent of any subcommand.
function __fish_exabgp_global_optspecs
    string join \n h/help V/version
end

function __fish_exabgp_needs_command
    # Figure out if the current invocation already has a command.
    set -l cmd (commandline -opc)
    set -e cmd[1]
    argparse -s (__fish_exabgp_global_optspecs) -- $cmd 2>/dev/null
    or return
    if set -q argv[1]
        # Also print the command, so this can be used to figure out what it is.
        echo $argv[1]
        return 1
    end
    return 0
end

function __fish_exabgp_using_subcommand
    set -l cmd (__fish_exabgp_needs_command)
    test -z "$cmd"
    and return 1
    contains -- $cmd[1] $argv
end

complete -c exabgp -n "__fish_exabgp_needs_command" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c exabgp -n "__fish_exabgp_needs_command" -s V -l version -d 'Print version'
complete -c exabgp -n "__fish_exabgp_needs_command" -f -a "server" -d 'Run the daemon in the foreground with this configuration file'
complete -c exabgp -n "__fish_exabgp_needs_command" -f -a "cli" -d 'Talk to a running daemon over its control socket (same as `exabgpcli`)'
complete -c exabgp -n "__fish_exabgp_needs_command" -f -a "env" -d 'Print every effective exabgp_* setting with where it came from, and the control socket path with why each earlier candidate was skipped'
complete -c exabgp -n "__fish_exabgp_needs_command" -f -a "validate" -d 'Check a configuration file (TOML, or ExaBGP\'s syntax): exit 0 with a summary, or 78 with file:line:col errors'
complete -c exabgp -n "__fish_exabgp_needs_command" -f -a "migrate" -d 'Print the TOML equivalent of an ExaBGP (classic) configuration file'
complete -c exabgp -n "__fish_exabgp_needs_command" -f -a "decode" -d 'Decode one BGP message given in hex (with or without its 16-byte marker)'
complete -c exabgp -n "__fish_exabgp_needs_command" -f -a "version" -d 'Print the version'
complete -c exabgp -n "__fish_exabgp_needs_command" -f -a "healthcheck" -d 'Announce service addresses while a check passes: the helper to run as a `[[process]]` (ExaBGP\'s healthcheck options; see docs/healthcheck.md)'
complete -c exabgp -n "__fish_exabgp_needs_command" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c exabgp -n "__fish_exabgp_using_subcommand server" -l log-level -d 'trace, debug, info, warning, error (overrides exabgp_log_level)' -r
complete -c exabgp -n "__fish_exabgp_using_subcommand server" -l instance -d 'Instance name (control socket name, log field)' -r
complete -c exabgp -n "__fish_exabgp_using_subcommand server" -l log -d 'Where logs go: auto (journald when stderr is the journal), stderr, journal' -r
complete -c exabgp -n "__fish_exabgp_using_subcommand server" -l env-file -d 'Read exabgp_* settings from this env file (exabgp@.service passes /etc/exabgp/NAME.env). A file that does not exist is skipped; one with an unknown or malformed setting exits 78. The environment and the command line win over it' -r -F
complete -c exabgp -n "__fish_exabgp_using_subcommand server" -s h -l help -d 'Print help'
complete -c exabgp -n "__fish_exabgp_using_subcommand env" -l instance -d 'Instance name, as given to `server --instance`' -r
complete -c exabgp -n "__fish_exabgp_using_subcommand env" -l env-file -d 'Also read this env file (as systemd\'s EnvironmentFile= would)' -r -F
complete -c exabgp -n "__fish_exabgp_using_subcommand env" -s h -l help -d 'Print help'
complete -c exabgp -n "__fish_exabgp_using_subcommand validate" -l env-file -d 'Also check this env file (exabgp_* settings, ExaBGP\'s INI form too): ignored ExaBGP settings are a warning on stderr, an unknown or malformed setting exits 78' -r -F
complete -c exabgp -n "__fish_exabgp_using_subcommand validate" -s h -l help -d 'Print help'
complete -c exabgp -n "__fish_exabgp_using_subcommand migrate" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c exabgp -n "__fish_exabgp_using_subcommand decode" -s h -l help -d 'Print help'
complete -c exabgp -n "__fish_exabgp_using_subcommand version" -s h -l help -d 'Print help'
complete -c exabgp -n "__fish_exabgp_using_subcommand healthcheck" -s n -l name -d 'Name of this healthchecker, shown in every log line' -r
complete -c exabgp -n "__fish_exabgp_using_subcommand healthcheck" -s F -l config -d 'Read options from FILE first: one long option a line, `interval = 10` or a bare `withdraw-on-down`, `#` starts a comment (ExaBGP\'s format). Options given on the command line win over the file' -r -F
complete -c exabgp -n "__fish_exabgp_using_subcommand healthcheck" -s p -l pid -d 'Write our PID to FILE (removed again on exit)' -r -F
complete -c exabgp -n "__fish_exabgp_using_subcommand healthcheck" -s i -l interval -d 'Seconds between two checks (fractions allowed). 0: announce once after the first check and exit, leaving the routes and addresses in place' -r
complete -c exabgp -n "__fish_exabgp_using_subcommand healthcheck" -s f -l fast-interval -d 'Seconds between two checks while the state is about to change (RISING or FALLING)' -r
complete -c exabgp -n "__fish_exabgp_using_subcommand healthcheck" -s t -l timeout -d 'Seconds a check may run; on overrun its whole process group is killed and the check counts as failed. 0: no limit' -r
complete -c exabgp -n "__fish_exabgp_using_subcommand healthcheck" -l rise -d 'Successful checks in a row before the service is UP (1: at once)' -r
complete -c exabgp -n "__fish_exabgp_using_subcommand healthcheck" -l fall -d 'Failed checks in a row before the service is DOWN (1: at once)' -r
complete -c exabgp -n "__fish_exabgp_using_subcommand healthcheck" -l disable -d 'While FILE exists the service is DISABLED (no check is run)' -r -F
complete -c exabgp -n "__fish_exabgp_using_subcommand healthcheck" -s c -l cmd -d 'The check, run with /bin/sh -c in its own process group; exit status 0 means healthy. Without it every check succeeds' -r
complete -c exabgp -n "__fish_exabgp_using_subcommand healthcheck" -s N -l next-hop -d 'Next hop of the routes (default: self)' -r
complete -c exabgp -n "__fish_exabgp_using_subcommand healthcheck" -l ip -d 'Address or network to announce (CIDR, e.g. 192.0.2.1/32); repeat for more. The first gets the metric of the state, each next one that plus --increase' -r
complete -c exabgp -n "__fish_exabgp_using_subcommand healthcheck" -l label -d 'Label of the addresses we add (`lo:LABEL`, IPv4 only; at most 12 characters)' -r
complete -c exabgp -n "__fish_exabgp_using_subcommand healthcheck" -l start-ip -d 'Index of the --ip that comes first (the list is rotated)' -r
complete -c exabgp -n "__fish_exabgp_using_subcommand healthcheck" -l up-metric -d 'MED of the first address while the service is UP' -r
complete -c exabgp -n "__fish_exabgp_using_subcommand healthcheck" -l down-metric -d 'MED of the first address while the service is DOWN' -r
complete -c exabgp -n "__fish_exabgp_using_subcommand healthcheck" -l disabled-metric -d 'MED of the first address while the service is DISABLED' -r
complete -c exabgp -n "__fish_exabgp_using_subcommand healthcheck" -l increase -d 'Added to the MED for each further address' -r
complete -c exabgp -n "__fish_exabgp_using_subcommand healthcheck" -l local-preference -d 'LOCAL_PREF of the routes (default: none sent)' -r
complete -c exabgp -n "__fish_exabgp_using_subcommand healthcheck" -l community -d 'Communities of the routes, space separated (`65000:1 no-export`)' -r
complete -c exabgp -n "__fish_exabgp_using_subcommand healthcheck" -l disabled-community -d 'Communities of the routes while DOWN or DISABLED (instead of --community)' -r
complete -c exabgp -n "__fish_exabgp_using_subcommand healthcheck" -l extended-community -d 'Extended communities of the routes (`target:65000:1`)' -r
complete -c exabgp -n "__fish_exabgp_using_subcommand healthcheck" -l large-community -d 'Large communities of the routes (`65000:1:2`)' -r
complete -c exabgp -n "__fish_exabgp_using_subcommand healthcheck" -l as-path -d 'AS_PATH of the routes, space separated AS numbers' -r
complete -c exabgp -n "__fish_exabgp_using_subcommand healthcheck" -l up-as-path -d 'AS_PATH while UP (instead of --as-path)' -r
complete -c exabgp -n "__fish_exabgp_using_subcommand healthcheck" -l down-as-path -d 'AS_PATH while DOWN (instead of --as-path)' -r
complete -c exabgp -n "__fish_exabgp_using_subcommand healthcheck" -l disabled-as-path -d 'AS_PATH while DISABLED (instead of --as-path)' -r
complete -c exabgp -n "__fish_exabgp_using_subcommand healthcheck" -l neighbor -d 'Send the routes to this neighbor only (`neighbor ADDR announce ...`); repeat for more. Default: every neighbor' -r
complete -c exabgp -n "__fish_exabgp_using_subcommand healthcheck" -l execute -d 'Run CMD (with /bin/sh -c, STATE=<new state> in its environment) on every state change; repeatable' -r
complete -c exabgp -n "__fish_exabgp_using_subcommand healthcheck" -l up-execute -d 'Run CMD when the service becomes UP (STATE=UP)' -r
complete -c exabgp -n "__fish_exabgp_using_subcommand healthcheck" -l down-execute -d 'Run CMD when the service becomes DOWN (STATE=DOWN)' -r
complete -c exabgp -n "__fish_exabgp_using_subcommand healthcheck" -l disabled-execute -d 'Run CMD when the service becomes DISABLED (STATE=DISABLED)' -r
complete -c exabgp -n "__fish_exabgp_using_subcommand healthcheck" -l syslog-facility -r
complete -c exabgp -n "__fish_exabgp_using_subcommand healthcheck" -l user -r
complete -c exabgp -n "__fish_exabgp_using_subcommand healthcheck" -l group -r
complete -c exabgp -n "__fish_exabgp_using_subcommand healthcheck" -l ip-ifname -r
complete -c exabgp -n "__fish_exabgp_using_subcommand healthcheck" -l path-id -r
complete -c exabgp -n "__fish_exabgp_using_subcommand healthcheck" -s d -l debug -d 'Log every check and every line sent, not only state changes'
complete -c exabgp -n "__fish_exabgp_using_subcommand healthcheck" -s a -l no-ack -d 'Accepted for ExaBGP 3.4/4.x setups with exabgp.api.ack=false: we never wait for the daemon\'s `done` (answers on stdin are read and logged when they are errors), so this changes nothing'
complete -c exabgp -n "__fish_exabgp_using_subcommand healthcheck" -l no-syslog -d 'Accepted: we never log to syslog. Logs go to stderr, which the daemon passes to its own log (the journal under systemd)'
complete -c exabgp -n "__fish_exabgp_using_subcommand healthcheck" -l ip-setup -d 'Add the --ip addresses to `lo` (through netlink) when they are missing: the default. Needs CAP_NET_ADMIN (see docs/healthcheck.md)'
complete -c exabgp -n "__fish_exabgp_using_subcommand healthcheck" -l no-ip-setup -d 'Do not touch the addresses of `lo`'
complete -c exabgp -n "__fish_exabgp_using_subcommand healthcheck" -l dynamic-ip-setup -d 'Remove the addresses we added from `lo` when the service goes DOWN or DISABLED, and add them again when it is UP'
complete -c exabgp -n "__fish_exabgp_using_subcommand healthcheck" -l withdraw-on-down -d 'Withdraw the routes while DOWN instead of announcing them with --down-metric'
complete -c exabgp -n "__fish_exabgp_using_subcommand healthcheck" -l debounce -d 'Print the routes only when the state changes (default: after every check, so a peer that came back gets them again)'
complete -c exabgp -n "__fish_exabgp_using_subcommand healthcheck" -s s -l silent
complete -c exabgp -n "__fish_exabgp_using_subcommand healthcheck" -l sudo
complete -c exabgp -n "__fish_exabgp_using_subcommand healthcheck" -l label-exact-match
complete -c exabgp -n "__fish_exabgp_using_subcommand healthcheck" -l deaggregate-networks
complete -c exabgp -n "__fish_exabgp_using_subcommand healthcheck" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c exabgp -n "__fish_exabgp_using_subcommand help; and not __fish_seen_subcommand_from server cli env validate migrate decode version healthcheck help" -f -a "server" -d 'Run the daemon in the foreground with this configuration file'
complete -c exabgp -n "__fish_exabgp_using_subcommand help; and not __fish_seen_subcommand_from server cli env validate migrate decode version healthcheck help" -f -a "cli" -d 'Talk to a running daemon over its control socket (same as `exabgpcli`)'
complete -c exabgp -n "__fish_exabgp_using_subcommand help; and not __fish_seen_subcommand_from server cli env validate migrate decode version healthcheck help" -f -a "env" -d 'Print every effective exabgp_* setting with where it came from, and the control socket path with why each earlier candidate was skipped'
complete -c exabgp -n "__fish_exabgp_using_subcommand help; and not __fish_seen_subcommand_from server cli env validate migrate decode version healthcheck help" -f -a "validate" -d 'Check a configuration file (TOML, or ExaBGP\'s syntax): exit 0 with a summary, or 78 with file:line:col errors'
complete -c exabgp -n "__fish_exabgp_using_subcommand help; and not __fish_seen_subcommand_from server cli env validate migrate decode version healthcheck help" -f -a "migrate" -d 'Print the TOML equivalent of an ExaBGP (classic) configuration file'
complete -c exabgp -n "__fish_exabgp_using_subcommand help; and not __fish_seen_subcommand_from server cli env validate migrate decode version healthcheck help" -f -a "decode" -d 'Decode one BGP message given in hex (with or without its 16-byte marker)'
complete -c exabgp -n "__fish_exabgp_using_subcommand help; and not __fish_seen_subcommand_from server cli env validate migrate decode version healthcheck help" -f -a "version" -d 'Print the version'
complete -c exabgp -n "__fish_exabgp_using_subcommand help; and not __fish_seen_subcommand_from server cli env validate migrate decode version healthcheck help" -f -a "healthcheck" -d 'Announce service addresses while a check passes: the helper to run as a `[[process]]` (ExaBGP\'s healthcheck options; see docs/healthcheck.md)'
complete -c exabgp -n "__fish_exabgp_using_subcommand help; and not __fish_seen_subcommand_from server cli env validate migrate decode version healthcheck help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
