"""One module per command: parse argv, call the library, map errors to exit codes."""
