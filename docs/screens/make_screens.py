"""Screenshots of the journey map, the overview dashboard and a customer page, in Russian and
English, on a desktop (1280 px) and a phone (390 px), as issue #10 asks to keep them: full-page
PNGs in this folder, named ``<page>-<language>-<width>.png``.

They show the full demo; serve it first (see README.md in this folder), then::

    python docs/screens/make_screens.py [--base http://127.0.0.1:8765] [--customer ID]

The customer page shown is ``--customer``, else the first customer of the customer list.
Charts are drawn before each picture is taken. A picture over --max-kb (600) gets a palette of
256 colours when Pillow is installed (``pip install pillow``; a page of text and flat colours
loses nothing visible); one still over it is reported."""

import argparse
import re
import shutil
import sys
from pathlib import Path

from playwright.sync_api import sync_playwright

HERE = Path(__file__).parent
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = [  # as tests/conftest.py: nothing reaches Google's hosts
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
WIDTHS = {
    "desktop": {"viewport": {"width": 1280, "height": 900}},
    "phone": {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True},
}
CHARTS_DRAWN = """() => [...document.querySelectorAll('.chart-view')].every(
  view => view.querySelectorAll('svg .role-mark > *').length > 0)"""


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--base", default="http://127.0.0.1:8765", help="the served demo")
    parser.add_argument("--user", default="cx.lead")
    parser.add_argument("--password", default="demo-cxloop")
    parser.add_argument("--customer", type=int, help="id of the customer page to show")
    parser.add_argument("--out", type=Path, default=HERE)
    parser.add_argument("--max-kb", type=int, default=600)
    args = parser.parse_args()
    base = args.base.rstrip("/")
    too_big = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        customer = args.customer
        for language in ("ru", "en"):
            for width, options in WIDTHS.items():
                context = browser.new_context(locale=language, **options)
                context.add_cookies([{"name": "django_language", "value": language, "url": base}])
                page = context.new_page()
                sign_in(page, base, args.user, args.password)
                customer = customer or first_customer(page, base)
                pages = {
                    "journey_map": "/journey/",
                    "overview": "/dashboard/",
                    "customer_detail": f"/customers/{customer}/",
                }
                for name, path in pages.items():
                    target = args.out / f"{name}-{language}-{width}.png"
                    shoot(page, base + path, target)
                    if target.stat().st_size > args.max_kb * 1024:
                        to_palette(target)
                    size = target.stat().st_size // 1024
                    print(f"{target.name}: {size} KB")
                    if size > args.max_kb:
                        too_big.append(f"{target.name} ({size} KB)")
                context.close()
        browser.close()
    if too_big:
        print(f"over {args.max_kb} KB: {', '.join(too_big)}", file=sys.stderr)
    return 0


def sign_in(page, base: str, user: str, password: str) -> None:
    page.goto(f"{base}/login/")
    form = page.locator("form:has(input[name=password])")  # the first form switches language
    form.locator("input[name=username]").fill(user)
    form.locator("input[name=password]").fill(password)
    with page.expect_navigation():
        form.locator("[type=submit]").click()
    if "/login/" in page.url:
        raise SystemExit(f"could not sign in as {user} at {base}")


def first_customer(page, base: str) -> int:
    page.goto(f"{base}/customers/")
    for href in page.locator("main a[href]").evaluate_all("links => links.map(a => a.href)"):
        found = re.search(r"/customers/(\d+)/$", href)
        if found:
            return int(found.group(1))
    raise SystemExit("no customer page is linked from the customer list: pass --customer")


def shoot(page, url: str, target: Path) -> None:
    response = page.goto(url, wait_until="networkidle")
    if response is None or response.status != 200:
        raise SystemExit(f"{url} answered {response and response.status}")
    page.wait_for_function(CHARTS_DRAWN, timeout=15_000)
    page.evaluate("document.fonts.ready")
    page.screenshot(path=target, full_page=True, animations="disabled")


def to_palette(target: Path) -> None:
    try:
        from PIL import Image
    except ImportError:
        return
    with Image.open(target) as picture:
        reduced = picture.convert("RGB").quantize(256, dither=Image.Dither.NONE)
    reduced.save(target, optimize=True)


if __name__ == "__main__":
    sys.exit(main())
