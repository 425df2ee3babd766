"""Shared support records (issue 13): the pure rules, without SQL or Flask.

Which support duplicates other support and which needs nobody meets (``rules``), with their
windows in a versioned configuration (``config``, ``configs/*.toml``), and which resident
rows are one person (``linkage``). The data layer (``geo.support_*``) loads the frames these
functions take and stores what they return; docs/support_warnings.md explains the rules.
"""
