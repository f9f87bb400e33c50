"""The graders are an installed pytest plugin (pyproject.toml, entry point `pytest11`), so that pytest
knows `--submission DIR` before it looks for test paths: DIR is then never taken for one, and no
conftest.py in DIR or its parent folders is imported.

Without the install (an older virtualenv), this file still loads the plugin so that students can grade
their own folder, but refuses `--submission`: pytest would already have imported the conftest.py files
of that folder and its parents.
"""

from __future__ import annotations

import sys

import pytest

# Imported already when pytest loaded the plugin from its entry point, before it read the command line.
LOADED_BEFORE_CONFTESTS = "graders.plugin" in sys.modules

# A no-op when the plugin came from its entry point: it is registered under this same name.
pytest_plugins = ["graders.plugin"]

NOT_INSTALLED = ("--submission needs the graders installed as a pytest plugin, or pytest imports any conftest.py "
                 "in the submission's folder and its parents: run `pip install -r requirements.txt` (it runs "
                 "`pip install -e .`) from the root of the repository, and do not set PYTEST_DISABLE_PLUGIN_AUTOLOAD")


def pytest_configure(config: pytest.Config) -> None:
    if config.getoption("grader_submission") and not LOADED_BEFORE_CONFTESTS:
        raise pytest.UsageError(NOT_INSTALLED)
