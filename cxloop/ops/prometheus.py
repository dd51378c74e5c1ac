"""The one door to prometheus_client, which must be opened in multiprocess mode.

prometheus_client decides, when first imported, between values kept in process memory and
files that every process of the machine writes and ``/metrics`` adds up: the variable
``PROMETHEUS_MULTIPROC_DIR`` decides. settings.py sets it to ``$CXLOOP_DATA_DIR/metrics``
before anything else runs, since django_rq's admin imports prometheus_client while the apps
load; this module sets it too for settings that do not, and refuses to run if it came too late.
"""

import os
from pathlib import Path

from django.conf import settings

os.environ.setdefault("PROMETHEUS_MULTIPROC_DIR", str(Path(settings.DATA_DIR) / "metrics"))
DIRECTORY = Path(os.environ["PROMETHEUS_MULTIPROC_DIR"])
DIRECTORY.mkdir(parents=True, exist_ok=True)

from prometheus_client import (  # noqa: E402  (after the variable above)
    CONTENT_TYPE_PLAIN_0_0_4,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
    values,
)
from prometheus_client.metrics_core import GaugeMetricFamily  # noqa: E402
from prometheus_client.multiprocess import MultiProcessCollector  # noqa: E402

if not values.ValueClass._multiprocess:
    raise RuntimeError(
        "prometheus_client was imported before PROMETHEUS_MULTIPROC_DIR was set (settings.py "
        "sets it): each process would count alone"
    )

__all__ = [
    "CONTENT_TYPE_PLAIN_0_0_4",
    "DIRECTORY",
    "CollectorRegistry",
    "Counter",
    "GaugeMetricFamily",
    "Histogram",
    "MultiProcessCollector",
    "generate_latest",
]
