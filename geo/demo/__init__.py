"""The demo data generator: reproducible synthetic residents, written as import files.

The residents are calibrated per 행정동 on real statistics and written as the import files of
``docs/import_formats.md`` (see ``docs/demo_data.md``).

Pure files, no database: :func:`generate_demo` (in ``generate``) writes them, and
``geo.demo_load`` imports them through the real importers. The modules, in the order the
generator uses them:

- ``generate``: the public API, the stages in order, the manifest;
- ``population``: the calibration targets, households and recipients;
- ``identity``: names, registration numbers, dates, statuses, locations, addresses;
- ``welfare``: income, the hidden crisis, signals, visit outcomes;
- ``visiting``: the teams' 24 months of visits, simulated with their capacity;
- ``services``: providers, needs, support, teams and their capacity;
- ``tables``: the output columns and the CSV writer;
- ``accounts``: the demo's sign-in accounts (one per role), made by
  ``visitmap users create-demo``; the only module here that writes to the database.
"""

from geo.demo.generate import (
    FILE_NAMES,
    GENERATOR_VERSION,
    IMPORT_ORDER,
    DemoError,
    DemoSummary,
    generate_demo,
)

__all__ = [
    "DemoError",
    "DemoSummary",
    "generate_demo",
    "GENERATOR_VERSION",
    "IMPORT_ORDER",
    "FILE_NAMES",
]
