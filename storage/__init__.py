"""What services and projections both need of the stores: codec, times, JSON, schema set-up.

A layer of its own between projections and the domain: it imports the standard
library, orjson, eventsourcing and the database drivers, never ``domain``,
``services``, ``projections`` or ``web``.
"""
