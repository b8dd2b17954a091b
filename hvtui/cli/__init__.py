"""The command line: `main` dispatches; one module per subcommand, each with
`configure(parser)` and `main(args) -> exit code`."""
