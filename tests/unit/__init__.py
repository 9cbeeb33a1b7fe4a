"""The domain's rules, tested on aggregates alone: no database, no application, no HTTP."""
