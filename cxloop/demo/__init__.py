"""The demo organisation: a professional services firm built from planted truths."""
