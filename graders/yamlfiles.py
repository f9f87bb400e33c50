"""Reading untrusted manifest files as `kubectl apply -f` reads them, with explicit limits, so that no
submission can hang or exhaust the grader: alias bombs, huge or deeply nested documents, binary data,
links out of the folder.

What kubectl does with a file, and so what this module does (each step names its upstream source):
1. The bytes are decoded as UTF-8, UTF-8 with a BOM, or UTF-16 LE or BE with a BOM (what Windows
   PowerShell 5.1's `>` writes): kubernetes staging/src/k8s.io/cli-runtime/pkg/resource/visitor.go,
   FileVisitor.Visit (`unicode.BOMOverride(unicode.UTF8.NewDecoder())`). A byte that is not UTF-8
   becomes U+FFFD; kubectl does not refuse it.
2. The text is JSON when its first non-space character (in the first 4096 bytes) is `{`, and then a
   stream of JSON values; since kubectl 1.33 a stream that stops being JSON after its first object goes
   on as YAML. Otherwise it is YAML, cut into documents at every line that starts with `---`, which
   may only be followed by a comment. Each document is parsed on its own, and only up to its first
   `...`. kubernetes/apimachinery pkg/util/yaml/decoder.go: NewYAMLOrJSONDecoder, GuessJSONStream,
   YAMLOrJSONDecoder.Decode, YAMLReader.Read.
3. Values are typed as kubectl's YAML library types them, and numbers as it sends them: yamlscalars.py.
4. An empty document (nothing, comments, `null`) is skipped (visitor.go StreamVisitor.Visit); a file or
   a folder with nothing else creates nothing.
5. An object with `items` (`kind: List`, `PodList`) stands for its items (visitor.go
   FlattenListVisitor; apimachinery pkg/apis/meta/v1/unstructured: an object with `items` decodes as a
   list). A List inside a List is refused, as kubectl refuses it.
The limits count the items of a List as documents.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator, Mapping

import yaml

from graders.yamlscalars import INT64, UINT64_MAX, Loader, json_number

MAX_FILES = 20  # .yaml/.yml files read from one submission folder
MAX_FILE_BYTES = 256 * 1024
MAX_DOCUMENTS = 20  # per file, the items of a List included
MAX_NODES = 10_000  # YAML nodes of one document, counting every alias as the nodes it repeats
MAX_DEPTH = 64  # nesting of one document
JSON_SNIFF_BYTES = 4096  # GuessJSONStream's look-ahead, as kubectl passes it (visitor.go)
# Go's unicode.IsSpace, which GuessJSONStream trims before it looks for `{`
GO_SPACES = "\t\n\v\f\r \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a" \
            "\u2028\u2029\u202f\u205f\u3000"
JSON_SPACES = " \t\n\r"  # what Go's encoding/json skips between values
LIST_KIND = ("v1", "List")


class UnreadableFile(Exception):
    """A file that is not read at all; the message says why, in the student's terms."""


@dataclass(frozen=True)
class Document:
    """One object of a file: `where` names it for messages ("", "document 2", "items[0]", ...)."""
    where: str
    value: Any


def read_documents(path: Path, folder: Path) -> list[Any]:
    """The objects of one manifest file of a submission folder, or UnreadableFile."""
    return [document.value for document in read_file(path, folder)]


def read_file(path: Path, folder: Path, list_kinds: Mapping[str, str] | None = None) -> list[Document]:
    """The objects of one manifest file, as kubectl would create them, or UnreadableFile.

    `list_kinds`: kind -> apiVersion of the kinds whose `<Kind>List` stands for its items (kubectl maps
    every kind the server has; `apiVersion: v1, kind: List` always)."""
    text = _decoded(_read_bytes(path, folder))
    found: list[tuple[int, Any]] = []
    count = 0
    for number, value in _documents(text):  # lazily: a file of many documents stops at the limit
        found.append((number, value))
        count += len(value["items"]) if _is_listing(value) and isinstance(value["items"], list) else 1
        if count > MAX_DOCUMENTS:
            raise UnreadableFile(f"holds more than {MAX_DOCUMENTS} YAML documents (each item of a List counts as "
                                 f"one), the limit for one file")
    return [document for number, value in found
            for document in _flattened(f"document {number}" if len(found) > 1 else "", value, list_kinds or {})]


# -- 1. bytes to text --------------------------------------------------------------------------------------
def _read_bytes(path: Path, folder: Path) -> bytes:
    try:
        resolved = path.resolve(strict=True)
    except (RuntimeError, OSError) as error:  # Python 3.11 raises RuntimeError on a loop, 3.13 OSError
        if path.is_symlink():
            raise UnreadableFile("is a link that leads nowhere (a loop of links, or a missing file): "
                                 "replace it with the file itself") from None
        raise UnreadableFile(f"cannot be read: {getattr(error, 'strerror', None) or error}") from None
    if path.is_symlink() and not resolved.is_relative_to(folder.resolve()):
        raise UnreadableFile("is a link to a file outside the submission folder: copy the file in instead")
    if not resolved.is_file():
        raise UnreadableFile("is not a regular file")
    with open(resolved, "rb") as file:
        data = file.read(MAX_FILE_BYTES + 1)
    if len(data) > MAX_FILE_BYTES:
        raise UnreadableFile(f"is larger than {MAX_FILE_BYTES // 1024} KiB, the limit for one file")
    return data


def _decoded(data: bytes) -> str:
    """BOMOverride: a BOM chooses UTF-8 or UTF-16 and is dropped; no BOM is UTF-8, a bad byte U+FFFD."""
    if data.startswith(b"\xef\xbb\xbf"):
        text = data[3:].decode("utf-8", "k8s101-go-replace")
    elif data.startswith((b"\xff\xfe", b"\xfe\xff")):
        text = data[2:].decode("utf-16-le" if data[0] == 0xFF else "utf-16-be", "replace")
    else:
        if len(data) >= 4 and data.count(0) * 3 >= len(data) and (data[1] == 0 or data[0] == 0):
            raise UnreadableFile("is UTF-16 text without a byte order mark, which kubectl cannot read either: "
                                 "save it as UTF-8 (in PowerShell: `Out-File -Encoding utf8`)")
        text = data.decode("utf-8", "k8s101-go-replace")
    if "\0" in text:  # YAML and JSON allow no control characters: kubectl refuses it too
        raise UnreadableFile("is a binary file, not YAML text")
    return text


# -- 2. text to documents ----------------------------------------------------------------------------------
def _documents(text: str) -> Iterator[tuple[int, Any]]:
    """(number, value) of every document with content, numbered as the student counts them (from 1)."""
    head = text.encode()[:JSON_SNIFF_BYTES].decode("utf-8", "ignore")
    if head.lstrip(GO_SPACES).startswith("{"):
        yield from _json_then_yaml(text)
    else:
        yield from _yaml_documents(text, 0, 1)


def _json_then_yaml(text: str) -> Iterator[tuple[int, Any]]:
    """A stream of JSON values; after a failure at the first or second value, the rest as YAML (the
    error shown, when YAML fails too, is JSON's, as kubectl shows it)."""
    decoder = json.JSONDecoder(parse_constant=_no_constant)
    position, count = 0, 0
    while True:
        start = position
        while position < len(text) and text[position] in JSON_SPACES:
            position += 1
        if position == len(text):
            return
        try:
            try:
                value, position = decoder.raw_decode(text, position)
            except _NotJson as constant:  # Python's json takes NaN and Infinity; Go's does not
                raise json.JSONDecodeError(f"{constant} is not a JSON value (JSON has no NaN or infinity)", text,
                                           text.find(str(constant), position)) from None
        except json.JSONDecodeError as error:
            if count > 1:
                raise UnreadableFile(_json_reason(error)) from None
            yaml_start = _after_first_newline(text, start)
            try:
                documents = list(_yaml_documents(text[yaml_start:], text.count("\n", 0, yaml_start), count + 1))
            except (UnreadableFile, yaml.YAMLError):
                raise UnreadableFile(_json_reason(error)) from None
            yield from documents
            return
        except RecursionError:
            raise UnreadableFile(f"is nested more than {MAX_DEPTH} levels deep, the limit") from None
        count += 1
        _measure_value(value, count)
        if value is not None:  # `null` is an empty document
            yield count, _sent(value)


def _after_first_newline(text: str, start: int) -> int:
    """consumeWhitespace: the whitespace after the last JSON value, up to and including a newline."""
    position = start
    while position < len(text) and text[position] in GO_SPACES:
        position += 1
        if text[position - 1] == "\n":
            break
    return position


class _NotJson(ValueError):
    """NaN, Infinity or -Infinity in a JSON document."""


def _no_constant(name: str) -> None:
    raise _NotJson(name)


def _json_reason(error: json.JSONDecodeError) -> str:
    return f"not valid JSON: line {error.lineno}, column {error.colno}: {error.msg}"


SEPARATOR = re.compile(r"^---(.*)$")
_LONE_SURROGATE = re.compile("[\ud800-\udfff]")


def _yaml_documents(text: str, first_line: int, first_number: int) -> Iterator[tuple[int, Any]]:
    """YAMLReader: documents end at a line starting with `---` (which is not part of either)."""
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    chunk: list[str] = []
    chunk_start = first_line
    number = first_number
    for index, raw in enumerate(lines):
        line = raw[:-1] if raw.endswith("\r") else raw  # bufio's ReadLine drops the \r of \r\n
        separator = SEPARATOR.match(line)
        if separator:
            rest = separator.group(1).strip()
            if rest and not rest.startswith("#"):
                raise UnreadableFile(f"line {first_line + index + 1}: `{_shown(line)}`: after a `---` document "
                                     f"separator only a comment may follow on its line (kubectl: invalid Yaml "
                                     f"document separator): put the text on the next line")
            found = _yaml_document(chunk, chunk_start) if chunk else None
            if found is not None:
                yield number, found
                number += 1
            chunk, chunk_start = [], first_line + index + 1
            continue
        chunk.append(line)
    if chunk:
        found = _yaml_document(chunk, chunk_start)
        if found is not None:
            yield number, found


def _yaml_document(lines: list[str], first_line: int) -> Any:
    """The first YAML document of one chunk (go-yaml's Unmarshal reads no further), or None when empty.
    Blank lines in front keep PyYAML's line numbers those of the file."""
    if all(not line.strip() or line.lstrip().startswith("#") for line in lines):
        return None  # comments only: skipped without building a parser
    loader = Loader("\n" * first_line + "\n".join(lines) + "\n")
    try:
        if not loader.check_node():
            return None
        node = loader.get_node()
        assert node is not None  # check_node() said a document follows
        size, height = _measure(node, {})
        if size > MAX_NODES:
            raise UnreadableFile(f"the document at line {first_line + 1} expands to more than {MAX_NODES} YAML "
                                 f"nodes (anchors and aliases count each time they are used): the limit")
        if height > MAX_DEPTH:
            raise RecursionError
        return _sent(loader.construct_document(node))
    except RecursionError:
        raise UnreadableFile(f"is nested more than {MAX_DEPTH} levels deep, the limit") from None
    finally:
        loader.dispose()


def _measure(node: yaml.Node, known: dict[int, tuple[int, int]]) -> tuple[int, int]:
    """(nodes, levels) of a document once every alias is expanded; memoized per node, so an alias
    bomb is measured, not built, and a node reached again through an alias counts again in full."""
    if id(node) in known:
        return known[id(node)]
    known[id(node)] = (MAX_NODES + 1, MAX_DEPTH + 1)  # a node that contains itself is over any limit
    if isinstance(node, yaml.SequenceNode):
        children = list(node.value)
    elif isinstance(node, yaml.MappingNode):
        children = [part for pair in node.value for part in pair]
    else:
        children = []
    size, height = 1, 0
    for child in children:
        child_size, child_height = _measure(child, known)
        size, height = size + child_size, max(height, child_height + 1)
        if size > MAX_NODES or height > MAX_DEPTH:
            break  # over a limit already: no need to measure the rest
    known[id(node)] = (size, height)
    return size, height


def _measure_value(value: Any, number: int) -> None:
    """The limits for a JSON document (no aliases: its nodes are its values)."""
    size, stack = 0, [(value, 0)]
    while stack:
        item, depth = stack.pop()
        size += 1
        if depth > MAX_DEPTH:
            raise UnreadableFile(f"is nested more than {MAX_DEPTH} levels deep, the limit")
        if size > MAX_NODES:
            raise UnreadableFile(f"JSON document {number} has more than {MAX_NODES} values: the limit")
        children = item.values() if isinstance(item, dict) else item if isinstance(item, list) else ()
        stack.extend((child, depth + 1) for child in children)


# -- 3. values as kubectl sends them ----------------------------------------------------------------------
def _sent(value: Any) -> Any:
    """The value as the JSON kubectl sends: numbers as json_number() says, no NaN or infinity, no
    integer beyond 64 bits (the graders' limit)."""
    if isinstance(value, dict):
        return {key: _sent(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_sent(item) for item in value]
    if isinstance(value, str):
        return _LONE_SURROGATE.sub("\ufffd", value)  # a JSON escape of half a pair: Go's encoding/json says U+FFFD
    if isinstance(value, float) and not math.isfinite(value):
        raise UnreadableFile("holds .nan or .inf (not a number, or infinity), which kubectl cannot send: JSON has "
                             "no such numbers; write a number, or quote it if it is meant as text")
    if isinstance(value, int) and not isinstance(value, bool) and not INT64[0] <= value <= UINT64_MAX:
        raise UnreadableFile(f"holds the number {_shown(str(value))}, larger than any Kubernetes field takes "
                             f"(64 bits): quote it if it is meant as text")
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return json_number(value)
    return value


# -- 5. lists ------------------------------------------------------------------------------------------------
def _is_listing(value: Any) -> bool:
    """What apimachinery's unstructured decoding takes for a list: an object with a non-null `items`."""
    return isinstance(value, dict) and value.get("items") is not None


def _flattened(where: str, value: Any, list_kinds: Mapping[str, str]) -> Iterator[Document]:
    if isinstance(value, list):  # a JSON array, or `- ` items at the top: kubectl validates no such object
        raise UnreadableFile(f"{where or 'the file'} is a list (`[...]` or `- ` items), not a Kubernetes object: "
                             f"write each object as a document of its own (separated by a `---` line), or put "
                             f"them under `items:` of an `apiVersion: v1`, `kind: List`")
    kind = value.get("kind") if isinstance(value, dict) else None
    if kind == "List" and (value.get("apiVersion") != "v1" or not isinstance(value.get("items"), list)):
        raise UnreadableFile(f"{_join(where, 'kind')}: a List needs `apiVersion: v1` (found "
                             f"{value.get('apiVersion')!r}) and its objects as a list under `items:` (kubectl: no "
                             f"matches for kind List in other versions)")
    if not _is_listing(value):
        yield Document(where, value)
        return
    version = value.get("apiVersion")
    label = _join(where, "items")
    is_list = (version, kind) == LIST_KIND or (
        isinstance(kind, str) and kind.endswith("List") and list_kinds.get(kind[:-4]) == version)
    if not is_list:
        if isinstance(kind, str) and list_kinds.get(kind) == version:  # kubectl reads it as a list, and drops it
            raise UnreadableFile(f"{_join(where, 'items')}: this {kind} has a top-level `items:` field, which makes "
                                 f"kubectl read it as a list of objects and create nothing of it: remove `items:`")
        yield Document(where, value)  # a kind no server has: refused as a kind, with its words
        return
    items = value["items"]
    if not isinstance(items, list):
        raise UnreadableFile(f"{label}: a {kind}'s items must be a list (`- apiVersion: ...` entries); "
                             f"found {type(items).__name__}")
    for index, item in enumerate(items):
        if item is None:
            raise UnreadableFile(f"{label}[{index}]: an empty item of a {kind}: write the object, or remove its `-`")
        if _is_listing(item):
            raise UnreadableFile(f"{label}[{index}]: a list inside a {kind}, which kubectl cannot read: put its "
                                 f"items in the outer list")
        yield Document(f"{label}[{index}]", item)


def _join(*parts: str) -> str:
    return ", ".join(part for part in parts if part)


def _shown(text: str) -> str:
    return text if len(text) <= 40 else f"{text[:30]}... ({len(text)} characters)"
