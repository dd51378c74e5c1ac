"""The JSON API (L6): django-ninja endpoints for surveys and responses, authenticated by token.

Views stay thin: reads go through the apps' ``queries`` modules, the one write through
``feedback.services.ingest``.
"""
