"""Who read or changed what: an append-only log of sign-ins, reads of personal data, changes,
imports, exports and erasures (docs/decisions/006-audit-and-personal-data.md).

The lowest app layer, so that every app can record into it; it imports no other cxloop app and
follows the models it watches by their string labels.
"""
