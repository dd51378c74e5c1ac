"""Time every page of the demo, as the CX lead sees it, with and without the result cache.

    python bench/bench_pages.py [--data-dir DIR] [--repeats 5] [--user cx.lead]

Builds the full demo into DIR (default: a folder under the system's temp directory, reused when
it is there), then requests each page through Django's handler in this process — no network, so
the figures are the server's own time. "uncached" clears Django's cache before each request: the
insights are computed afresh from the fact store (DuckDB warm, as in a running worker);
"cached" repeats the request with the result cached under the store's data version. Medians.
"""

import argparse
import datetime as dt
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

PAGES = [
    ("home", "/"),
    ("journey map (target segment)", "/journey/"),
    ("journey map (all customers)", "/journey/?segment=all"),
    ("overview", "/dashboard/"),
    ("compare segments, NPS", "/dashboard/compare/"),
    ("compare teams, a touchpoint's rating", "/dashboard/compare/?by=team&metric=rating"),
    ("compare quarters, NPS", "/dashboard/compare/?by=period&metric=nps&grain=quarter"),
    ("customer portfolio", "/dashboard/portfolio/"),
    ("touchpoint", "/touchpoints/{touchpoint}/"),
    ("feedback list", "/responses/"),
    (
        "feedback list, low ratings of a touchpoint",
        "/responses/?touchpoint={touchpoint}&kind=rating&band=low",
    ),
    ("response", "/responses/{response}/"),
    ("customer list", "/customers/"),
    ("customer list, search", "/customers/?q=Волж"),
    ("customer (largest)", "/customers/{customer}/"),
    ("contact", "/contacts/{contact}/"),
    ("meetings", "/feedback/"),
    ("comments", "/comments/"),
    ("comments, searched", "/comments/?q=счёт"),
    ("comments of a theme in a year", "/comments/?theme={theme}&since={year_ago}"),
    ("themes and NPS", "/comments/impact/"),
    ("themes and NPS, all customers", "/comments/impact/?segment=all&order=frequency"),
]


def build_demo(data_dir: Path) -> None:
    if (data_dir / "facts" / "manifest.json").exists():
        return
    environment = {**os.environ, "CXLOOP_DATA_DIR": str(data_dir)}
    subprocess.run(
        [sys.executable, "-m", "cxloop.cli", "demo", "--no-serve", "-v0"],
        env=environment,
        check=True,
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument(
        "--data-dir", type=Path, default=Path(tempfile.gettempdir()) / "cxloop-bench-demo"
    )
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--user", default="cx.lead")
    args = parser.parse_args()
    build_demo(args.data_dir)
    os.environ["CXLOOP_DATA_DIR"] = str(args.data_dir)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cxloop.settings")

    import django

    django.setup()
    from django.contrib.auth.models import User
    from django.core.cache import cache
    from django.test import Client

    from cxloop.comments.models import Theme
    from cxloop.customers.models import Contact, Customer
    from cxloop.journeys.models import Touchpoint
    from cxloop.surveys.models import Response

    client = Client(HTTP_HOST="127.0.0.1")
    client.force_login(User.objects.get(username=args.user))
    ids = {
        "touchpoint": Touchpoint.objects.order_by("stage__order", "order").first().pk,
        "response": Response.objects.filter(state="completed").latest("submitted_at").pk,
        "customer": Customer.objects.order_by("-annual_value").first().pk,
        "contact": Contact.objects.order_by("pk").first().pk,
        "theme": Theme.objects.order_by("order").first().pk,
        "year_ago": (
            Response.objects.latest("submitted_at").submitted_at.date().replace(day=1)
            - dt.timedelta(days=365)
        ).isoformat(),
    }
    client.get("/journey/")  # load the views, open DuckDB
    print(f"{'page':40} {'uncached':>10} {'cached':>8}")
    for name, path in PAGES:
        path = path.format(**ids)
        uncached, cached = [], []
        for _ in range(args.repeats):
            cache.clear()
            for times in (uncached, cached):
                start = time.perf_counter()
                response = client.get(path)
                times.append(time.perf_counter() - start)
                if response.status_code != 200:
                    sys.exit(f"{path}: {response.status_code}")
        print(
            f"{name:40} {statistics.median(uncached) * 1000:8.0f} ms "
            f"{statistics.median(cached) * 1000:5.0f} ms"
        )


if __name__ == "__main__":
    main()
