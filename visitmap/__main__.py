"""Run the ``visitmap`` command line as ``python -m visitmap``."""

from visitmap.cli import main

main()
