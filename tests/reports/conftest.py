from pathlib import Path

import pytest

TEMPLATES = Path(__file__).parent / "templates"


@pytest.fixture(autouse=True)
def _print_templates(settings):
    """This folder's sample documents beside the reports app's templates."""
    engine = {**settings.TEMPLATES[0]}
    engine["DIRS"] = [*engine["DIRS"], TEMPLATES]
    settings.TEMPLATES = [engine, *settings.TEMPLATES[1:]]
