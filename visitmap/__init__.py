"""Command-line entry point (`visitmap`)."""
