"""Read models built from the event log: one module per query they serve.

Projections read domain events; they never call ``services`` or ``web``.
"""
