"""Reading untrusted YAML files with explicit limits, so that no submission can hang or exhaust
the grader: alias bombs, huge or deeply nested documents, binary data, links out of the folder."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

MAX_FILES = 20  # .yaml/.yml files read from one submission folder
MAX_FILE_BYTES = 256 * 1024
MAX_DOCUMENTS = 20  # per file
MAX_NODES = 10_000  # YAML nodes of one document, counting every alias as the nodes it repeats
MAX_DEPTH = 64  # nesting of one document


class UnreadableFile(Exception):
    """A file that is not read at all; the message says why, in the student's terms."""


def read_documents(path: Path, folder: Path) -> list[Any]:
    """The documents of one YAML file of a submission folder, or UnreadableFile."""
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
    if b"\0" in data:
        raise UnreadableFile("is a binary file, not YAML text")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as error:
        raise UnreadableFile(f"is not UTF-8 text (byte {error.start}): save it as UTF-8") from None
    if not text.strip():
        raise UnreadableFile("is empty: write the lab's Pod in it, or delete it")
    return _parse(text)


class _Loader(yaml.SafeLoader):
    """SafeLoader that refuses integers no Kubernetes field takes, with their line: beyond Python's own
    limit the conversion raises ValueError, and a huge hex number converts but cannot be printed."""

    def construct_yaml_int(self, node: yaml.ScalarNode) -> Any:
        try:
            value = super().construct_yaml_int(node)
        except ValueError:
            value = None
        if value is None or not -2 ** 63 <= value < 2 ** 64:
            text = str(node.value)
            shown = text if len(text) <= 20 else f"{text[:12]}... ({len(text)} characters)"
            raise yaml.constructor.ConstructorError(
                None, None, f"the number {shown} is larger than any Kubernetes field takes (64 bits); "
                            f"quote it if it is meant as text", node.start_mark)
        return value


_Loader.add_constructor("tag:yaml.org,2002:int", _Loader.construct_yaml_int)


def _parse(text: str) -> list[Any]:
    loader = _Loader(text)
    documents: list[Any] = []
    try:
        while loader.check_node():
            if len(documents) == MAX_DOCUMENTS:
                raise UnreadableFile(f"holds more than {MAX_DOCUMENTS} YAML documents, the limit for one file")
            node = loader.get_node()
            assert node is not None  # check_node() said a document follows
            size, height = _measure(node, {})
            if size > MAX_NODES:
                raise UnreadableFile(f"document {len(documents) + 1} expands to more than {MAX_NODES} YAML nodes "
                                     f"(anchors and aliases count each time they are used): the limit")
            if height > MAX_DEPTH:
                raise RecursionError
            documents.append(loader.construct_document(node))
    except RecursionError:
        raise UnreadableFile(f"is nested more than {MAX_DEPTH} levels deep, the limit") from None
    finally:
        loader.dispose()
    if not any(document is not None for document in documents):
        raise UnreadableFile("holds only comments or empty documents: write the lab's Pod in it, or delete it")
    return documents


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
