"""One module per `hvtui` subcommand: `configure(parser)` and `main(args) -> exit code`."""
