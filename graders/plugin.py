"""The graders' pytest surface: options and ini keys, fixtures, per-check results, summary, report.

Loaded by the top-level conftest.py (`pytest_plugins = ["graders.plugin"]`). The options themselves and
how they are read and validated are graders/options.py's.
"""

from __future__ import annotations

import dataclasses
import signal
import uuid
from typing import Any, Generator, Iterator

import pytest

from graders import capabilities, quoting, runtime_words
from graders.backends import BACKENDS, able, lacking, make_backend
from graders.backends.base import Backend
from graders.backends.offline import OfflineSandbox
from graders.errors import CheckFailed, InfraError, interrupted
from graders.lab import MARKER, Check, Lab
from graders.manifests import Submission, load_submission
from graders.options import Settings, add_options
from graders.report import (CheckResult, FailureBlocks, Results, plain, summary_lines, without_stack_traces,
                            write_report)
from graders.run import LabRun

SETTINGS = pytest.StashKey[Settings]()
RESULTS = pytest.StashKey[Results]()
NOTICES = pytest.StashKey[list[str]]()  # lines for the end of the run, such as leftovers removed
BLOCKS = pytest.StashKey["FailureBlocks"]()  # causes already shown in full: later checks point to them
NOT_RUN = pytest.StashKey[dict[Lab, int]]()  # after an interrupt (Ctrl-C, SIGTERM): each lab's checks not run


def pytest_addoption(parser: pytest.Parser) -> None:
    add_options(parser)


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", f"{MARKER}(check, lab): a scored check of a lab (set by Lab.check)")
    config.stash[SETTINGS] = Settings(config)
    config.stash[RESULTS] = Results()
    _terminate_like_interrupt()


def pytest_report_header(config: pytest.Config) -> list[str]:
    settings = config.stash[SETTINGS]
    t = settings.timeouts
    where = "".join(f", {option.name.replace('_', ' ')} {settings.backend.options[option.name]}"
                    for option in BACKENDS[settings.backend.name].options
                    if option.default is None and settings.backend.options[option.name])  # e.g. the context
    return [f"grader: backend {settings.backend.name}{where}; timeouts apply {t.apply:g}s, ready {t.ready:g}s, "
            f"exec {t.exec:g}s, delete {t.delete:g}s"
            + (f"; submission {settings.submission}" if settings.submission else "")]


# -- what a lab needs of the backend ----------------------------------------------------------------
def pytest_report_collectionfinish(config: pytest.Config, items: list[pytest.Item]) -> list[str]:
    """Said before any check runs: the labs whose needs the chosen backend lacks, and where to run them."""
    lacked: dict[int, tuple[Lab, list[str], set[str]]] = {}  # by lab: (lab, its checks not graded, what lacks)
    for item in items:
        found = _lacking(item)
        if found and found[2]:
            lab, check, missing = found
            entry = lacked.setdefault(id(lab), (lab, [], set()))
            entry[1].append(check.id)
            entry[2].update(missing)
    backend = config.stash[SETTINGS].backend.name
    return [f"grader: {_lacking_problem(lab, backend, frozenset(missing))}: {_use(frozenset(missing))}; "
            f"not graded here: {', '.join(checks)}" for lab, checks, missing in lacked.values()]


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item: pytest.Item) -> None:
    """A check that needs what the backend lacks is not graded, before any fixture starts the backend:
    an infrastructure matter (no points lost), never a grader error."""
    found = _lacking(item)
    if found and found[2]:
        lab, _, missing = found
        raise InfraError(_lacking_problem(lab, item.config.stash[SETTINGS].backend.name, missing), fix=_use(missing))


def _lacking(item: pytest.Item) -> tuple[Lab, Check, frozenset[str]] | None:
    """A check's lab, the check, and what it needs that the backend lacks: the check's own needs, and the
    lab's when it uses the backend (lab_run); a check of the submission alone (manifests) needs nothing."""
    marker = item.get_closest_marker(MARKER)
    if marker is None:
        return None
    check, lab = marker.kwargs["check"], marker.kwargs["lab"]
    needs = check.needs | (lab.needs if "lab_run" in getattr(item, "fixturenames", ()) else frozenset())
    return lab, check, lacking(item.config.stash[SETTINGS].backend.name, needs)


def _lacking_problem(lab: Lab, backend: str, missing: frozenset[str]) -> str:
    return f"lab {lab.id} needs {capabilities.listing(missing)}, which backend {backend} cannot run"


def _use(missing: frozenset[str]) -> str:
    backends = able(missing)
    if not backends:
        return "no backend of the graders can: tell the course staff"
    return "use " + " or ".join(f"--backend {name}" for name in backends)


# -- fixtures --------------------------------------------------------------------------------------
@pytest.fixture(scope="session")
def grader_backend(pytestconfig: pytest.Config) -> Iterator[Backend]:
    settings = pytestconfig.stash[SETTINGS]
    backend = make_backend(settings.backend)
    try:
        notices = pytestconfig.stash.setdefault(NOTICES, [])
        try:
            reaped = backend.reap_stale(settings.reap_after)
            if reaped:
                notices.append(f"grader: removed what killed runs left behind: {', '.join(reaped)}")
        except InfraError as error:  # old leftovers must not stop this run from grading
            notices.append(f"grader: could not remove what killed runs left behind: {error.problem}")
        yield backend
    finally:
        backend.close()


@pytest.fixture(scope="module")
def lab(request: pytest.FixtureRequest) -> Lab:
    declared = getattr(request.module, "lab", None)
    if not isinstance(declared, Lab):
        raise pytest.UsageError(f"{request.path}: a lab's test file must declare `lab = Lab(...)`")
    return declared


@pytest.fixture(scope="module")
def submission(request: pytest.FixtureRequest, lab: Lab) -> Submission:
    settings = request.config.stash[SETTINGS]
    folder = settings.submission or request.path.parent
    submission = load_submission(folder, lab.pods, lab.containers, lab.allows, objects=lab.objects)
    # a backend with real nodes is a Kubernetes API (kind, context); podman has none for `kubectl --dry-run`
    submission.cluster_reachable = capabilities.NODE_LABELS in BACKENDS[settings.backend.name].capabilities
    return submission


@pytest.fixture(scope="module")
def lab_run(request: pytest.FixtureRequest, lab: Lab, submission: Submission) -> Iterator[LabRun]:
    settings = request.config.stash[SETTINGS]
    timeouts, can = settings.timeouts, BACKENDS[settings.backend.name].capabilities
    if not submission.applicable():  # every file refused offline: start no backend (no podman, no kind download)
        yield LabRun(lab=lab, submission=submission, sandbox=OfflineSandbox(), timeouts=timeouts, capabilities=can)
        return
    backend: Backend = request.getfixturevalue("grader_backend")
    run_id = uuid.uuid4().hex[:8]
    sandbox = backend.open_sandbox(lab.id, run_id)
    run = LabRun(lab=lab, submission=submission, sandbox=sandbox, timeouts=timeouts, capabilities=can)
    try:
        run.apply_all()
        yield run
    finally:
        if interrupted.is_set():  # the student waits for this: say what it is (removing Pods takes seconds)
            _tell(request.config, f"grader: interrupted: removing what this run made ({sandbox.description}) ...")
        sandbox.close()
        if interrupted.is_set():
            _tell(request.config, "grader: removed.")


# -- Ctrl-C -----------------------------------------------------------------------------------------
@pytest.hookimpl(wrapper=True)
def pytest_runtest_protocol(item: pytest.Item, nextitem: pytest.Item | None) -> Generator[None, object, object]:
    """Ctrl-C (or SIGTERM) during a check stops the run after it, as pytest's -x stops it after a failure:
    pytest then tears the fixtures down (the Pods are removed) and says why it stopped, in the grader's
    words instead of a KeyboardInterrupt traceback; the summary gives no score for a run cut short."""
    try:
        return (yield)
    except KeyboardInterrupt:
        interrupted.set()
        counts = item.config.stash[NOT_RUN] = _not_run(item.session, item.config)
        not_run = sum(counts.values())
        # pytest says it as "Interrupted: 3 checks not run"
        item.session.shouldstop = f"{not_run} check{'s' if not_run != 1 else ''} not run"
        return True


def _not_run(session: pytest.Session, config: pytest.Config) -> dict[Lab, int]:
    """How many of each lab's collected checks have no result (they did not run, or were cut short)."""
    results, counts = config.stash[RESULTS], dict[Lab, int]()
    for item in session.items:
        marker = item.get_closest_marker(MARKER)
        if marker is None:
            continue
        lab, check = marker.kwargs["lab"], marker.kwargs["check"]
        done = {r.check.id for r in results.labs.get(lab, [])}
        counts[lab] = counts.get(lab, 0) + (check.id not in done)
    return counts


def _tell(config: pytest.Config, line: str) -> None:
    """A line to the user at once, also while pytest captures output (a fixture's teardown)."""
    capture = config.pluginmanager.getplugin("capturemanager")
    reporter = config.pluginmanager.getplugin("terminalreporter")
    if reporter is None:
        return
    if capture is None:
        reporter.write_line(line)
        return
    with capture.global_and_fixture_disabled():
        reporter.write_line(line)


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_call(item: pytest.Item) -> None:
    """The run knows which check is being graded: a cause is said in full by the first check it stops, and
    the later checks point to that one (graders/checks/pods.py because)."""
    marker = item.get_closest_marker(MARKER)
    run = item.funcargs.get("lab_run") if hasattr(item, "funcargs") else None
    if marker is not None and isinstance(run, LabRun):
        run.begin(marker.kwargs["check"])


# -- results ---------------------------------------------------------------------------------------
@pytest.hookimpl(tryfirst=True, specname="pytest_runtest_makereport")
def pytest_runtest_makereport_plain(item: pytest.Item, call: pytest.CallInfo[None]) -> pytest.TestReport | None:
    """A check's own verdict (CheckFailed, InfraError) as a report with its plain text: pytest's default
    formats a traceback by reading the source of every frame (about 40 ms a failure), and
    pytest_runtest_makereport below replaces it with the verdict anyway. (A second implementation of
    the hook, hence specname: pytest registers only functions whose name starts with pytest_.)"""
    error = call.excinfo.value if call.excinfo else None
    if not isinstance(error, (CheckFailed, InfraError)) or item.get_closest_marker(MARKER) is None \
            or call.when == "collect":
        return None
    sections = [(f"Captured {key} {when}", text) for when, key, text in getattr(item, "_report_sections", [])]
    return pytest.TestReport(item.nodeid, item.location, dict.fromkeys(item.keywords, 1), "failed", str(error),
                             call.when, sections, call.duration, call.start, call.stop,
                             user_properties=item.user_properties)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]
                               ) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    report: pytest.TestReport = yield
    marker = item.get_closest_marker(MARKER)
    if marker is None:
        return report
    check, lab = marker.kwargs["check"], marker.kwargs["lab"]
    results = item.config.stash[RESULTS]
    error = call.excinfo.value if call.excinfo else None
    run = item.funcargs.get("lab_run") if hasattr(item, "funcargs") else None
    notes = run.notes if isinstance(run, LabRun) else []
    if isinstance(error, InfraError):
        error = dataclasses.replace(error, problem=quoting.field(without_stack_traces(plain(error.problem))),
                                    tried=[quoting.field(plain(t)) for t in error.tried],
                                    fix=quoting.field(plain(error.fix)))
        report.longrepr = _blocks(item.config).block(lab, check, "error", str(error))
        # the network library's own log lines (retries, raw exceptions) say it again, in its terms
        report.sections = [(title, text) for title, text in report.sections if not title.startswith("Captured log")]
    elif isinstance(error, CheckFailed):
        error = runtime_words.for_student(error, verbose=item.config.get_verbosity() > 0)
        # What a Pod or a submission wrote (its log, its file names, the runtime's words about its command) is
        # quoted, never printed raw: graders/quoting.py says why.
        error = dataclasses.replace(error, expected=quoting.field(error.expected),
                                    observed=quoting.field(without_stack_traces(error.observed)),
                                    hint=quoting.field(error.hint),
                                    details=[(quoting.line(title), quoting.block(without_stack_traces(text)))
                                             for title, text in error.details])
        report.longrepr = _blocks(item.config).block(lab, check, "failed", str(error))
    if report.when == "call" or (report.when == "setup" and report.failed):
        status = "passed" if report.passed else ("failed" if isinstance(error, CheckFailed) else "error")
        results.record(lab, CheckResult(check=check, status=status, message=_message(error, notes),
                                        headline=getattr(error, "headline", "")))
        report.grader_status = status  # type: ignore[attr-defined]
        notes.clear()
    elif report.when == "teardown" and report.failed:
        results.mark_error(lab, check, _message(error, []))
    return report


def pytest_report_teststatus(report: pytest.TestReport) -> tuple[str, str, str] | None:
    if getattr(report, "grader_status", None) == "error" and report.when == "call":
        return "error", "E", "ERROR"
    return None


def pytest_terminal_summary(terminalreporter: Any, config: pytest.Config) -> None:
    for notice in config.stash.get(NOTICES, []):
        terminalreporter.write_line(notice)
    results = config.stash[RESULTS]
    if not results.labs:
        return
    backend = config.stash[SETTINGS].backend.name
    not_run = config.stash.get(NOT_RUN, {})
    for lab, checks in results.labs.items():
        terminalreporter.write_sep("=", f"grade: lab {lab.id} {lab.title}")
        for line in summary_lines(lab, checks, backend, not_run=not_run.get(lab, 0)):
            terminalreporter.write_line(line)


def pytest_sessionfinish(session: pytest.Session) -> None:
    settings = session.config.stash.get(SETTINGS, None)
    results = session.config.stash.get(RESULTS, None)
    if settings and settings.report and results and results.labs:
        try:
            write_report(settings.report, results)
        except OSError as error:  # checked at start; the disk can still fill up or the folder vanish
            session.config.get_terminal_writer().line(
                f"grader: could not write the grade report {settings.report}: {error.strerror or error}", red=True)
            session.exitstatus = pytest.ExitCode.INTERNAL_ERROR


# -- helpers ---------------------------------------------------------------------------------------
def _blocks(config: pytest.Config) -> FailureBlocks:
    """The run's failure texts: each cause in full once, later checks it stopped point to it."""
    return config.stash.setdefault(BLOCKS, FailureBlocks())


def _message(error: BaseException | None, notes: list[str]) -> str:
    if error is None:
        return " ".join(f"Note: {quoting.field(note)}" for note in notes)
    if isinstance(error, (CheckFailed, InfraError)):
        return str(error)
    return quoting.field(f"grader error ({type(error).__name__}: {error}); please report it to the course staff")


def _terminate_like_interrupt() -> None:
    """Ctrl-C and SIGTERM (what CI sends on cancel) unwind the run, so fixtures still remove the Pods."""
    def interrupt(signum: int, frame: Any) -> None:
        interrupted.set()
        raise KeyboardInterrupt(f"signal {signum}")

    try:
        signal.signal(signal.SIGTERM, interrupt)
        if signal.getsignal(signal.SIGINT) is signal.default_int_handler:
            signal.signal(signal.SIGINT, interrupt)
    except ValueError:
        pass  # not the main thread (pytester in-process runs): the outer run handles it
