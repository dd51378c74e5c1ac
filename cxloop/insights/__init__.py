"""Typed queries over the fact store feeding cxloop.analytics (L5); filled by a later issue."""
