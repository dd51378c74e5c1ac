"""Every public function documents its formula, a reference and a working example."""

import ast
import doctest
import importlib
import inspect
import sys

import numpy as np
import pytest

import cxloop.analytics as analytics

MODULES = [
    "results", "scores", "comparisons", "correlation", "drivers",
    "opportunities", "control", "shrinkage", "ranking", "impact", "quantiles", "shifts",
    "staggered",
]  # fmt: skip


@pytest.mark.parametrize(
    "name", [n for n in analytics.__all__ if inspect.isfunction(getattr(analytics, n))]
)
def test_public_function_has_formula_reference_and_example(name):
    doc = inspect.getdoc(getattr(analytics, name)) or ""
    for section in (".. math::", "References", "Examples"):
        assert section in doc, f"{name} lacks {section}"


@pytest.mark.parametrize("module", MODULES)
def test_docstring_examples_run(module):
    mod = importlib.import_module(f"cxloop.analytics.{module}")
    result = doctest.testmod(
        mod, extraglobs={"np": np}, optionflags=doctest.NORMALIZE_WHITESPACE, report=True
    )
    assert result.failed == 0
    assert result.attempted > 0


def test_analytics_imports_only_numpy_scipy_and_itself():
    """And cxloop.lib's definitions (pure too: the NPS's categories live in cxloop.lib.scales,
    shared with the apps that may not import the analytics)."""
    allowed = {"numpy", "scipy", *sys.stdlib_module_names}
    for module in [*MODULES, "_input"]:
        tree = ast.parse(inspect.getsource(importlib.import_module(f"cxloop.analytics.{module}")))
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                tops = {alias.name.split(".")[0] for alias in node.names}
            elif isinstance(node, ast.ImportFrom) and node.level == 0:
                if node.module.startswith("cxloop.lib."):
                    continue
                tops = {node.module.split(".")[0]}
            else:
                continue
            assert tops <= allowed, f"cxloop.analytics.{module} imports {tops - allowed}"
