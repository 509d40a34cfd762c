"""``layout serve``: live proofs in the browser.

The rounds are ``layout watch``'s (``watch.rounds``: the same warm workers, one compose a save).
After each round the server reads what the compose wrote (``fit.json``, ``text.json``, the proof
or issue PDF, ``proofs/.pages.json``) and tells every open browser, by server-sent events, what
changed; the browser then asks for the page images it needs, changed pages first, at the resolution
it shows them at. Page images are rendered on demand from the round's PDF with pypdfium2 at 50, 100,
200 or 300 dpi and cached by the page's hash, so an unchanged page is never drawn twice.

Security: the server binds 127.0.0.1 unless told otherwise; it answers only its own routes, serves
files only from the issue's outputs (never through ``..``, an encoded ``..``, a dot folder or a
symlink), refuses a request whose Host is not its own (DNS rebinding), and takes one POST, the
editor action, only with a JSON body, a matching Origin and Host, from a loopback client, for a file
inside the issue's folder.
"""

from __future__ import annotations

import collections
import contextlib
import hashlib
import http.server
import ipaddress
import json
import mimetypes
import os
import re
import shlex
import signal
import socket
import subprocess
import threading
import time
import urllib.parse
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pypdfium2

from ..base.files import stamp
from ..build import Project
from ..composing.fit import HOLE_LINES
from ..errors import LayoutError
from ..reading.manifest import find_issue
from ..reading.settings import load_settings
from ..rendering.workers import Workers, holding
from .diff import compare
from .watch import Round, rounds

STATIC = Path(__file__).parent / "static"
STATIC_FILES = {"index.html": "text/html; charset=utf-8", "app.js": "text/javascript; charset=utf-8",
                "app.css": "text/css; charset=utf-8", "favicon.svg": "image/svg+xml"}
DPIS = (50, 100, 200, 300)
"""Resolutions a page image is drawn at: the browser asks for the smallest that is sharp at its zoom."""
KEPT_ROUNDS = 4
"""Rounds whose PDFs are kept to draw pages from (the current one, the one to compare, and a margin)."""
IMAGE_CACHE = 192 * 1024 * 1024
"""Bytes of page images kept in memory (a tabloid page is about 1 MB at 100 dpi, 6 MB at 300)."""
PING_SECONDS = 15.0
WORD = re.compile(r"\w+(?:['’-]\w+)*")


@dataclass
class PageSet:
    """The pages of one round that wrote pages: the PDF they are drawn from and each page's key."""

    round: int
    pdf: bytes
    keys: list[str]
    geometry: list[dict]
    document: pypdfium2.PdfDocument | None = None


class Pages:
    """Page images, drawn on demand from the PDFs of the last rounds, cached by page key and dpi.

    pdfium is not thread-safe, so one lock guards every call into it; ctypes lets go of the GIL
    while it draws, so the rounds go on meanwhile."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.sets: collections.deque[PageSet] = collections.deque()
        self.images: collections.OrderedDict[tuple[str, int], bytes] = collections.OrderedDict()
        self.kept = 0

    def add(self, round_number: int, pdf: bytes, known: list[str] | None) -> PageSet:
        """Keep the PDF of a round; return its pages (their keys, and each page's boxes)."""
        with self.lock:
            document = pypdfium2.PdfDocument(pdf)
            count = len(document)
            if known is None or len(known) != count:  # no proof index: every page is new
                whole = hashlib.sha256(pdf).hexdigest()
                known = [f"{whole[:48]}-{n}" for n in range(count)]
            geometry = [_geometry(document[index]) for index in range(count)]
            pages = PageSet(round_number, pdf, list(known), geometry, document)
            self.sets.append(pages)
            while len(self.sets) > KEPT_ROUNDS:
                old = self.sets.popleft()
                if old.document is not None:
                    old.document.close()
                    old.document = None
            return pages

    def png(self, key: str, dpi: int) -> bytes | None:
        """The page ``key`` drawn at ``dpi``, or None if no kept round has it."""
        with self.lock:
            if (key, dpi) in self.images:
                self.images.move_to_end((key, dpi))
                return self.images[(key, dpi)]
            for pages in reversed(self.sets):
                if key in pages.keys and pages.document is not None:
                    page = pages.document[pages.keys.index(key)]
                    image = page.render(scale=dpi / 72).to_pil()
                    break
            else:
                return None
        from ..press.proofs import png_of  # (Pillow: only once a page is asked for)

        data = png_of(image)
        with self.lock:
            if (key, dpi) not in self.images:
                self.images[(key, dpi)] = data
                self.kept += len(data)
            while self.kept > IMAGE_CACHE and len(self.images) > 1:
                self.kept -= len(self.images.popitem(last=False)[1])
        return data

    def close(self) -> None:
        with self.lock:
            for pages in self.sets:
                if pages.document is not None:
                    pages.document.close()
                    pages.document = None


def _geometry(page: pypdfium2.PdfPage) -> dict:
    """The drawn area (crop box) and the trim inside it, in points: where slot boxes go on the image."""
    left, bottom, right, top = page.get_cropbox()
    t_left, t_bottom, t_right, t_top = page.get_trimbox()
    return {"width": right - left, "height": top - bottom,
            "trim": [t_left - left, top - t_top, t_right - t_left, t_top - t_bottom]}


def slot_status(slot: dict) -> str:
    """``over``, ``hole`` (a column other than the last ends short), ``short`` (white at the foot),
    ``jumped`` (jumps on, or continues a jump) or ``fits``."""
    if slot["over"]:
        return "over"
    if any(short > HOLE_LINES for short in slot.get("column_short", [])[:-1]):
        return "hole"
    if slot["short"] > HOLE_LINES:
        return "short"
    if slot.get("jump_to") or slot.get("continued_from"):
        return "jumped"
    return "fits"


def _words(slot: dict, text: str) -> tuple[int, int]:
    """Words over and short: the fit report's own counts if it has them, else the slot's lines over
    and short at the words a line of its set text holds."""
    if "words_over" in slot or "words_short" in slot:
        return int(slot.get("words_over") or 0), int(slot.get("words_short") or 0)
    lines = slot["used"] + slot["over"] + slot.get("jumped_lines", 0)
    per_line = len(WORD.findall(text)) / lines if lines else 0
    return round(slot["over"] * per_line), round(slot["short"] * per_line)


@dataclass
class Outputs:
    """What the last compose that wrote pages left, as the browser is shown it."""

    round: int
    pages: list[dict]
    slots: list[dict]
    holes: list[str]
    warnings: list[str]


class Proofs:
    """The state the browser shows: rounds, pages, fit and errors; each change is published."""

    def __init__(self, project: Project, issue_id: str) -> None:
        self.project = project
        self.issue_id = issue_id
        self.out = project.build(issue_id)
        self.folder = find_issue(project.issues, issue_id).resolve()
        self.pages = Pages()
        self.changed = threading.Condition()
        self.version = 0
        self.closing = False
        self.state: dict = {"issue": issue_id, "round": 0, "phase": "starting", "pages": [], "slots": [],
                            "previous": None, "changes": [], "error": None, "pages_round": 0}
        self._signature: tuple | None = None
        self._current: Outputs | None = None
        self._previous: Outputs | None = None
        self._diff: threading.Thread | None = None

    # -- publishing ---------------------------------------------------------------------------
    def publish(self, **changes: object) -> None:
        with self.changed:
            self.state = {**self.state, **changes}
            self.version += 1
            self.changed.notify_all()

    def wait(self, seen: int, timeout: float) -> tuple[int, dict | None]:
        """Wait for a version after ``seen``: return it and the state (None on timeout or close)."""
        with self.changed:
            self.changed.wait_for(lambda: self.version > seen or self.closing, timeout)
            if self.closing or self.version <= seen:
                return seen, None
            return self.version, self.state

    def close(self) -> None:
        with self.changed:
            self.closing = True
            self.changed.notify_all()
        self.pages.close()

    # -- rounds -------------------------------------------------------------------------------
    def composing(self, changed: tuple[Path, ...]) -> None:
        """A save was seen: the browser says so while the round runs (the last round's diff, which
        reads ``previous/``, is let finish before the compose replaces it)."""
        self.publish(phase="composing", saved=[self._shown(p) for p in changed], saved_at=time.time())
        self.diffed()

    def finished(self, done: Round) -> None:
        """Read what the round wrote and publish it; then work out what changed since the round before."""
        wrote = self._read_outputs(done.number)
        current = self._current
        error = _error(done.error, self.project, self.folder) if done.error is not None else None
        previous = self._previous
        keys_before = {p["number"]: p["key"] for p in previous.pages} if previous else {}
        pages = [] if current is None else [
            {**page, "changed": wrote and keys_before.get(page["number"]) != page["key"]} for page in current.pages]
        self.publish(
            phase="done", round=done.number, seconds=round(done.seconds, 3), finished=done.finished,
            trigger=done.trigger, saved=[self._shown(p) for p in done.changed], error=error,
            wrote=wrote, pages_round=current.round if current else 0, pages=pages,
            slots=current.slots if current else [], holes=current.holes if current else [],
            warnings=list(done.result.warnings) if done.result is not None else self.state.get("warnings", []),
            previous=({"round": previous.round, "pages": previous.pages, "slots": previous.slots}
                      if previous else None),
            changes=self.state["changes"] if not wrote else [])
        if wrote and previous is not None:  # beside the browser fetching the new pages, not before
            self._diff = threading.Thread(target=self._publish_changes, args=(done.number,), name="layout-serve-diff",
                                          daemon=True)
            self._diff.start()

    def _publish_changes(self, round_number: int) -> None:
        try:
            changes = self._changes()
        except Exception as exc:  # the diff is a help: its failure is said, and the round stands
            changes = [{"kind": "error", "what": "diff", "detail": f"{type(exc).__name__}: {exc}", "areas": []}]
        with self.changed:
            if self.state["round"] == round_number:
                self.publish(changes=changes)

    def diffed(self) -> None:
        """Wait for the last round's diff (if it is still being worked out)."""
        if self._diff is not None:
            self._diff.join()
            self._diff = None

    def _read_outputs(self, round_number: int) -> bool:
        """Read the outputs if this round wrote them (their files are new); return whether it did."""
        names = ("fit.json", f"{self.issue_id}.pdf", f"{self.issue_id}-proof.pdf", "proofs/.pages.json")
        signature = tuple(stamp(self.out / name, racy=False) for name in names)
        if signature == self._signature or signature[0] is None or signature[1] is None:
            return False
        self._signature = signature
        fit = json.loads((self.out / "fit.json").read_text(encoding="utf-8"))
        texts = _read_json(self.out / "text.json") or {}
        proof = self.out / f"{self.issue_id}-proof.pdf"
        pdf = (proof if proof.exists() else self.out / f"{self.issue_id}.pdf").read_bytes()
        index = _read_json(self.out / "proofs" / ".pages.json") or {}
        known = [index.get(f"p{n:02d}.png") for n in range(1, len(index) + 1)]
        pages = self.pages.add(round_number, pdf, [str(k) for k in known] if all(known) else None)
        geometry = {n: g for n, g in enumerate(pages.geometry, start=1)}
        slots = [self._slot(slot, texts.get(slot["slot_id"], ""), geometry.get(slot["page"])) for slot in fit["slots"]]
        holes = self._page_holes(fit, geometry)
        shown = [{"number": n, "key": key, **geometry[n], "holes": holes.get(n, [])}
                 for n, key in enumerate(pages.keys, start=1)]
        self._previous, self._current = self._current, Outputs(round_number, shown, slots, fit.get("holes", []), [])
        return True

    def _slot(self, slot: dict, text: str, geometry: dict | None) -> dict:
        over, short = _words(slot, text)
        source = self.folder / "articles" / f"{slot['slug']}.md"
        return {**slot, "status": slot_status(slot), "words_over": over, "words_short": short,
                "source": self._shown(source), "box_frac": _fraction(slot["box"], geometry)}

    def _page_holes(self, fit: dict, geometry: dict[int, dict]) -> dict[int, list[dict]]:
        """Empty lines at the foot of each page's grid columns, as boxes (what the blue bars mark)."""
        try:
            paper = load_settings(self.project.issues / "paper.yaml")
        except (LayoutError, OSError):  # changed since the round read it: no hole boxes this round
            return {}
        found: dict[int, list[dict]] = {}
        for page in fit.get("pages", []):
            for column, depth in enumerate(page["holes"]):
                if depth > HOLE_LINES and page["page"] in geometry:
                    y = paper.margin_top + (paper.grid_lines - depth) * paper.leading
                    box = (paper.column_x(column), y, paper.column_width, depth * paper.leading)
                    found.setdefault(page["page"], []).append(
                        {"column": column + 1, "lines": depth, "box_frac": _fraction(box, geometry[page["page"]])})
        return found

    def _changes(self) -> list[dict]:
        """What ``layout diff`` reports between the round kept in ``previous/`` and this one, each
        change with the areas to mark (slot boxes, and the pixels that changed)."""
        if not (self.out / "previous" / "fit.json").exists():
            return []
        changes = compare(self.out / "previous", self.out, self.out / ".serve" / "diff")
        slots = {s["slot_id"]: s for s in (self._current.slots if self._current else [])}
        before = {s["slot_id"]: s for s in (self._previous.slots if self._previous else [])}
        out = []
        for change in changes:
            areas = []
            if change.kind == "page changed":
                number = int(change.what.lstrip("p"))
                box = re.search(r"\((\d+), (\d+), (\d+), (\d+)\)", change.detail)
                png = self.out / "proofs" / f"{change.what}.png"
                if box and png.exists():
                    from PIL import Image

                    with Image.open(png) as image:
                        width, height = image.size
                    x0, y0, x1, y1 = (int(v) for v in box.groups())
                    areas.append({"page": number, "frac": [x0 / width, y0 / height, (x1 - x0) / width,
                                                           (y1 - y0) / height], "side": "both"})
            else:
                for side, known in (("current", slots), ("previous", before)):
                    if change.what in known and known[change.what]["box_frac"]:
                        areas.append({"page": known[change.what]["page"], "frac": known[change.what]["box_frac"],
                                      "side": side})
            out.append({"kind": change.kind, "what": change.what, "detail": change.detail, "areas": areas})
        return out

    # -- files --------------------------------------------------------------------------------
    def _shown(self, path: Path) -> str:
        with contextlib.suppress(ValueError):
            return str(path.relative_to(self.project.root))
        return str(path)

    def output_file(self, relative: str) -> Path | None:
        """The file ``relative`` (already URL-decoded) inside the issue's outputs, or None: no ``..``,
        no dot folders (caches, lock), no symlinks, nothing that resolves outside."""
        return inside(self.out, relative)

    def issue_file(self, relative: str) -> Path | None:
        """A file of the issue's own folder (for the editor), relative to the project or the issue."""
        for base in (self.project.root, self.folder):
            relative_to_issue = _relative(base, self.folder, relative)
            if relative_to_issue is not None and (found := inside(self.folder, relative_to_issue)) is not None:
                return found
        return None


def _relative(base: Path, folder: Path, relative: str) -> str | None:
    """``relative`` (to ``base``) as a path relative to ``folder``, if it lies lexically within."""
    parts = [p for p in relative.split("/") if p not in ("", ".")]
    base_parts = list(folder.relative_to(base).parts) if folder.is_relative_to(base) else None
    if base_parts is None or parts[:len(base_parts)] != base_parts:
        return None
    return "/".join(parts[len(base_parts):])


def inside(root: Path, relative: str) -> Path | None:
    """The regular file ``root/relative``, or None when the path leaves ``root`` in any way."""
    if not relative or "\0" in relative or "\\" in relative or relative.startswith("/"):
        return None
    parts = relative.split("/")
    if any(part in ("", ".", "..") or part.startswith(".") or "%" in part for part in parts):
        return None
    path = root
    for part in parts:
        path = path / part
        if path.is_symlink():
            return None
    try:
        resolved = path.resolve(strict=True)
    except (OSError, RuntimeError):
        return None
    if not resolved.is_relative_to(root.resolve()) or not resolved.is_file():
        return None
    return resolved


def _fraction(box: list[float] | tuple[float, ...], geometry: dict | None) -> list[float] | None:
    """A box in points from the trim's top-left, as fractions of the drawn page (for CSS percentages)."""
    if geometry is None:
        return None
    x, y, w, h = box
    left, top = geometry["trim"][0], geometry["trim"][1]
    return [(left + x) / geometry["width"], (top + y) / geometry["height"], w / geometry["width"],
            h / geometry["height"]]


def _read_json(path: Path) -> dict | None:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def _error(error: Exception, project: Project, folder: Path) -> dict:
    """An error as the browser shows it: message, problems (each with the file to open, if it is
    the issue's), and its exit code. Paths are shown relative to the project, as the user types them."""
    if not isinstance(error, LayoutError):
        return {"kind": "internal error", "exit_code": 70, "problems": [],
                "message": f"{type(error).__name__}: {error} (a bug in layout: run `layout compose --debug` "
                           "for the traceback)"}
    root = str(project.root) + os.sep
    problems = []
    for problem in error.problems:
        candidate = (project.root / problem.file).resolve()  # the file may be given absolute
        inside_project = candidate.is_relative_to(project.root)
        openable = candidate.is_relative_to(folder) and candidate.is_file()
        problems.append({"file": str(candidate.relative_to(project.root)) if inside_project else problem.file,
                         "key": problem.key, "message": problem.message.replace(root, ""),
                         "fix": problem.fix.replace(root, ""),
                         "open": str(candidate.relative_to(project.root)) if openable else None})
    return {"kind": type(error).__name__, "exit_code": error.exit_code, "message": error.message.replace(root, ""),
            "problems": problems}


# -- HTTP ------------------------------------------------------------------------------------------
def is_loopback(host: str) -> bool:
    """Whether ``host`` (an address or ``localhost``) is this machine only."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


class Server(http.server.ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, address: tuple[str, int], proofs: Proofs, editor: Callable[[Path], str]) -> None:
        self.address_family = socket.AF_INET6 if ":" in address[0] else socket.AF_INET
        super().__init__(address, Handler)
        self.proofs = proofs
        self.editor = editor

    @property
    def port(self) -> int:
        return self.server_address[1]

    def allowed_hosts(self) -> set[str]:
        """Host headers this server answers to (anything else may be a DNS-rebinding page)."""
        host = str(self.server_address[0])  # (a str: an AF_INET or AF_INET6 address)
        names = {"127.0.0.1", "localhost", "[::1]"}
        if not is_loopback(host):
            return set()  # bound to a public address on purpose: any name may reach it
        return {f"{name}:{self.port}" for name in names}


class Handler(http.server.BaseHTTPRequestHandler):
    server: Server
    protocol_version = "HTTP/1.1"
    server_version = "layout-serve"
    sys_version = ""

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 (the base class's name)
        pass  # the terminal shows rounds, not requests

    # -- guards -------------------------------------------------------------------------------
    def _host_ok(self) -> bool:
        allowed = self.server.allowed_hosts()
        return not allowed or self.headers.get("Host", "") in allowed

    def _send(self, status: int, body: bytes, kind: str = "text/plain; charset=utf-8",
              headers: dict[str, str] | None = None) -> None:
        self.send_response(status)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("X-Content-Type-Options", "nosniff")
        self.send_header("Referrer-Policy", "no-referrer")
        self.send_header("Content-Security-Policy",
                         "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
                         "connect-src 'self'; frame-ancestors 'none'")
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def _refuse(self, status: int, why: str) -> None:
        self._send(status, (why + "\n").encode())

    def _json(self, data: object, status: int = 200) -> None:
        self._send(status, json.dumps(data, ensure_ascii=False).encode(), "application/json; charset=utf-8",
                   {"Cache-Control": "no-store"})

    # -- methods ------------------------------------------------------------------------------
    def do_GET(self) -> None:  # noqa: N802 (http.server's names)
        if not self._host_ok():
            return self._refuse(403, "unknown Host: open the address layout serve printed")
        raw = urllib.parse.urlsplit(self.path)
        path, query = raw.path, urllib.parse.parse_qs(raw.query)
        if path in ("/", "/index.html"):
            return self._static("index.html")
        if path.startswith("/static/"):
            return self._static(path[len("/static/"):])
        if path == "/api/state":
            return self._json(self.server.proofs.state)
        if path == "/events":
            return self._events()
        if match := re.fullmatch(r"/page/([0-9a-f-]{8,80})\.png", path):
            return self._page(match[1], query)
        if path.startswith("/files/"):
            return self._output(path[len("/files/"):])
        return self._refuse(404, "not found")

    do_HEAD = do_GET

    def do_POST(self) -> None:  # noqa: N802
        if self.path != "/api/open":
            return self._method_not_allowed()
        host = self.headers.get("Host", "")
        origin = self.headers.get("Origin", "")
        client = self.client_address[0]
        if not is_loopback(client):
            return self._refuse(403, "the editor can be opened only from this machine")
        if not self._host_ok() or origin != f"http://{host}" or not host:
            return self._refuse(403, "refused: the request's Origin is not this server")
        if self.headers.get("Content-Type", "").split(";")[0].strip() != "application/json":
            return self._refuse(415, "send JSON")
        try:
            length = int(self.headers.get("Content-Length", "0"))
            if not 0 < length <= 4096:
                raise ValueError
            asked = json.loads(self.rfile.read(length))["path"]
            if not isinstance(asked, str):
                raise ValueError
        except (ValueError, KeyError, TypeError):
            return self._refuse(400, 'send {"path": "issues/<issue>/articles/<slug>.md"}')
        target = self.server.proofs.issue_file(asked)
        if target is None:
            return self._refuse(403, "only files inside the issue's folder can be opened")
        return self._json({"path": str(target), "message": self.server.editor(target)})

    def _method_not_allowed(self) -> None:
        self._send(405, b"only GET, and POST /api/open\n", headers={"Allow": "GET, HEAD, POST"})

    do_PUT = do_DELETE = do_PATCH = do_OPTIONS = _method_not_allowed

    # -- routes -------------------------------------------------------------------------------
    def _static(self, name: str) -> None:
        if name not in STATIC_FILES:
            return self._refuse(404, "not found")
        self._send(200, (STATIC / name).read_bytes(), STATIC_FILES[name], {"Cache-Control": "no-cache"})

    def _page(self, key: str, query: dict[str, list[str]]) -> None:
        try:
            dpi = int(query.get("dpi", ["100"])[0])
        except ValueError:
            dpi = 0
        if dpi not in DPIS:
            return self._refuse(400, f"dpi is one of {', '.join(map(str, DPIS))}")
        data = self.server.proofs.pages.png(key, dpi)
        if data is None:
            return self._refuse(404, "no such page in the last rounds")
        self._send(200, data, "image/png", {"Cache-Control": "private, max-age=31536000, immutable"})

    def _output(self, encoded: str) -> None:
        relative = urllib.parse.unquote(encoded, errors="strict") if "%" in encoded else encoded
        found = self.server.proofs.output_file(relative)
        if found is None:
            return self._refuse(404, "not found: only the issue's outputs are served")
        kind = mimetypes.guess_type(found.name)[0] or "application/octet-stream"
        self._send(200, found.read_bytes(), kind, {"Cache-Control": "no-cache"})

    def _events(self) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Cache-Control", "no-store")
        self.send_header("X-Accel-Buffering", "no")
        self.end_headers()
        if self.command == "HEAD":
            self.close_connection = True
            return
        proofs = self.server.proofs
        seen, state = -1, None
        with proofs.changed:
            seen, state = proofs.version, proofs.state
        try:
            self.wfile.write(b"retry: 1000\n")
            while True:
                if state is not None:
                    self.wfile.write(b"event: state\ndata: " + json.dumps(state, ensure_ascii=False).encode()
                                     + b"\n\n")
                else:
                    if proofs.closing:
                        return
                    self.wfile.write(b": ping\n\n")
                self.wfile.flush()
                seen, state = proofs.wait(seen, PING_SECONDS)
        except (BrokenPipeError, ConnectionResetError, TimeoutError):
            return
        finally:
            self.close_connection = True


def run_editor(path: Path) -> str:
    """Open ``path`` in ``$EDITOR``, detached (its own session, no terminal): say what was done."""
    editor = os.environ.get("EDITOR", "").strip()
    if not editor:
        return f"$EDITOR is not set: open {path} yourself (or start layout serve with EDITOR=...)"
    try:
        subprocess.Popen([*shlex.split(editor), str(path)], stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                         stderr=subprocess.DEVNULL, start_new_session=True, close_fds=True)
    except (OSError, ValueError) as exc:
        return f"could not start $EDITOR ({editor}): {exc}"
    return f"opened in {editor}: {path}"


@dataclass
class Serving:
    """A running server (``start``): its address, state and threads; ``stop`` ends it."""

    server: Server
    proofs: Proofs
    stop_event: threading.Event
    threads: list[threading.Thread] = field(default_factory=list)
    failure: BaseException | None = None
    """What ended the rounds, if it was not ``stop`` (a bug: ``serve`` raises it)."""

    @property
    def url(self) -> str:
        host = str(self.server.server_address[0])
        return f"http://{'[' + host + ']' if ':' in host else host}:{self.server.port}/"

    def stop(self) -> None:
        self.stop_event.set()
        self.proofs.close()
        self.server.shutdown()
        self.server.server_close()
        for thread in self.threads:
            thread.join(timeout=30)


def bind_warning(host: str) -> str | None:
    """The warning printed when the server is bound to more than this machine."""
    if is_loopback(host):
        return None
    return (f"warning: serving on {host}: anyone who can reach this machine on that address can read "
            "this issue's proofs (the editor action stays refused to other machines). "
            "Use the default (127.0.0.1) unless you mean it.")


def start(project: Project, issue_id: str, host: str = "127.0.0.1", port: int = 8719, interval: float = 0.2,
          say: Callable[[str], None] = lambda line: None, editor: Callable[[Path], str] = run_editor,
          workers: Workers | None = None) -> Serving:
    """Bind the server and start the rounds (both on threads of their own); return at once."""
    proofs = Proofs(project, issue_id)
    server = Server((host, port), proofs, editor)
    stop_event = threading.Event()
    serving = Serving(server, proofs, stop_event)
    own = workers is None
    pool = workers or Workers()

    def loop() -> None:
        try:
            for done in rounds(project, issue_id, pool, interval, stop=stop_event, on_change=proofs.composing,
                               keep_going=True):
                try:
                    proofs.finished(done)
                except Exception as exc:  # reading the outputs failed: say so in the page, go on
                    proofs.publish(phase="done", round=done.number, error=_error(exc, project, proofs.folder))
                say(done.line())
        except BaseException as exc:
            serving.failure = exc
        finally:
            if own:
                pool.close()

    threads = [threading.Thread(target=server.serve_forever, name="layout-serve-http", daemon=True),
               threading.Thread(target=loop, name="layout-serve-rounds", daemon=True)]
    for thread in threads:
        thread.start()
    serving.threads = threads
    return serving


def serve(project: Project, issue_id: str, host: str, port: int, say: Callable[[str], None],
          interval: float = 0.2) -> None:
    """``layout serve``: run until interrupted."""
    find_issue(project.issues, issue_id)
    with holding():  # the build cache's entries it reads back, from round to round
        _serve(project, issue_id, host, port, say, interval)


def _serve(project: Project, issue_id: str, host: str, port: int, say: Callable[[str], None],
           interval: float) -> None:
    warning = bind_warning(host)
    if warning:
        say(warning)
    serving = start(project, issue_id, host, port, interval, say)
    say(f"serving {issue_id} at {serving.url} (Ctrl-C stops)")
    previous = signal.signal(signal.SIGTERM, _interrupt)  # `kill` stops it as Ctrl-C does: workers too
    try:
        while all(t.is_alive() for t in serving.threads):
            time.sleep(0.5)
    finally:
        signal.signal(signal.SIGTERM, previous)
        serving.stop()
    if serving.failure is not None:
        raise serving.failure


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def events(url: str, timeout: float = 60.0) -> Iterator[dict]:
    """The states a running server sends (for the latency script and tests): each ``state`` event's data."""
    import http.client

    parts = urllib.parse.urlsplit(url)
    connection = http.client.HTTPConnection(parts.hostname or "localhost", parts.port, timeout=timeout)
    connection.request("GET", "/events", headers={"Host": parts.netloc})
    response = connection.getresponse()
    data: list[str] = []
    kind = ""
    try:
        while True:
            line = response.readline()
            if not line:
                return
            text = line.decode("utf-8").rstrip("\n")
            if text.startswith("event:"):
                kind = text[6:].strip()
            elif text.startswith("data:"):
                data.append(text[5:].strip())
            elif not text:
                if kind == "state" and data:
                    yield json.loads("\n".join(data))
                data, kind = [], ""
    finally:
        connection.close()
