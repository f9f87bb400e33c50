"""Text that a Pod or a submission wrote, made safe to show in a terminal, a JSON report and a GitHub Actions log.

A container's log lines, file names in its volumes, the runtime's messages about its command and the names in a
student's files end up in failure messages. Shown as they are, they could drive the reader's terminal (ESC and
CSI sequences, C1 controls such as \\x9b, vertical tabs), run GitHub workflow commands (a line that starts with
`::add-mask::` or `::error ...::`, also after spaces, and the legacy `##[command]` anywhere in a line: the
Actions runner trims a line's leading whitespace before it looks for `::`, and looks for `##[` anywhere;
actions/runner src/Runner.Common/ActionCommand.cs, TryParseV2 and TryParse), or pass for the grader's own
verdict (a line `Score: 100/100`). So, as the checks quote the YAML (escaped, never raw):
- control and format characters are written as escapes (`\\x1b`, `\\u202e`), newlines only where lines are meant,
  and `##[` as `#\\x23[`;
- a line that would start with `::` or `Score:` is prefixed with `| `, and quoted blocks (logs, events) have
  `| ` before every line;
- lines and blocks are bounded in length.
"""

from __future__ import annotations

import re

MAX_LINE = 300  # characters of one quoted line of a Pod's output
MAX_LINES = 40  # lines of one quoted block
MAX_FIELD = 4000  # characters of one field of a message (Observed, Hint...)
QUOTE_MARK = "| "
# C0 controls but the newline, DEL, C1 controls, and the invisible format characters that reorder or hide text
# (soft hyphen, bidi marks and overrides, zero-width characters, line and paragraph separators, BOM).
_UNSAFE = re.compile("[\x00-\x09\x0b-\x1f\x7f-\x9f\u00ad\u061c\u180e\u200b-\u200f\u2028-\u202e\u2060-\u206f"
                     "\ufeff\ufff9-\ufffb\ud800-\udfff]")
_UNSAFE_OR_NEWLINE = re.compile(f"{_UNSAFE.pattern[:-1]}\n]")
# What GitHub Actions or a reader would take for the grader's own line: a workflow command (after the
# whitespace the runner trims), or a score.
_LOOKS_OWN = re.compile(r"\s*(::|score\s*:)", re.IGNORECASE)


def _escaped(match: re.Match[str]) -> str:
    code = ord(match.group(0))
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


LEGACY_COMMAND = "##["  # the Actions runner's older workflow command, recognised anywhere in a line


def escape(text: str) -> str:
    """Control and format characters as escapes, and the legacy workflow command's `##[`; newlines kept."""
    return _UNSAFE.sub(_escaped, text).replace(LEGACY_COMMAND, "#\\x23[")


def shorten(text: str, limit: int) -> str:
    return text if len(text) <= limit else f"{text[:limit]}… ({len(text) - limit} more characters)"


def line(text: str, limit: int = MAX_LINE) -> str:
    """One line: every control character escaped (newlines too), at most `limit` characters (plus the note)."""
    return shorten(_UNSAFE_OR_NEWLINE.sub(_escaped, text).replace(LEGACY_COMMAND, "#\\x23["), limit)


def neutral(text: str) -> str:
    """A line that cannot pass for a workflow command or the grader's score: such a line gets `| ` before it."""
    return QUOTE_MARK + text if _LOOKS_OWN.match(text) else text


def field(text: str, limit: int = MAX_FIELD) -> str:
    """A field of a message (Expected, Observed, Hint, a problem): escaped, bounded, and no line of it can be
    read as a workflow command or a score."""
    return "\n".join(neutral(part) for part in shorten(escape(text), limit).split("\n"))


def block(text: str, max_lines: int = MAX_LINES, limit: int = MAX_LINE) -> str:
    """Lines a Pod wrote (its log, its events), quoted: each escaped, bounded, and with `| ` before it, so none
    starts with `::` or `Score:`; at most `max_lines` of them, the last ones (a log's end says most)."""
    lines = text.rstrip("\n").split("\n") if text.strip() else []
    dropped = max(0, len(lines) - max_lines)
    shown = [QUOTE_MARK + line(part, limit) for part in lines[dropped:]]
    return "\n".join(([f"({dropped} earlier lines left out)"] if dropped else []) + shown)
