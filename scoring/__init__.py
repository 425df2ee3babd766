"""Risk scoring: feature table -> score -> tier. No Flask, no SQL (issue 3)."""
