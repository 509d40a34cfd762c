"""The compose server's name, place and protocol, and its client (stdlib only: the ``layout`` command
asks a warm server to compose before it imports typer or anything heavy; see ``commands/server.py``).

A server is found by its socket's name, made from a key that the client works out in about a
millisecond: the project folder, the user, the interpreter (``sys.executable``, ``sys.version``,
``sys.path`` and the modification times of its site-packages folders, which ``pip install``
changes), the fontconfig file layout confined the fonts to, and layout's own files (paths, sizes
and modification times). A server of other code, another project or another interpreter has another name, so it
never gets the request.

The protocol, on a Unix stream socket: the client sends one byte with its stdin, stdout and stderr
attached (SCM_RIGHTS), then a 4-byte length and a JSON header (key, argv, program name, cwd,
environment, umask). The server answers ``ok <pid>`` (it runs the command, writing to the client's
own descriptors) or ``no <reason>`` (the client composes in its own process), then, when the
command has ended, ``exit <code>``. A byte from the client while it waits interrupts the command
(``i``: Ctrl-C, ``t``: SIGTERM); so does the client going away."""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import signal
import socket
import stat
import struct
import sys

PROTOCOL = 1
VARIABLE = "LAYOUT_SERVER"
"""``off`` (or ``0``, ``no``, ``false``): never use a server, nor become one."""
IDLE_VARIABLE = "LAYOUT_SERVER_IDLE"
"""Seconds a server waits for a request before it exits (default ``IDLE_S``)."""
DIR_VARIABLE = "LAYOUT_SERVER_DIR"
"""The folder of the servers' sockets (default ``$XDG_RUNTIME_DIR/layout``, else ``/tmp/layout-<uid>``)."""
LOG_VARIABLE = "LAYOUT_SERVER_LOG"
"""A file the server appends its log lines to (default: ``build/.cache/server.log`` of its project)."""
IDLE_S = 600.0
NO_SERVER = "--no-server"
MAX_SOCKET_PATH = 107
"""Bytes an AF_UNIX path may have (108 with its NUL)."""
PACKAGE = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def flush_std() -> None:
    """Flush this process's stdout and stderr, whatever they are (a closed or missing stream is left
    alone): before it forks, ends with ``os._exit`` or hands its descriptors over."""
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(Exception):
            stream.flush()


def enabled(environ: dict[str, str] | os._Environ[str] | None = None) -> bool:
    """Whether the server may be used (and become): ``LAYOUT_SERVER`` is not ``off``."""
    value = (environ if environ is not None else os.environ).get(VARIABLE, "").strip().lower()
    return value not in ("off", "0", "no", "false")


def served(argv: list[str]) -> bool:
    """Whether the command ``argv`` (without the program name) is one a server runs: ``compose``,
    without ``--no-server`` or ``--help``."""
    return bool(argv) and argv[0] == "compose" and NO_SERVER not in argv and "--help" not in argv \
        and enabled()


def idle_seconds() -> float:
    """``LAYOUT_SERVER_IDLE`` if it is a number above 0, else ``IDLE_S``."""
    try:
        value = float(os.environ.get(IDLE_VARIABLE, ""))
    except ValueError:
        return IDLE_S
    return value if value > 0 else IDLE_S


def project_root(argv: list[str]) -> str:
    """The project folder ``argv`` names, as the CLI finds it: ``--root``, else ``$LAYOUT_ROOT``,
    else the current folder (resolved)."""
    root = None
    for index, arg in enumerate(argv):
        if arg == "--root" and index + 1 < len(argv):
            root = argv[index + 1]
        elif arg.startswith("--root="):
            root = arg.split("=", 1)[1]
    return os.path.realpath(root or os.environ.get("LAYOUT_ROOT") or ".")


def code_digest(package: str = PACKAGE) -> str:
    """A digest of layout's own files, from their paths, sizes and modification times (no file is
    read: ``cache.code_digest`` hashes the bytes, for the build cache's salt)."""
    digest = hashlib.sha256()
    for folder, dirs, files in os.walk(package):
        dirs[:] = sorted(d for d in dirs if d != "__pycache__")
        for name in sorted(files):
            if name.endswith((".pyc", ".pyo")):
                continue
            with contextlib.suppress(OSError):
                info = os.stat(os.path.join(folder, name))
                digest.update(f"{os.path.relpath(os.path.join(folder, name), package)}\0{info.st_size}\0"
                              f"{info.st_mtime_ns}\n".encode())
    return digest.hexdigest()


def key(root: str) -> str:
    """The identity of a server for project ``root`` and this interpreter and code (see the module)."""
    installed = []  # what pip installs or removes changes its folder's modification time
    for entry in sys.path:
        if entry.endswith(("site-packages", "dist-packages")):
            try:
                installed.append(os.stat(entry).st_mtime_ns)
            except OSError:
                installed.append(0)
    return hashlib.sha256(json.dumps([
        PROTOCOL, root, os.getuid(), sys.executable, sys.version, sys.path, installed,
        os.environ.get("FONTCONFIG_FILE", ""), code_digest()]).encode()).hexdigest()


def socket_dir() -> str | None:
    """The servers' folder, made private (0700) if it is not there; None if it is not this user's
    own and private (then no server is used)."""
    base = os.environ.get(DIR_VARIABLE)
    if not base:
        runtime = os.environ.get("XDG_RUNTIME_DIR")
        base = os.path.join(runtime, "layout") if runtime and os.path.isdir(runtime) else f"/tmp/layout-{os.getuid()}"
    try:
        os.makedirs(base, mode=0o700, exist_ok=True)
        info = os.lstat(base)
    except OSError:
        return None
    if not stat.S_ISDIR(info.st_mode) or info.st_uid != os.getuid() or info.st_mode & 0o077:
        return None
    return base


def address(root: str, name: str | None = None) -> tuple[str, str] | None:
    """The key and the socket path of project ``root``'s server (None: no usable folder, or a
    path too long for AF_UNIX)."""
    folder = socket_dir()
    if folder is None:
        return None
    name = name or key(root)
    path = os.path.join(folder, name[:32] + ".sock")
    return (name, path) if len(os.fsencode(path)) <= MAX_SOCKET_PATH else None


def peer_uid(sock: socket.socket) -> int:
    """The user id of the process at the other end of the Unix socket ``sock`` (SO_PEERCRED)."""
    creds = sock.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, struct.calcsize("3i"))
    return int(struct.unpack("3i", creds)[1])  # pid, uid, gid


def program_name() -> str:
    """The program name click would show in usage lines (``layout``, or ``python -m layout``)."""
    main = sys.modules.get("__main__")
    path = sys.argv[0] if sys.argv else "layout"
    package = getattr(main, "__package__", None)
    if not package:
        return os.path.basename(path)
    name = os.path.splitext(os.path.basename(path))[0]
    return "python -m " + (package if name == "__main__" else f"{package}.{name}").lstrip(".")


class _Stop(Exception):
    """SIGTERM arrived while the client waited."""


def _connect(path: str) -> socket.socket | None:
    try:
        if not stat.S_ISSOCK(os.lstat(path).st_mode):
            return None
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    except OSError:
        return None
    try:
        sock.settimeout(2.0)
        sock.connect(path)
        if peer_uid(sock) != os.getuid():
            raise OSError("not this user's server")
        sock.settimeout(None)
        return sock
    except OSError:
        sock.close()
        return None


def _own_fds() -> list[int]:
    """Descriptors 0, 1 and 2 (``/dev/null`` for any that is closed)."""
    fds = []
    for fd in (0, 1, 2):
        try:
            os.fstat(fd)
            fds.append(fd)
        except OSError:
            fds.append(os.open(os.devnull, os.O_RDWR))
    return fds


def _line(sock: socket.socket, buffer: bytearray) -> bytes | None:
    """The next line from the server (None at the end of the stream)."""
    while b"\n" not in buffer:
        chunk = sock.recv(256)
        if not chunk:
            return None
        buffer += chunk
    line, _, rest = bytes(buffer).partition(b"\n")
    buffer[:] = rest
    return line


def request(argv: list[str]) -> int | None:
    """Ask the project's server to run ``argv`` (``layout compose ...``) with this process's
    descriptors, environment and folder; return its exit code, or None if no server ran it (none
    there, refused, not ours, or it died before saying how the command ended): then run it here.

    Ctrl-C while the server composes is passed on to it (``_outcome``). Ctrl-C before that, while
    the server is found or the request sent, ends the command as an interrupted compose ends (130,
    ``errors.INTERRUPTED``, no traceback): the socket closes, and a server that had begun the
    compose interrupts it, as it does for a client that went away."""
    try:
        return _request(argv)
    except KeyboardInterrupt:
        from ..errors import INTERRUPTED

        with contextlib.suppress(OSError, ValueError):
            sys.stderr.write(f"{INTERRUPTED}\n")
            sys.stderr.flush()
        return 130


def _request(argv: list[str]) -> int | None:
    if not served(argv):
        return None
    try:  # no current folder, a folder that cannot be read ...: the command says so in its own process
        found = address(project_root(argv))
        if found is None:
            return None
        name, path = found
        umask = os.umask(0)
        os.umask(umask)
        header = json.dumps({"protocol": PROTOCOL, "key": name, "argv": argv, "prog": program_name(),
                             "cwd": os.getcwd(), "env": dict(os.environ), "umask": umask}).encode()
    except (OSError, ValueError):
        return None
    sock = _connect(path)
    if sock is None:
        return None
    previous = signal.getsignal(signal.SIGTERM)

    def stop(signum: int, frame: object) -> None:
        raise _Stop()

    with sock:
        try:
            socket.send_fds(sock, [b"L"], _own_fds())
            sock.sendall(struct.pack(">I", len(header)) + header)
            signal.signal(signal.SIGTERM, stop)
            return _outcome(sock)
        except (OSError, ValueError, IndexError):
            return None
        finally:
            signal.signal(signal.SIGTERM, previous)


def _outcome(sock: socket.socket) -> int | None:
    """Wait for the server's answer, then for the command's exit code; Ctrl-C or SIGTERM meanwhile is
    passed on (the server's compose ends as an interrupted one does); a second one ends the wait."""
    buffer = bytearray()
    accepted = False
    interrupted = 0
    while True:
        try:
            line = _line(sock, buffer)
            if line is None:
                # The server died before saying how the command ended: it is run here (its outputs are
                # written atomically, so none is half-written), unless the user asked to stop.
                return 130 if interrupted else None
            if not accepted:
                if not line.startswith(b"ok "):
                    return 130 if interrupted else None
                accepted = True
            elif line.startswith(b"exit "):
                return int(line.split()[1])
        except (KeyboardInterrupt, _Stop) as signalled:
            interrupted += 1
            if interrupted > 1:
                return 130 if isinstance(signalled, KeyboardInterrupt) else 143
            with contextlib.suppress(OSError):
                sock.sendall(b"i" if isinstance(signalled, KeyboardInterrupt) else b"t")


def stop(root: str) -> bool:
    """Ask project ``root``'s server (of this code) to exit; whether one answered."""
    found = address(os.path.realpath(root))
    if found is None:
        return False
    name, path = found
    sock = _connect(path)
    if sock is None:
        return False
    with sock:
        try:
            sock.settimeout(5.0)
            socket.send_fds(sock, [b"S"], [])
            header = json.dumps({"protocol": PROTOCOL, "key": name, "stop": True}).encode()
            sock.sendall(struct.pack(">I", len(header)) + header)
            return _line(sock, bytearray()) is not None
        except OSError:
            return False
