"""What a Pod wrote reaches a terminal, the JSON report and a GitHub Actions log quoted, never raw (issue 20, 6).

The Actions runner looks for a workflow command at the start of each line after trimming its leading whitespace
(actions/runner src/Runner.Common/ActionCommand.cs, TryParseV2), so indentation alone does not disarm
`::add-mask::`: every quoted line starts with `| ` instead; and it finds the legacy `##[command]` anywhere in a
line (TryParse there), so `##[` is escaped wherever it stands."""

from __future__ import annotations

import re

from graders import quoting
from graders.errors import CheckFailed

HOSTILE_LOG = ("starting\x1b[2J\x1b[31m red\x1b]0;title\x07\n\x9b csi\x0bvertical\n::add-mask::secret\n"
               "  ::error title=Forged::all good\nScore: 100/100 (backend podman)\n\u202etxt.exe\n"
               "ok ##[error]legacy\n")
# A line GitHub Actions would run as a workflow command, or a reader take for the grader's score.
ACTIONS_COMMAND = re.compile(r"^\s*::|##\[", re.M)
SCORE_LINE = re.compile(r"^\s*score\s*:", re.M | re.I)
RAW_CONTROL = re.compile("[\x00-\x09\x0b-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e]")


def test_a_quoted_block_has_no_raw_control_character_and_no_line_a_runner_or_reader_would_act_on() -> None:
    quoted = quoting.block(HOSTILE_LOG)
    assert not RAW_CONTROL.search(quoted)
    assert not ACTIONS_COMMAND.search(quoted) and not SCORE_LINE.search(quoted)
    assert "\\x1b[2J" in quoted and "\\x9b csi\\x0bvertical" in quoted and "\\u202etxt.exe" in quoted
    assert "| ::add-mask::secret" in quoted and "| Score: 100/100" in quoted  # still readable, as quoted text


def test_a_failure_that_quotes_a_log_prints_safely_as_the_plugin_renders_it() -> None:
    failure = CheckFailed(expected="x", observed=quoting.field("::error::forged\nScore: 100/100"),
                          details=[("Last log lines of p/c", quoting.block(HOSTILE_LOG))])
    text = str(failure)
    assert not RAW_CONTROL.search(text.replace("\n", ""))
    assert not ACTIONS_COMMAND.search(text) and not SCORE_LINE.search(text)
    assert text.splitlines()[1] == "Observed: | ::error::forged"


def test_quoted_lines_and_blocks_are_bounded() -> None:
    quoted = quoting.block("x" * 100_000 + "\n" + "y\n" * 1000)
    lines = quoted.splitlines()
    assert len(lines) == quoting.MAX_LINES + 1 and lines[0] == "(961 earlier lines left out)"
    assert quoting.line("x" * 100_000).endswith("… (99700 more characters)")
    assert len(quoting.field("z" * 100_000)) < quoting.MAX_FIELD + 50


def test_the_graders_own_text_is_left_as_it_is() -> None:
    own = "Expected: Pod web Running\nthe request to localhost:80 got HTTP 404"
    assert quoting.field(own) == own and quoting.escape("tab\tand\nnewline") == "tab\\x09and\nnewline"
