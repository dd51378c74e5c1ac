"""Signals of the comments app, so that higher layers follow its writes without being imported."""

from django.dispatch import Signal

# Sent once comments are enriched and committed, with ``months``: the set of "YYYY-MM" months
# (UTC) of their responses' submitted_at. The fact store rewrites those months' comments.
comments_enriched = Signal()
