"""Names and keys as the API server checks them: DNS labels and subdomains, qualified names (label
and annotation keys), label values, port names, environment variable names, HTTP header names.

Rules and wording: k8s.io/apimachinery pkg/util/validation/validation.go (IsDNS1123Label,
IsDNS1123Subdomain, IsQualifiedName, IsValidLabelValue, IsValidPortName, IsRelaxedEnvVarName,
IsHTTPHeaderName) and pkg/apis/meta/v1/validation/validation.go (ValidateLabels).
"""

from __future__ import annotations

import re
from typing import Any

from graders.validation.errors import Problem, invalid, too_long

_LABEL = r"[a-z0-9]([-a-z0-9]*[a-z0-9])?"
_SUBDOMAIN = rf"{_LABEL}(\.{_LABEL})*"
_QUALIFIED_NAME = r"([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]"
_LABEL_VALUE = rf"({_QUALIFIED_NAME})?"

LABEL_MESSAGE = (f"a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must "
                 f"start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for "
                 f"validation is '{_LABEL}')")
SUBDOMAIN_MESSAGE = (f"a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', "
                     f"and must start and end with an alphanumeric character (e.g. 'example.com', regex used for "
                     f"validation is '{_SUBDOMAIN}')")
QUALIFIED_NAME_MESSAGE = (f"name part must consist of alphanumeric characters, '-', '_' or '.', and must start and "
                          f"end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex "
                          f"used for validation is '{_QUALIFIED_NAME}')")
LABEL_VALUE_MESSAGE = (f"a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', "
                       f"and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or "
                       f"'12345', regex used for validation is '{_LABEL_VALUE}')")
# Kubernetes 1.34 made RelaxedEnvironmentVariableValidation GA: the API server of the graders' pinned
# version (graders/versions.py) accepts any printable ASCII name without '='. The older C-identifier-ish
# rule ([-._a-zA-Z][-._a-zA-Z0-9]*) would refuse names that kind accepts, so it is not used.
ENV_NAME_MESSAGE = "a valid environment variable name must consist only of printable ASCII characters other than '='"
PORT_RANGE_MESSAGE = "must be between 1 and 65535, inclusive"

HINT_NAME = "use lower-case letters, digits and '-' only, e.g. log-shipper"


def dns1123_label(value: str) -> list[str]:
    errors = ["must be no more than 63 characters"] if len(value) > 63 else []
    if not re.fullmatch(_LABEL, value):
        errors.append("must not contain dots" if re.fullmatch(_SUBDOMAIN, value) else LABEL_MESSAGE)
    return errors


def dns1123_subdomain(value: str) -> list[str]:
    return _within(value, 253, _SUBDOMAIN, SUBDOMAIN_MESSAGE)


def _within(value: str, most: int, pattern: str, message: str) -> list[str]:
    """The two findings of most of the API server's name rules: too long, and not of the pattern."""
    errors = [f"must be no more than {most} characters"] if len(value) > most else []
    if not re.fullmatch(pattern, value):
        errors.append(message)
    return errors


def port_name(value: str) -> list[str]:
    """IANA_SVC_NAME, lower case only, as the API server checks it."""
    errors = ["must be no more than 15 characters"] if len(value) > 15 else []
    if not re.fullmatch(r"[-a-z0-9]+", value):
        errors.append("must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)")
    if not re.search(r"[a-z]", value):
        errors.append("must contain at least one letter (a-z)")
    if "--" in value:
        errors.append("must not contain consecutive hyphens")
    if value.startswith("-") or value.endswith("-"):
        errors.append("must not begin or end with a hyphen")
    return errors


def env_name(value: str) -> list[str]:
    if not value:
        return ["environment variable name must be non-empty"]
    if any(not 32 <= ord(char) <= 126 or char == "=" for char in value):
        return [ENV_NAME_MESSAGE]
    return []


def label_key(key: str) -> list[str]:
    prefix, slash, name = key.rpartition("/")
    errors = []
    if slash and not prefix:
        errors.append("prefix part must be non-empty")
    elif prefix:
        errors += [f"prefix part {message}" for message in dns1123_subdomain(prefix)]
    if not name:
        errors.append("name part must be non-empty")
    elif len(name) > 63:
        errors.append("name part must be no more than 63 characters")
    if name and not re.fullmatch(_QUALIFIED_NAME, name):
        errors.append(QUALIFIED_NAME_MESSAGE)
    if key.count("/") > 1:
        errors = ["a qualified name must consist of alphanumeric characters, '-', '_' or '.', and must start and "
                  "end with an alphanumeric character, with an optional DNS subdomain prefix and '/' "
                  "(e.g. 'example.com/MyName')"]
    return errors


def label_value(value: str) -> list[str]:
    return _within(value, 63, _LABEL_VALUE, LABEL_VALUE_MESSAGE)


def http_header_name(value: str) -> list[str]:
    if re.fullmatch(r"[-A-Za-z0-9]+", value):
        return []
    return ["a valid HTTP header must consist of alphanumeric characters or '-' (e.g. 'X-Header-Name', regex used "
            "for validation is '[-A-Za-z0-9]+')"]


_LABELS_HINT = "label keys and values: letters, digits, '-', '_' and '.', starting and ending with a letter or digit"
ANNOTATIONS_LIMIT = 256 * 1024  # bytes of keys and values together (apimachinery objectmeta.go)


def labels(found: Any, where: str, hint: str = _LABELS_HINT) -> list[Problem]:
    """A map of labels (metadata.labels, spec.nodeSelector). Upstream reports the map's path; the
    key is added to a value's path here, so that the student sees which line."""
    problems: list[Problem] = []
    for key, value in (found.items() if isinstance(found, dict) else []):
        if isinstance(key, str):
            problems += [(where, invalid(key, message, hint)) for message in label_key(key)]
        if isinstance(value, str):
            problems += [(f"{where}.{key}", invalid(value, message, hint)) for message in label_value(value)]
    return problems


def annotation_keys(found: Any, where: str) -> list[Problem]:
    """Annotation keys are qualified names whatever their case; their values are free text."""
    problems: list[Problem] = []
    hint = "an annotation key is a name such as description or example.com/owner; put the text in its value"
    for key in (found if isinstance(found, dict) else {}):
        if isinstance(key, str):
            problems += [(where, invalid(key, message, hint)) for message in label_key(key.lower())]
    size = sum(len(str(key).encode()) + len(str(value).encode()) for key, value in
               (found.items() if isinstance(found, dict) else []))
    if size > ANNOTATIONS_LIMIT:
        problems.append((where, too_long(ANNOTATIONS_LIMIT, "all annotations together: keep notes short")))
    return problems
