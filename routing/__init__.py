"""Visit routing: the generic VRPTW solver entry point and the visit teams' daily plans.

Both use PyVRP (a maintained, state-of-the-art solver (iterated local search in 0.14) for vehicle
routing with time windows) rather than a home-made heuristic.
"""
