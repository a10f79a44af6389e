"""Time limits on work that cannot be interrupted from inside (spaCy, lxml): stopped, not abandoned.

No Beam here. Python cannot stop a thread, so work under a limit runs in a
child process (``WorkerProcess``) that is killed when a call runs out of time
and started afresh, lazily, for the next call. Nothing of a stopped call keeps
running: it cannot keep a core busy, share a model with later work, or be
caught inside native code (BLIS) when the interpreter exits.

The limit of one article scales with its length (``scaled_limit``): a long
article is legitimately slow, a short one that takes as long is not.
"""

import contextlib
import importlib
import os
import pickle
import signal
import socket
import subprocess
import sys
import threading
import traceback
import weakref
from multiprocessing.connection import Connection

# --time-limit is the time allowed per this many characters of text.
CHARS_PER_LIMIT = 100_000
# An idle child asked to leave has this long before SIGTERM, and this long
# after it before SIGKILL.
_LEAVE_SECONDS = 1.0
_TERMINATE_SECONDS = 2.0
_STOP = None
_local = threading.local()


class WorkerCrashed(RuntimeError):
    """The worker process ended (a crash, or a kill from outside) during a call."""


class RemoteError(RuntimeError):
    """An exception of the worker process that could not be sent back as itself."""


def scaled_limit(seconds: float, chars: int, *, per_chars: int = CHARS_PER_LIMIT) -> float:
    """``seconds`` per ``per_chars`` characters of a text of ``chars``; never below ``seconds``."""
    return seconds * max(1.0, chars / per_chars)


class WorkerProcess:
    """A child process that runs calls one at a time, killed when one runs out of time.

    ``setup(*setup_args)`` runs once in each new child, to load a model or
    warm a library up; what it returns, unless None, is passed as the first
    argument of every call. Functions and arguments go to the child pickled,
    so functions must be importable (module level). The child starts at the
    first call or at ``start``, and again at the call after one that was
    stopped; its setup and imports are not counted in a call's limit.
    ``close`` ends it; so do garbage collection of this object and the
    interpreter's exit, and the child ends by itself if this process dies.
    Calls from several threads take turns.
    """

    def __init__(self, *, setup=None, setup_args: tuple = (), name: str = "newsbeam-worker"):
        self._setup = setup
        self._setup_args = tuple(setup_args)
        self._name = name
        self._lock = threading.Lock()
        self._process = None
        self._connection = None
        self._imported = set()
        self._finalizer = None
        self._calls = 0  # calls begun, for close_when_idle

    @property
    def pid(self) -> int | None:
        """The child's process id, None when no child is running."""
        return self._process.pid if self._process is not None else None

    def start(self) -> None:
        """Starts the child if none is running and waits until its ``setup`` has run.

        Raises the exception of ``setup``, so a model that cannot be loaded
        fails here rather than at the first call.
        """
        with self._lock:
            self._ensure_started()

    def call(self, function, *args, seconds: float | None, what: str, **kwargs):
        """``function(*args, **kwargs)`` run in the child; ``Rejected`` after ``seconds``.

        On time-out the child is killed (so is the call) and ``Rejected`` is
        raised. Exceptions of the call are raised here as they are (as
        ``RemoteError`` when they cannot be pickled); a child that dies
        during the call raises ``WorkerCrashed``. ``seconds=None`` waits as
        long as the call takes.
        """
        with self._lock:
            self._calls += 1
            self._ensure_started()
            module = getattr(function, "__module__", None)
            if module and module not in self._imported:
                # Importing spaCy or trafilatura is not the call's time.
                self._request(("import", module), None, what)
                self._imported.add(module)
            return self._request(("call", function, args, kwargs), seconds, what)

    def close(self) -> None:
        """Ends the child, if any; the next call would start a new one."""
        with self._lock:
            self._stop()

    def close_when_idle(self, seconds: float) -> None:
        """Ends the child once ``seconds`` pass with no call begun; a call before then keeps it."""
        with self._lock:
            calls = self._calls
        timer = threading.Timer(seconds, self._close_if_no_call_since, (calls,))
        timer.daemon = True
        timer.start()

    def _close_if_no_call_since(self, calls: int) -> None:
        with self._lock:
            if self._calls == calls:
                self._stop()

    def _ensure_started(self):
        # Between calls nothing is due from the child: anything readable is
        # the EOF of a child that died while idle (killed from outside, say).
        if self._process is not None and not self._connection.poll(0):
            return
        self._stop()
        process, connection, parent_alive = _launch(self._name)
        self._process, self._connection = process, connection
        self._finalizer = weakref.finalize(self, _end, process, connection, parent_alive)
        try:
            self._request((self._setup, self._setup_args), None, "the start of a worker process")
        except BaseException:
            self._stop(kill=True)  # the setup failed: no child without its setup
            raise

    def _request(self, message, seconds, what):
        payload = pickle.dumps(message, protocol=pickle.HIGHEST_PROTOCOL)
        try:
            self._connection.send_bytes(payload)
        except OSError:
            self._crashed(what)
        return self._receive(seconds, what)

    def _receive(self, seconds, what):
        """The value of the child's next reply; raises the exception it replies with."""
        try:
            if seconds is not None and not self._connection.poll(seconds):
                # Imported here: records loads pyarrow, which a worker need not (report charts).
                from transforms.lib.records import ErrorType, Rejected

                raise Rejected(
                    ErrorType.TIME_LIMIT, f"{what} took longer than {seconds:g} s and was stopped"
                )
            kind, value = self._connection.recv()
        except (EOFError, OSError):
            self._crashed(what)
        except BaseException:
            # Out of time, interrupted, or a reply that cannot be read: whatever
            # the child is doing now, no later call must see its reply.
            self._stop(kill=True)
            raise
        if kind == "error":
            raise value
        return value

    def _crashed(self, what):
        with contextlib.suppress(subprocess.TimeoutExpired):
            self._process.wait(_TERMINATE_SECONDS)
        code = self._process.returncode
        self._stop(kill=True)
        raise WorkerCrashed(f"the worker process ended (exit code {code}) during {what}")

    def _stop(self, *, kill=False):
        if self._finalizer is not None:
            if kill:  # it is busy: asking it to leave would only wait
                self._process.kill()
            self._finalizer()  # runs _end once
        self._process = self._connection = self._finalizer = None
        self._imported = set()


def _launch(name: str):
    """A new child running ``_serve``; the parent's end of its connection; a pipe's write end.

    The child sees EOF on that pipe once the parent closes the write end or
    dies, whatever the child is doing then.
    """
    parent_end, child_end = socket.socketpair()
    child_alive, parent_alive = os.pipe()
    fds = (child_end.fileno(), child_alive)
    try:
        process = subprocess.Popen(
            [sys.executable, "-c", _CHILD_MAIN, *map(str, fds), name],  # the name is for ps
            pass_fds=fds,
            stdin=subprocess.DEVNULL,
            # The child finds what this process finds (a test's modules, say).
            env={**os.environ, "PYTHONPATH": os.pathsep.join(str(p) for p in sys.path if p)},
        )
    except BaseException:
        parent_end.close()
        os.close(parent_alive)
        raise
    finally:
        child_end.close()
        os.close(child_alive)
    return process, Connection(parent_end.detach()), parent_alive


def _end(process, connection, parent_alive: int):
    """Ends a child: asks it to leave, then SIGTERM, then SIGKILL; never leaves it running."""
    if process.poll() is None:
        with contextlib.suppress(OSError):
            connection.send(_STOP)  # an idle child leaves by itself
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(_LEAVE_SECONDS)
    if process.poll() is None:
        process.terminate()
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(_TERMINATE_SECONDS)
    if process.poll() is None:
        process.kill()
    process.wait()
    connection.close()
    os.close(parent_alive)


# Worker processes started before anyone asked for them, by (setup, setup_args).
_ahead: dict[tuple, WorkerProcess] = {}


def start_ahead(setup, setup_args: tuple = (), *, name: str = "newsbeam-worker") -> None:
    """Starts a worker process with ``setup`` now, for ``take_ahead`` to hand out later.

    Raises what ``setup`` raises (a model that cannot be loaded, say). One
    that nobody takes ends at exit.
    """
    key = (setup, tuple(setup_args))
    worker = WorkerProcess(setup=setup, setup_args=setup_args, name=name)
    worker.start()
    previous = _ahead.pop(key, None)
    _ahead[key] = worker
    if previous is not None:
        previous.close()


def take_ahead(setup, setup_args: tuple = ()) -> WorkerProcess | None:
    """The worker process ``start_ahead`` started (or ``keep_ahead`` kept) with this setup,
    once; else None."""
    return _ahead.pop((setup, tuple(setup_args)), None)


def keep_ahead(worker: WorkerProcess) -> None:
    """Keeps ``worker``, still running, for the next ``take_ahead`` of its setup.

    A worker whose child has ended is closed instead (the next take starts a
    fresh one), and so is one kept before with the same setup.
    """
    key = (worker._setup, worker._setup_args)
    previous = _ahead.pop(key, None)
    if previous is not None and previous is not worker:
        previous.close()
    if worker.pid is None:
        return
    _ahead[key] = worker


def close_ahead() -> None:
    """Ends every worker process started or kept ahead that nobody took."""
    while _ahead:
        _key, worker = _ahead.popitem()
        worker.close()


def call_with_time_limit(
    function, *args, seconds: float | None, what: str, worker: WorkerProcess | None = None, **kwargs
):
    """``function(*args, **kwargs)`` run in ``worker`` by ``WorkerProcess.call``.

    Without a ``worker``, the calling thread's own is used: started at its
    first call, ended with the thread or at exit. ``seconds=None`` calls
    ``function`` directly, in this thread.
    """
    if seconds is None:
        return function(*args, **kwargs)
    if worker is None:
        worker = getattr(_local, "worker", None)
        if worker is None:
            worker = _local.worker = WorkerProcess(name="newsbeam-limit")
    return worker.call(function, *args, seconds=seconds, what=what, **kwargs)


# --- in the child -----------------------------------------------------------------


# The child is a fresh interpreter that imports this module only: not the
# parent's __main__, which multiprocessing's spawn would run again.
_CHILD_MAIN = (
    "import sys; from transforms.lib.limits import _serve; _serve(*map(int, sys.argv[1:3]))"
)


def _serve(connection_fd: int, alive_fd: int):
    """The child's loop: run the setup, then one call per message until told to stop."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's to handle
    threading.Thread(target=_exit_with_parent, args=(alive_fd,), daemon=True).start()
    connection = Connection(connection_fd)
    try:
        setup, setup_args = connection.recv()
        resource = setup(*setup_args) if setup is not None else None
    except BaseException as exc:
        connection.send(("error", _sendable(exc)))
        return
    connection.send(("ready", None))
    while True:
        try:
            message = connection.recv()
        except (EOFError, OSError):
            _leave()  # the parent has gone
        except BaseException as exc:  # a call that cannot be unpickled here
            connection.send(("error", _sendable(exc)))
            continue
        if message is _STOP:
            _leave()
        try:
            if message[0] == "import":
                importlib.import_module(message[1])
                reply = ("ok", None)
            else:
                _, function, args, kwargs = message
                extra = (resource,) if resource is not None else ()
                reply = ("ok", function(*extra, *args, **kwargs))
        except BaseException as exc:
            reply = ("error", _sendable(exc))
        try:
            connection.send(reply)
        except Exception as exc:  # a value that cannot be pickled
            connection.send(("error", _sendable(exc)))


def _leave():
    """Ends the child at once: tearing down an interpreter that holds a model takes a second."""
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(Exception):
            stream.flush()
    os._exit(0)


def _exit_with_parent(alive_fd: int):
    """Ends the child as soon as its parent is gone, even in the middle of a call."""
    while os.read(alive_fd, 1):
        pass
    os._exit(1)


def _sendable(exc: BaseException) -> BaseException:
    """``exc`` in a form that pickles and unpickles as its own type, else a ``RemoteError``.

    Exceptions whose ``__init__`` takes other arguments than ``args`` (such
    as ``Rejected``) are rebuilt without calling it. The child's traceback
    goes along as a note.
    """
    note = "in the worker process:\n" + "".join(traceback.format_exception(exc)[-4:])
    if not isinstance(exc, Exception):  # SystemExit and the like must not end the parent
        return RemoteError(f"{type(exc).__qualname__}: {exc}\n{note}")
    exc.add_note(note)
    portable = _Portable(exc)
    try:
        pickle.loads(pickle.dumps(portable))
    except Exception:
        return RemoteError(f"{type(exc).__qualname__}: {exc}\n{note}")
    return portable


class _Portable:
    """Pickles as the exception it wraps, rebuilt by ``_rebuild``."""

    def __init__(self, exc: BaseException):
        self.exc = exc

    def __reduce__(self):
        exc = self.exc
        return _rebuild, (type(exc), exc.args, dict(getattr(exc, "__dict__", {})))


def _rebuild(cls, args, state):
    exc = cls.__new__(cls, *args)
    exc.args = args
    exc.__dict__.update(state)
    return exc
