"""A page as a real browser renders it: Debian's headless chromium (scripts/setup-debian.sh installs it).

`render(page, work)` loads a local page with the network off and returns what it shows (the DOM after
rendering, read back by `Page`), and can take a screenshot and print it to PDF. Where chromium is missing,
the test that asked is skipped, saying so.
"""

from __future__ import annotations

import re
import shutil
import struct
import subprocess
import uuid
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest

# As the build machines' notes say chromium must run here: as root, no GPU, and none of its own connections
# (the machine's closed network refuses them, and it would look up Google's hosts at every start).
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync", "--hide-scrollbars",
         "--disable-extensions", "--disable-default-apps", "--mute-audio"]
TIMEOUT = 120  # seconds for one chromium command on a busy machine (about 2 s on an idle one)


def chromium() -> str:
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found is None:
        pytest.skip("chromium is not installed: `apt-get install chromium` (scripts/setup-debian.sh installs it)")
    return found


def run(page: Path, work: Path, *args: str) -> subprocess.CompletedProcess[str]:
    profile = work / f"chromium-profile-{uuid.uuid4().hex[:8]}"  # a fresh profile every time
    try:
        result = subprocess.run([chromium(), *FLAGS, f"--user-data-dir={profile}", *args, page.resolve().as_uri()],
                                capture_output=True, text=True, timeout=TIMEOUT, stdin=subprocess.DEVNULL)
    finally:
        shutil.rmtree(profile, ignore_errors=True)
    assert result.returncode == 0, result.stderr[-2000:]
    return result


def render(page: Path, work: Path, screenshot: Path | None = None, pdf: Path | None = None,
           size: tuple[int, int] = (1280, 900)) -> "Page":
    dom = run(page, work, "--dump-dom").stdout
    if screenshot is not None:
        run(page, work, f"--window-size={size[0]},{size[1]}", f"--screenshot={screenshot}")
    if pdf is not None:
        run(page, work, "--no-pdf-header-footer", f"--print-to-pdf={pdf}")
    return Page.parse(dom)


@dataclass
class Element:
    tag: str
    attrs: dict[str, str]
    text: str = ""
    children: list["Element"] = field(default_factory=list)

    def find(self, tag: str = "", **attrs: str) -> list["Element"]:
        found = [self] if (not tag or self.tag == tag) and all(
            self.attrs.get(name.replace("_", "-")) == value for name, value in attrs.items()) else []
        return found + [e for child in self.children for e in child.find(tag, **attrs)]

    def has(self, attribute: str) -> list["Element"]:
        return ([self] if attribute in self.attrs else []) + [e for c in self.children for e in c.has(attribute)]

    def all_text(self) -> str:
        return self.text + "".join(child.all_text() for child in self.children)


VOID = {"meta", "link", "br", "img", "input", "hr", "source", "area", "base", "col", "embed", "param", "track", "wbr"}


class _Builder(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.root = Element("document", {})
        self.stack = [self.root]

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        element = Element(tag, {name: value or "" for name, value in attrs})
        self.stack[-1].children.append(element)
        if tag not in VOID:
            self.stack.append(element)

    def handle_endtag(self, tag: str) -> None:
        for index in range(len(self.stack) - 1, 0, -1):
            if self.stack[index].tag == tag:
                del self.stack[index:]
                break

    def handle_data(self, data: str) -> None:
        holder = self.stack[-1]
        if holder.children:  # text after a child element: keep it in order as a text node
            holder.children.append(Element("#text", {}, data))
        else:
            holder.text += data


@dataclass
class Page:
    root: Element
    html: str

    @classmethod
    def parse(cls, html: str) -> "Page":
        builder = _Builder()
        builder.feed(html)
        return cls(builder.root, html)

    def rates(self, lab: str) -> dict[str, tuple[str, str]]:
        """check -> (its pass rate, its points lost) as the page shows them for a lab."""
        [section] = self.root.find("section", data_lab=lab)
        shown = {}
        for row in section.has("data-check"):
            cells = {cell.attrs.get("class", ""): cell.all_text().strip() for cell in row.find("td")}
            shown[row.attrs["data-check"]] = (cells["rate"], cells["lost"])
        return shown

    def text(self) -> str:
        return re.sub(r"\s+", " ", self.root.all_text())


def expected_rates(grades: dict[str, Any], lab: str) -> dict[str, tuple[str, str]]:
    """check -> (`passed/graded, N%`, its points lost), counted from grades.json, as the page should show them."""
    counts: dict[str, list[int]] = {}
    for student in grades["students"]:
        result = student["labs"][lab]
        if result["status"] != "graded":
            continue
        for check in result["report"]["checks"]:
            passed, graded, lost = counts.setdefault(check["id"], [0, 0, 0])
            counts[check["id"]] = [passed + check["passed"], graded + 1, lost + check["max_points"] - check["points"]]
    return {check: (f"{passed}/{graded}, {round(100 * passed / graded)}%",
                    "none lost" if lost == 0 else f"−{lost} points")
            for check, (passed, graded, lost) in counts.items()}


def png_size(path: Path) -> tuple[int, int]:
    """Width and height from a PNG's IHDR chunk."""
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", f"{path} is not a PNG"
    width, height = struct.unpack(">II", data[16:24])
    return width, height


def pdf_pages(path: Path) -> int:
    """Pages of a PDF chromium printed (its page tree states their count)."""
    counts = [int(n) for n in re.findall(rb"/Type\s*/Pages\b[^>]*?/Count\s+(\d+)", path.read_bytes(), re.DOTALL)]
    counts += [int(n) for n in re.findall(rb"/Count\s+(\d+)[^>]*?/Type\s*/Pages\b", path.read_bytes(), re.DOTALL)]
    assert counts, f"{path}: no page tree found"
    return max(counts)
