"""Small pure helpers (L0): no Django, no cxloop apps."""
