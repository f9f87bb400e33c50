"""A field error as the API server words it, followed by a hint in the lesson's terms.

The API server answers an invalid object with `422 Invalid` and one line per field error, each
`<field path>: <kind>[: <value>][: <detail>]` (k8s.io/apimachinery pkg/util/validation/field/errors.go,
`ErrorBody`): the kind is `Invalid value`, `Unsupported value`, `Required value`, `Duplicate value`,
`Not found` or `Forbidden`; a value is printed with Go's %q when it is text and as is when it is a number.
Here each line keeps those words, so a student who meets the same error from `kubectl apply` later
recognises it, and adds a hint in parentheses.
"""

from __future__ import annotations

import json
from typing import Any, Sequence, TypeGuard

Problem = tuple[str, str]  # (field path, message)


def quote(value: Any) -> str:
    """A value as the API server prints it: text as Go's %q, numbers and booleans as they are."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return json.dumps(value, ensure_ascii=False)


def _with(text: str, hint: str) -> str:
    return f"{text} ({hint})" if hint else text


def invalid(value: Any, detail: str, hint: str = "") -> str:
    return _with(f"Invalid value: {quote(value)}: {detail}", hint)


def unsupported(value: Any, supported: Sequence[str], hint: str = "") -> str:
    """`Unsupported value: "x": supported values: "A", "B"`, in the order upstream lists them."""
    listed = ", ".join(json.dumps(item) for item in supported)
    return _with(f"Unsupported value: {quote(value)}: supported values: {listed}", hint)


def required(detail: str = "", hint: str = "") -> str:
    return _with("Required value" + (f": {detail}" if detail else ""), hint)


def duplicate(value: Any, hint: str = "") -> str:
    return _with(f"Duplicate value: {quote(value)}", hint)


def not_found(value: Any, hint: str = "") -> str:
    return _with(f"Not found: {quote(value)}", hint)


def forbidden(detail: str, hint: str = "") -> str:
    return _with(f"Forbidden: {detail}", hint)


def too_long(limit: int, hint: str = "") -> str:
    return _with(f"Too long: may not be more than {limit} bytes", hint)


def is_number(value: Any) -> TypeGuard[int | float]:
    """A YAML number (a boolean is no number here, although Python counts it as one)."""
    return isinstance(value, (int, float)) and not isinstance(value, bool)
