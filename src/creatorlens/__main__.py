"""`python -m creatorlens` runs the command line."""

from creatorlens.cli import main

main()
