"""Blind-spot analytics (issue 14), as pure functions: no SQL, no Flask.

Hot spots of risk beyond chance (Getis-Ord Gi* with esda/libpysal on H3 cells and dongs,
permutation p-values, false-discovery-rate correction), coverage gaps (walking distance to
help, months without contact) and the combined blind-spot list with its reasons.
"""
