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
complete -c exabgp -n "__fish_exabgp_needs_command" -f -a "validate" -d 'Check a configuration file: exit 0 with a summary, or 78 with file:line:col errors'
complete -c exabgp -n "__fish_exabgp_needs_command" -f -a "decode" -d 'Decode one BGP message given in hex (with or without its 16-byte marker)'
complete -c exabgp -n "__fish_exabgp_needs_command" -f -a "version" -d 'Print the version'
complete -c exabgp -n "__fish_exabgp_needs_command" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c exabgp -n "__fish_exabgp_using_subcommand server" -l log-level -d 'trace, debug, info, warning, error (overrides exabgp_log_level)' -r
complete -c exabgp -n "__fish_exabgp_using_subcommand server" -l instance -d 'Instance name (control socket name, log field)' -r
complete -c exabgp -n "__fish_exabgp_using_subcommand server" -l log -d 'Where logs go: auto (journald when stderr is the journal), stderr, journal' -r
complete -c exabgp -n "__fish_exabgp_using_subcommand server" -l env-file -d 'Read exabgp_* settings from this env file (exabgp@.service passes /etc/exabgp/NAME.env). A file that does not exist is skipped; one with an unknown or malformed setting exits 78. The environment and the command line win over it' -r -F
complete -c exabgp -n "__fish_exabgp_using_subcommand server" -s h -l help -d 'Print help'
complete -c exabgp -n "__fish_exabgp_using_subcommand env" -l instance -d 'Instance name, as given to `server --instance`' -r
complete -c exabgp -n "__fish_exabgp_using_subcommand env" -l env-file -d 'Also read this env file (as systemd\'s EnvironmentFile= would)' -r -F
complete -c exabgp -n "__fish_exabgp_using_subcommand env" -s h -l help -d 'Print help'
complete -c exabgp -n "__fish_exabgp_using_subcommand validate" -s h -l help -d 'Print help'
complete -c exabgp -n "__fish_exabgp_using_subcommand decode" -s h -l help -d 'Print help'
complete -c exabgp -n "__fish_exabgp_using_subcommand version" -s h -l help -d 'Print help'
complete -c exabgp -n "__fish_exabgp_using_subcommand help; and not __fish_seen_subcommand_from server cli env validate decode version help" -f -a "server" -d 'Run the daemon in the foreground with this configuration file'
complete -c exabgp -n "__fish_exabgp_using_subcommand help; and not __fish_seen_subcommand_from server cli env validate decode version help" -f -a "cli" -d 'Talk to a running daemon over its control socket (same as `exabgpcli`)'
complete -c exabgp -n "__fish_exabgp_using_subcommand help; and not __fish_seen_subcommand_from server cli env validate decode version help" -f -a "env" -d 'Print every effective exabgp_* setting with where it came from, and the control socket path with why each earlier candidate was skipped'
complete -c exabgp -n "__fish_exabgp_using_subcommand help; and not __fish_seen_subcommand_from server cli env validate decode version help" -f -a "validate" -d 'Check a configuration file: exit 0 with a summary, or 78 with file:line:col errors'
complete -c exabgp -n "__fish_exabgp_using_subcommand help; and not __fish_seen_subcommand_from server cli env validate decode version help" -f -a "decode" -d 'Decode one BGP message given in hex (with or without its 16-byte marker)'
complete -c exabgp -n "__fish_exabgp_using_subcommand help; and not __fish_seen_subcommand_from server cli env validate decode version help" -f -a "version" -d 'Print the version'
complete -c exabgp -n "__fish_exabgp_using_subcommand help; and not __fish_seen_subcommand_from server cli env validate decode version help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
