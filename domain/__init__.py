"""The accelerator's domain model: aggregates, their events and their rules.

Pure Python: the standard library and ``eventsourcing.domain`` only.
"""
