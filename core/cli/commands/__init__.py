"""Subcommands of `xner`. Every module here defines `register(subparsers)`, which adds its
subcommands with `set_defaults(run=FUNCTION)`; FUNCTION(args) returns the exit code.
core.cli discovers the modules, so adding a command never edits a shared file."""
