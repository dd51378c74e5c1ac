"""The public inquiry pages (no sign-in); cxloop.urls includes them under ``ask/``."""

urlpatterns: list = []
