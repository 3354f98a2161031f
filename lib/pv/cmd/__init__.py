"""One module per command: parse argv, call the library, map errors to exit codes.

Only these modules print or exit; the library raises pv.diag errors.
"""
