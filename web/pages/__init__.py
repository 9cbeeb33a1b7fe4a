"""HTML pages on the GOV.UK Design System, beside the API and on the same services.

Pages read through the same ``Waymark`` query methods and write through the
same commands as the API routes, behind the same access rules.
"""
