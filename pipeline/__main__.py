"""`python -m vidpipe`: the same as the `vidpipe` command."""

from .cli import main

main(prog_name="vidpipe")
