"""A dashboard's exported charts are its page's, each titled for paper."""


def assert_page_charts(case, charts: list[dict], specs: list[dict]) -> None:
    """``charts`` (a table's) are the page's ``specs`` in order, each with a title: its own, or
    the heading the page gives it."""
    case.assertTrue(all(chart.get("title") for chart in charts), charts)
    titled = [{"title": chart["title"], **spec} for chart, spec in zip(charts, specs, strict=True)]
    case.assertEqual(charts, titled)
