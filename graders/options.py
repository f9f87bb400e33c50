"""The graders' options and ini keys, and the run's settings read from them (graders/plugin.py registers them).

Precedence: command line > ini file > default; every value is validated with where it came from.
"""

from __future__ import annotations

import math
import os
import tempfile
from pathlib import Path
from typing import Any

import pytest

from graders.backends import BACKENDS, NAMES as BACKEND_NAMES, OPTIONS as BACKEND_OPTIONS, BackendSettings, Option
from graders.backends.base import REAP_AFTER
from graders.timeouts import MAX_TIMEOUT, OPTIONS as TIMEOUTS, Timeouts

HELP_BACKEND = f"where graded Pods run: {', '.join(BACKEND_NAMES)} (default: kind)"
HELP_TIMEOUT = "seconds allowed to {} (default: {:g})"
HELP_REAP = (f"remove what killed runs left behind (by the graders' labels) once it is older than SECONDS "
             f"(default: {REAP_AFTER:g})")
MAX_AGE = 30 * 24 * 3600.0  # --reap-after: as every wait, a bound a person lives to see (MAX_TIMEOUT: a day)


class Settings:
    """The run's settings, each validated with where it came from."""

    def __init__(self, config: pytest.Config) -> None:
        self.backend = BackendSettings(
            name=_choice(config, "backend", BACKEND_NAMES, "kind"),
            options={name: _option(config, option) for name, option in BACKEND_OPTIONS.items()},
            kind_config=Path(config.rootpath, "kind-config.yaml"),
        )
        for option in BACKENDS[self.backend.name].options:
            if option.required and not self.backend.options[option.name]:
                raise pytest.UsageError(option.required)
        defaults = Timeouts()
        self.timeouts = Timeouts(**{op: _seconds(config, f"timeout_{op}", getattr(defaults, op)) for op in TIMEOUTS},
                                 given=frozenset(op for op in TIMEOUTS if _raw(config, f"timeout_{op}")[0]))
        self.reap_after = _seconds(config, "reap_after", REAP_AFTER)
        submission = config.getoption("grader_submission")
        self.submission = Path(submission).resolve() if submission else None
        if self.submission and not self.submission.is_dir():
            raise pytest.UsageError(f"--submission {submission}: no such folder")
        report = config.getoption("grader_report")
        self.report = _writable_report(report) if report else None


def add_options(parser: pytest.Parser) -> None:
    """The options and ini keys of the run (the plugin's pytest_addoption)."""
    group = parser.getgroup("grader", "k8s-101 graders")
    group.addoption("--backend", dest="grader_backend", help=HELP_BACKEND)
    parser.addini("grader_backend", HELP_BACKEND)
    for option in BACKEND_OPTIONS.values():  # each backend's own, from the registry
        group.addoption(option.flag_name, dest=f"grader_{option.name}", help=option.help,
                        **({"action": "store_true"} if option.flag else {}))
        parser.addini(f"grader_{option.name}", option.help + (" (true/false)" if option.flag else ""))
    group.addoption("--submission", dest="grader_submission", metavar="DIR",
                    help="grade the YAML files in DIR instead of the lab's folder")
    group.addoption("--grade-report", dest="grader_report", metavar="FILE", help="write the grade as JSON to FILE")
    group.addoption("--reap-after", dest="grader_reap_after", metavar="SECONDS", help=HELP_REAP)
    parser.addini("grader_reap_after", HELP_REAP)
    defaults = Timeouts()
    for op, what in TIMEOUTS.items():
        text = HELP_TIMEOUT.format(what, getattr(defaults, op))
        group.addoption(f"--timeout-{op}", dest=f"grader_timeout_{op}", metavar="SECONDS", help=text)
        parser.addini(f"grader_timeout_{op}", text)


def _raw(config: pytest.Config, name: str) -> tuple[str, str]:
    """(value, where it came from) of --NAME, else of ini grader_NAME; '' when neither is set."""
    cli = config.getoption(f"grader_{name}")
    if cli:
        return str(cli), "--" + name.replace("_", "-")
    return str(config.getini(f"grader_{name}") or ""), f"ini grader_{name}"


def _value(config: pytest.Config, name: str) -> str | None:
    return _raw(config, name)[0] or None


def _option(config: pytest.Config, option: Option) -> Any:
    """A backend option's value: a switch is on from the command line or a true ini value."""
    if option.flag:
        return bool(config.getoption(f"grader_{option.name}") or
                    str(config.getini(f"grader_{option.name}")).lower() in ("1", "true", "yes"))
    return _value(config, option.name) or option.default


def _choice(config: pytest.Config, name: str, choices: tuple[str, ...], default: str) -> str:
    value, where = _raw(config, name)
    if not value:
        return default
    if value not in choices:
        raise pytest.UsageError(f"Invalid {name} {value!r} from {where}: choose one of {', '.join(choices)}")
    return value


def _seconds(config: pytest.Config, name: str, default: float) -> float:
    """A number of seconds above 0 from --NAME or ini grader_NAME (name: timeout_ready, reap_after, ...)."""
    value, where = _raw(config, name)
    if not value:
        return default
    try:
        seconds = float(value)
    except ValueError:
        seconds = -1
    what, most = ("timeout", MAX_TIMEOUT) if name.startswith("timeout") else ("age", MAX_AGE)
    if not 0 < seconds < math.inf:  # also refuses nan and inf: every wait needs an end
        raise pytest.UsageError(f"Invalid {what} {value!r} from {where}: give a number of seconds above 0")
    if seconds > most:
        raise pytest.UsageError(f"Invalid {what} {value!r} from {where}: at most {most:.0f} seconds "
                                f"({most / 86400:g} day{'s' if most > 86400 else ''})")
    return seconds


def _writable_report(given: str) -> Path:
    """--grade-report's file, checked at start: a run must not grade for minutes and then fail to write."""
    path = Path(given).expanduser().resolve()
    problem = None
    try:
        if path.is_dir():
            problem = "it is a folder; give a file name such as grade.json"
        else:
            path.parent.mkdir(parents=True, exist_ok=True)
            with tempfile.NamedTemporaryFile(dir=path.parent, prefix=".grade-report-"):
                pass  # a folder we can create files in
            if path.exists() and not os.access(path, os.W_OK):
                problem = "the file exists and cannot be written"
    except FileExistsError:  # mkdir met a file where a folder belongs
        problem = "a part of its folder is a file, not a folder"
    except OSError as error:
        problem = f"cannot write there ({error.strerror or error})"
    if problem:
        raise pytest.UsageError(f"--grade-report {given}: {problem}: choose a file in a folder you can write to")
    return path
