# Print an optspec for argparse to handle cmd's options that are independent of any subcommand.
function __fish_exabgp_rollback_global_optspecs
    string join \n config-dir= state-dir= keep= wait= json exabgp= exabgpcli= h/help V/version
end

function __fish_exabgp_rollback_needs_command
    # Figure out if the current invocation already has a command.
    set -l cmd (commandline -opc)
    set -e cmd[1]
    argparse -s (__fish_exabgp_rollback_global_optspecs) -- $cmd 2>/dev/null
    or return
    if set -q argv[1]
        # Also print the command, so this can be used to figure out what it is.
        echo $argv[1]
        return 1
    end
    return 0
end

function __fish_exabgp_rollback_using_subcommand
    set -l cmd (__fish_exabgp_rollback_needs_command)
    test -z "$cmd"
    and return 1
    contains -- $cmd[1] $argv
end

complete -c exabgp-rollback -n "__fish_exabgp_rollback_needs_command" -l config-dir -d 'Where INSTANCE.toml and INSTANCE.env live' -r -F
complete -c exabgp-rollback -n "__fish_exabgp_rollback_needs_command" -l state-dir -d 'Where generations are kept (one directory per instance)' -r -F
complete -c exabgp-rollback -n "__fish_exabgp_rollback_needs_command" -l keep -d 'How many generations to keep per instance, at least 2 (the current one and the one a running change may restore are always kept)' -r
complete -c exabgp-rollback -n "__fish_exabgp_rollback_needs_command" -l wait -d 'Wait up to SECONDS for another run on the same instance to finish (default: refuse at once with exit 75)' -r
complete -c exabgp-rollback -n "__fish_exabgp_rollback_needs_command" -l exabgp -d 'The exabgp binary used to validate configurations' -r -F
complete -c exabgp-rollback -n "__fish_exabgp_rollback_needs_command" -l exabgpcli -d 'The exabgpcli binary used to ask the daemon for its neighbors' -r -F
complete -c exabgp-rollback -n "__fish_exabgp_rollback_needs_command" -l json -d 'Print the result as one JSON object (for automation)'
complete -c exabgp-rollback -n "__fish_exabgp_rollback_needs_command" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c exabgp-rollback -n "__fish_exabgp_rollback_needs_command" -s V -l version -d 'Print version'
complete -c exabgp-rollback -n "__fish_exabgp_rollback_needs_command" -f -a "save" -d 'Record the instance\'s current files and package version as a new generation (nothing new is recorded when they equal the current generation)'
complete -c exabgp-rollback -n "__fish_exabgp_rollback_needs_command" -f -a "apply" -d 'Validate NEW.toml (and NEW.env), record the current state, install the new files, reload or restart, verify; undo by itself when verification fails'
complete -c exabgp-rollback -n "__fish_exabgp_rollback_needs_command" -f -a "rollback" -d 'Restore a generation (default: the newest one before the current that did not fail verification), restart and verify; with --package also its package version'
complete -c exabgp-rollback -n "__fish_exabgp_rollback_needs_command" -f -a "list" -d 'List the instance\'s generations (`*` marks the current one)'
complete -c exabgp-rollback -n "__fish_exabgp_rollback_needs_command" -f -a "diff" -d 'Show what changed between generation GEN and GEN2 (default: the files installed now), as a unified diff'
complete -c exabgp-rollback -n "__fish_exabgp_rollback_needs_command" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c exabgp-rollback -n "__fish_exabgp_rollback_using_subcommand save" -l note -d 'A note kept with the generation (shown by `list`)' -r
complete -c exabgp-rollback -n "__fish_exabgp_rollback_using_subcommand save" -l config-dir -d 'Where INSTANCE.toml and INSTANCE.env live' -r -F
complete -c exabgp-rollback -n "__fish_exabgp_rollback_using_subcommand save" -l state-dir -d 'Where generations are kept (one directory per instance)' -r -F
complete -c exabgp-rollback -n "__fish_exabgp_rollback_using_subcommand save" -l keep -d 'How many generations to keep per instance, at least 2 (the current one and the one a running change may restore are always kept)' -r
complete -c exabgp-rollback -n "__fish_exabgp_rollback_using_subcommand save" -l wait -d 'Wait up to SECONDS for another run on the same instance to finish (default: refuse at once with exit 75)' -r
complete -c exabgp-rollback -n "__fish_exabgp_rollback_using_subcommand save" -l exabgp -d 'The exabgp binary used to validate configurations' -r -F
complete -c exabgp-rollback -n "__fish_exabgp_rollback_using_subcommand save" -l exabgpcli -d 'The exabgpcli binary used to ask the daemon for its neighbors' -r -F
complete -c exabgp-rollback -n "__fish_exabgp_rollback_using_subcommand save" -l json -d 'Print the result as one JSON object (for automation)'
complete -c exabgp-rollback -n "__fish_exabgp_rollback_using_subcommand save" -s h -l help -d 'Print help'
complete -c exabgp-rollback -n "__fish_exabgp_rollback_using_subcommand apply" -l timeout -d 'Seconds to wait for the instance to be healthy (neighbors Established)' -r
complete -c exabgp-rollback -n "__fish_exabgp_rollback_using_subcommand apply" -l note -d 'A note kept with the new generation' -r
complete -c exabgp-rollback -n "__fish_exabgp_rollback_using_subcommand apply" -l config-dir -d 'Where INSTANCE.toml and INSTANCE.env live' -r -F
complete -c exabgp-rollback -n "__fish_exabgp_rollback_using_subcommand apply" -l state-dir -d 'Where generations are kept (one directory per instance)' -r -F
complete -c exabgp-rollback -n "__fish_exabgp_rollback_using_subcommand apply" -l keep -d 'How many generations to keep per instance, at least 2 (the current one and the one a running change may restore are always kept)' -r
complete -c exabgp-rollback -n "__fish_exabgp_rollback_using_subcommand apply" -l wait -d 'Wait up to SECONDS for another run on the same instance to finish (default: refuse at once with exit 75)' -r
complete -c exabgp-rollback -n "__fish_exabgp_rollback_using_subcommand apply" -l exabgp -d 'The exabgp binary used to validate configurations' -r -F
complete -c exabgp-rollback -n "__fish_exabgp_rollback_using_subcommand apply" -l exabgpcli -d 'The exabgpcli binary used to ask the daemon for its neighbors' -r -F
complete -c exabgp-rollback -n "__fish_exabgp_rollback_using_subcommand apply" -l dry-run -d 'Say what would be done, change nothing'
complete -c exabgp-rollback -n "__fish_exabgp_rollback_using_subcommand apply" -l emergency -d 'Install and reload/restart without waiting for verification'
complete -c exabgp-rollback -n "__fish_exabgp_rollback_using_subcommand apply" -l json -d 'Print the result as one JSON object (for automation)'
complete -c exabgp-rollback -n "__fish_exabgp_rollback_using_subcommand apply" -s h -l help -d 'Print help'
complete -c exabgp-rollback -n "__fish_exabgp_rollback_using_subcommand rollback" -l package-file -d 'The package file to install for --package (else apt-get/dnf find the version in a configured repository or the local cache)' -r -F
complete -c exabgp-rollback -n "__fish_exabgp_rollback_using_subcommand rollback" -l timeout -d 'Seconds to wait for the instance to be healthy' -r
complete -c exabgp-rollback -n "__fish_exabgp_rollback_using_subcommand rollback" -l config-dir -d 'Where INSTANCE.toml and INSTANCE.env live' -r -F
complete -c exabgp-rollback -n "__fish_exabgp_rollback_using_subcommand rollback" -l state-dir -d 'Where generations are kept (one directory per instance)' -r -F
complete -c exabgp-rollback -n "__fish_exabgp_rollback_using_subcommand rollback" -l keep -d 'How many generations to keep per instance, at least 2 (the current one and the one a running change may restore are always kept)' -r
complete -c exabgp-rollback -n "__fish_exabgp_rollback_using_subcommand rollback" -l wait -d 'Wait up to SECONDS for another run on the same instance to finish (default: refuse at once with exit 75)' -r
complete -c exabgp-rollback -n "__fish_exabgp_rollback_using_subcommand rollback" -l exabgp -d 'The exabgp binary used to validate configurations' -r -F
complete -c exabgp-rollback -n "__fish_exabgp_rollback_using_subcommand rollback" -l exabgpcli -d 'The exabgpcli binary used to ask the daemon for its neighbors' -r -F
complete -c exabgp-rollback -n "__fish_exabgp_rollback_using_subcommand rollback" -l package -d 'Also install the package version recorded with that generation'
complete -c exabgp-rollback -n "__fish_exabgp_rollback_using_subcommand rollback" -l dry-run -d 'Say what would be done, change nothing'
complete -c exabgp-rollback -n "__fish_exabgp_rollback_using_subcommand rollback" -l emergency -d 'Restore and restart without waiting for verification'
complete -c exabgp-rollback -n "__fish_exabgp_rollback_using_subcommand rollback" -l json -d 'Print the result as one JSON object (for automation)'
complete -c exabgp-rollback -n "__fish_exabgp_rollback_using_subcommand rollback" -s h -l help -d 'Print help'
complete -c exabgp-rollback -n "__fish_exabgp_rollback_using_subcommand list" -l config-dir -d 'Where INSTANCE.toml and INSTANCE.env live' -r -F
complete -c exabgp-rollback -n "__fish_exabgp_rollback_using_subcommand list" -l state-dir -d 'Where generations are kept (one directory per instance)' -r -F
complete -c exabgp-rollback -n "__fish_exabgp_rollback_using_subcommand list" -l keep -d 'How many generations to keep per instance, at least 2 (the current one and the one a running change may restore are always kept)' -r
complete -c exabgp-rollback -n "__fish_exabgp_rollback_using_subcommand list" -l wait -d 'Wait up to SECONDS for another run on the same instance to finish (default: refuse at once with exit 75)' -r
complete -c exabgp-rollback -n "__fish_exabgp_rollback_using_subcommand list" -l exabgp -d 'The exabgp binary used to validate configurations' -r -F
complete -c exabgp-rollback -n "__fish_exabgp_rollback_using_subcommand list" -l exabgpcli -d 'The exabgpcli binary used to ask the daemon for its neighbors' -r -F
complete -c exabgp-rollback -n "__fish_exabgp_rollback_using_subcommand list" -l json -d 'Print the result as one JSON object (for automation)'
complete -c exabgp-rollback -n "__fish_exabgp_rollback_using_subcommand list" -s h -l help -d 'Print help'
complete -c exabgp-rollback -n "__fish_exabgp_rollback_using_subcommand diff" -l config-dir -d 'Where INSTANCE.toml and INSTANCE.env live' -r -F
complete -c exabgp-rollback -n "__fish_exabgp_rollback_using_subcommand diff" -l state-dir -d 'Where generations are kept (one directory per instance)' -r -F
complete -c exabgp-rollback -n "__fish_exabgp_rollback_using_subcommand diff" -l keep -d 'How many generations to keep per instance, at least 2 (the current one and the one a running change may restore are always kept)' -r
complete -c exabgp-rollback -n "__fish_exabgp_rollback_using_subcommand diff" -l wait -d 'Wait up to SECONDS for another run on the same instance to finish (default: refuse at once with exit 75)' -r
complete -c exabgp-rollback -n "__fish_exabgp_rollback_using_subcommand diff" -l exabgp -d 'The exabgp binary used to validate configurations' -r -F
complete -c exabgp-rollback -n "__fish_exabgp_rollback_using_subcommand diff" -l exabgpcli -d 'The exabgpcli binary used to ask the daemon for its neighbors' -r -F
complete -c exabgp-rollback -n "__fish_exabgp_rollback_using_subcommand diff" -l json -d 'Print the result as one JSON object (for automation)'
complete -c exabgp-rollback -n "__fish_exabgp_rollback_using_subcommand diff" -s h -l help -d 'Print help'
complete -c exabgp-rollback -n "__fish_exabgp_rollback_using_subcommand help; and not __fish_seen_subcommand_from save apply rollback list diff help" -f -a "save" -d 'Record the instance\'s current files and package version as a new generation (nothing new is recorded when they equal the current generation)'
complete -c exabgp-rollback -n "__fish_exabgp_rollback_using_subcommand help; and not __fish_seen_subcommand_from save apply rollback list diff help" -f -a "apply" -d 'Validate NEW.toml (and NEW.env), record the current state, install the new files, reload or restart, verify; undo by itself when verification fails'
complete -c exabgp-rollback -n "__fish_exabgp_rollback_using_subcommand help; and not __fish_seen_subcommand_from save apply rollback list diff help" -f -a "rollback" -d 'Restore a generation (default: the newest one before the current that did not fail verification), restart and verify; with --package also its package version'
complete -c exabgp-rollback -n "__fish_exabgp_rollback_using_subcommand help; and not __fish_seen_subcommand_from save apply rollback list diff help" -f -a "list" -d 'List the instance\'s generations (`*` marks the current one)'
complete -c exabgp-rollback -n "__fish_exabgp_rollback_using_subcommand help; and not __fish_seen_subcommand_from save apply rollback list diff help" -f -a "diff" -d 'Show what changed between generation GEN and GEN2 (default: the files installed now), as a unified diff'
complete -c exabgp-rollback -n "__fish_exabgp_rollback_using_subcommand help; and not __fish_seen_subcommand_from save apply rollback list diff help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
