"""The application layer: the jobs users ask for, composed from the lower layers.

Each module is one job (score a population, record a visit and rescore, plan a team's day,
load the demo): it opens no connection of its own and knows nothing of Flask or click, so
the web views (:mod:`webmap`), the command line (:mod:`visitmap.cli`) and notebooks call the
same functions with a SQLAlchemy session.
"""
