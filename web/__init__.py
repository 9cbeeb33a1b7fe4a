"""The edge: HTTP API, pages and command line. No business rules, no SQL."""
