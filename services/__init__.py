"""Application services: eventsourcing applications, commands and queries. No HTTP here."""
