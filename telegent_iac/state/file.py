"""The local state file: `state/telegent.state.json` by default.

Files beside the state (all named after it):
  <path>             the state: JSON, sorted keys, 2-space indent, trailing newline
  <path>.backup      the state as it was before this run's first write
  <path>.lock        the run lock (JSON LockInfo), present only while a run holds it
  <path>.lock.guard  an empty file that is flock()ed for a few microseconds around every
                     change to the lock file and every compare-and-set write (see _guard)
  <path>.audit.jsonl the audit log, one JSON object per mutating call
  <path>.journal     the changes written since the state file was last rewritten, one JSON
                     line per write: {"lineage", "serial", "workgroups": {address: record or
                     null}}; empty (or absent) after every run that ended, even by Ctrl-C

The state file is never modified in place: a full write goes to a temporary file in the same
directory that is fsynced and then renamed over the state (and the directory fsynced), so a
reader (or a crash) only ever sees the old or the new state, never a mix.

A write that names the addresses it changed (`changed`, what the apply's every call does)
appends one record to the journal and fsyncs it instead: O(change) bytes, as durable as a
full write. The state is the state file plus the journal replayed over it, and every reader
(plan, `state show`, the run after a killed one) replays it. Each record carries the serial
it produces, so replay skips what the state file already holds (a crash between rewriting
the state and emptying the journal) and refuses a journal that does not continue the file;
a torn last record (its fsync never returned, so its write never did either) is ignored
and cut off before the next append. The state file is rewritten - the journal folded in and
then emptied - on the first write of a run, when the journal outgrows the state file (at
least JOURNAL_COMPACT_BYTES), and when the run ends (`flush()`, called as the lock is
released, also on interrupt), so between runs the state file alone is the state: sorted,
indented JSON that diffs well in git.

These files are the tool's own: each is opened through files.open_own (never through a
symbolic link, never blocking on a FIFO), and one that is a link, a directory, a FIFO or a
device is an error naming it, as is any OS error (read-only directory, disk full): a
StateError with one clear line, never a traceback.
"""

from __future__ import annotations

import bisect
import contextlib
import errno
import fcntl
import json
import json.encoder
import logging
import os
import random
import shutil
import socket
import threading
import time
import uuid
from collections.abc import Callable, Collection, Iterator
from dataclasses import asdict
from pathlib import Path
from typing import Any

from telegent_iac.safety.files import UnsafeFileError, check_own_entry, open_own, read_own
from telegent_iac.state.audit import audit_line
from telegent_iac.state.records import State, StateError, WorkgroupState
from telegent_iac.state.store import LockError, LockInfo, boot_id, pid_namespace

log = logging.getLogger(__name__)

LOCK_CHECK_INTERVAL = 0.5  # seconds between re-reads of the lock file while a run holds it

# (device, inode, size, mtime in ns) of the state file as this store last saw it. Every write
# replaces the file with a new inode, so an unchanged signature means nobody wrote it since.
_Signature = tuple[int, int, int, int]


def _not_serialisable(value: Any) -> Any:
    raise TypeError(f"Object of type {type(value).__name__} is not JSON serializable")


def _make_compact() -> Callable[[Any], str]:
    """Compact, sorted JSON for the per-workgroup cache keys.

    Calls the C encoder directly: JSONEncoder.encode() builds a new one on every call, which
    is a third of the cost for small objects, and this runs for every workgroup on every write.
    """
    make = getattr(json.encoder, "c_make_encoder", None)
    if make is None:
        return json.JSONEncoder(sort_keys=True, separators=(",", ":")).encode
    encoder = make(None, _not_serialisable, json.encoder.encode_basestring_ascii, None, ":", ",", True, False, True)
    return lambda value: "".join(encoder(value, 0))


_compact = _make_compact()
compact_json = _compact  # also the PostgreSQL store's row encoding

JOURNAL_COMPACT_BYTES = 1 << 20  # the journal is folded in once past this and the state's size
_quote: Callable[[str], str] = json.encoder.encode_basestring_ascii


# (the state with the journal replayed, the state file's signature, the journal's (inode, end
# of its last whole record) or None when there is none)
_Loaded = tuple[State, _Signature, tuple[int, int] | None]


class _Moved(Exception):
    """The state file was replaced while it and its journal were being read."""


def _signature(st: os.stat_result) -> _Signature:
    return (st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns)


def _indented(value: Any, level: int) -> str:
    """`json.dumps(value, indent=2, sort_keys=True)` as it appears nested `level` deep."""
    text = json.dumps(value, indent=2, sort_keys=True)
    # JSON strings never contain a raw newline, so every newline here is layout.
    return text.replace("\n", "\n" + "  " * level) if level else text


def pid_alive(pid: int) -> bool:
    """Whether process `pid` exists on this host (a zombie counts as gone)."""
    if pid <= 0:
        return False  # os.kill(0, ...) would signal our own process group
    try:
        os.kill(pid, 0)
    except (ProcessLookupError, OverflowError):  # OverflowError: no pid can be that large
        return False
    except PermissionError:
        return True  # exists, owned by someone else
    try:
        # A killed process whose parent has not reaped it yet still answers kill(0).
        stat = Path(f"/proc/{pid}/stat").read_text()
        return stat.rsplit(")", 1)[1].split()[0] != "Z"
    except (OSError, IndexError):
        return True


def _parse_lock(data: bytes) -> LockInfo | None:
    try:
        raw = json.loads(data)
        return LockInfo(
            id=str(raw["id"]),
            pid=int(raw["pid"]),
            host=str(raw["host"]),
            user=str(raw["user"]),
            operation=str(raw["operation"]),
            created=str(raw["created"]),
            boot_id=str(raw.get("boot_id", "")),
            pid_ns=str(raw.get("pid_ns", "")),
        )
    except (ValueError, KeyError, TypeError, RecursionError):
        return None


class FileStateStore:
    """A StateStore in a local JSON file (see the module docstring for the files it keeps)."""

    def __init__(self, path: Path | str) -> None:
        self.path = Path(path)
        self.description = str(self.path)
        self.backup_path = Path(f"{self.path}.backup")
        self.lock_path = Path(f"{self.path}.lock")
        self.guard_path = Path(f"{self.path}.lock.guard")
        self.audit_path = Path(f"{self.path}.audit.jsonl")
        self.journal_path = Path(f"{self.path}.journal")
        self._observed = False  # read() or write() has run: _expected is meaningful
        self._expected: tuple[str, int] | None = None  # (lineage, serial) stored; None: no state
        self._sig: _Signature | None = None
        # (inode, end of the last whole record) of the journal as last seen; None: no journal.
        self._journal: tuple[int, int] | None = None
        self._journal_fd: int | None = None
        self._appended = False  # records appended since this store last rewrote the state
        self._account: str | None = None  # the stored state's account binding (compact JSON)
        self._backed_up = False
        # address -> (compact JSON, indented JSON) of the workgroup as last written: an
        # unchanged workgroup is not re-indented (the pure-Python indenting encoder is the
        # main cost of a write; the compact C encoding decides exactly what changed).
        self._cache: dict[str, tuple[str, str]] = {}
        # The workgroup lines of the last encoding, sorted by address (see _encode).
        self._order: list[str] = []
        self._lines: list[str] = []
        self._encoded = False
        self._stale: set[str] = set()  # addresses journaled since the lines were encoded
        self._mutex = threading.Lock()  # the apply may record results from several threads
        self._held: LockInfo | None = None  # the lock this store took and has not released
        self._lost: str | None = None
        self._lock_checked = 0.0

    # -- reading ---------------------------------------------------------------------------

    def _load(self) -> _Loaded | None:
        """(the state with the journal replayed, the state file's signature, the journal's
        (inode, end of its last whole record)), or None when there is no state file."""
        for _ in range(5):
            try:
                return self._load_once()
            except _Moved:
                continue  # a writer folded the journal in between our two reads: read again
        return self._load_once()

    def _load_once(self) -> _Loaded | None:
        try:
            with os.fdopen(open_own(self.path, os.O_RDONLY), "rb") as f:
                data = f.read()
                st = os.fstat(f.fileno())
        except FileNotFoundError:
            return None
        except UnsafeFileError as exc:
            raise StateError(f"cannot read the state: {exc}") from None
        except OSError as exc:
            raise StateError(f"{self.path}: cannot read the state: {exc.strerror or exc}") from None
        try:
            raw = json.loads(data)
        except RecursionError:
            raise StateError(
                f"{self.path}: the state file is nested too deeply to be a telegent-iac state; {self._fix()}"
            ) from None
        except UnicodeDecodeError as exc:
            raise StateError(f"{self.path}: the state file is not UTF-8 text ({exc.reason}); {self._fix()}") from exc
        except json.JSONDecodeError as exc:
            raise StateError(
                f"{self.path}: the state file is not valid JSON (line {exc.lineno} column {exc.colno}: "
                f"{exc.msg}); {self._fix()}"
            ) from exc
        state = State.from_dict(raw, source=str(self.path))
        try:
            journal = self._replay(state)
        except StateError:
            with contextlib.suppress(OSError):
                if _signature(os.stat(self.path)) != _signature(st):
                    raise _Moved from None
            raise
        return state, _signature(st), journal

    def _replay(self, state: State) -> tuple[int, int] | None:
        """Apply the journal's records that follow `state` to it, in place."""
        try:
            with os.fdopen(open_own(self.journal_path, os.O_RDONLY), "rb") as f:
                data = f.read()
                inode = os.fstat(f.fileno()).st_ino
        except FileNotFoundError:
            return None
        except UnsafeFileError as exc:
            raise StateError(f"cannot read the state journal: {exc}") from None
        except OSError as exc:
            raise StateError(f"{self.journal_path}: cannot read the state journal: {exc.strerror or exc}") from None
        pos, line_no = 0, 0
        while pos < len(data):
            end = data.find(b"\n", pos)
            if end < 0:
                break  # a torn last record: its write never returned, so nothing relied on it
            line_no += 1
            try:
                record = json.loads(data[pos:end])
                lineage, serial = str(record["lineage"]), int(record["serial"])
                changes = {str(a): None if w is None else WorkgroupState.from_dict(w)
                           for a, w in record["workgroups"].items()}
            except (ValueError, KeyError, TypeError, AttributeError, RecursionError) as exc:
                if data[end + 1:].strip(b"\0\n"):
                    raise StateError(
                        f"{self.journal_path}: record {line_no} of the state journal is corrupt ({exc}) "
                        f"and more follow; it was left untouched: repair or move it aside"
                    ) from None
                break  # torn at the very end
            pos = end + 1
            if serial <= state.serial:
                continue  # already in the state file (rewritten, journal not yet emptied)
            if lineage != state.lineage or serial != state.serial + 1:
                raise StateError(
                    f"{self.journal_path}: the state journal does not continue the state file (the "
                    f"file holds lineage {state.lineage} serial {state.serial}, record {line_no} is "
                    f"lineage {lineage} serial {serial}): was the state file replaced after a run was "
                    f"killed? Both were left untouched; restore the matching state file, or move the "
                    f"journal aside to give up the changes it holds"
                )
            for address, ws in changes.items():
                if ws is None:
                    state.workgroups.pop(address, None)
                else:
                    state.workgroups[address] = ws
            state.serial = serial
        return inode, pos

    def _fix(self) -> str:
        return f"it was left untouched: repair it, or restore {self.backup_path} or a copy from version control"

    def read(self) -> State | None:
        with self._mutex, self._os_errors(f"reading the state {self.path}"):
            loaded = self._load()
            self._observed = True
            if loaded is None:
                self._expected, self._sig, self._journal = None, None, None
                return None
            state, self._sig, self._journal = loaded
            self._expected = (state.lineage, state.serial)
            self._account = _head_of(state)
            return state

    # -- writing ---------------------------------------------------------------------------

    def _encode(self, state: State, serial: int, changed: Collection[str] | None = None) -> str:
        """Exactly `json.dumps(state.to_dict(), indent=2, sort_keys=True) + "\\n"`, but fast
        for the common case of one workgroup changed since the previous write.

        With `changed`, only those addresses are converted and encoded; the others' lines
        are reused as they are, in a list kept sorted: an apply of 10,000 creates writes the
        state ~20,000 times, and touching every workgroup on every write made it quadratic."""
        if changed is None or not self._encoded:
            self._encode_all(state)
        else:
            self._encode_changed(state, changed)
        head = State(state.lineage, serial, {}, state.format_version, state.account, state.schedules).to_dict()
        parts: list[str] = []
        for key in sorted(head):
            if key == "workgroups" and self._lines:
                rendered = "{\n" + ",\n".join(self._lines) + "\n  }"
            else:
                rendered = _indented(head[key], 1)
            parts.append(f"  {json.dumps(key)}: {rendered}")
        return "{\n" + ",\n".join(parts) + "\n}\n"

    def _line(self, address: str, wg: dict[str, Any]) -> str:
        compact = _compact(wg)
        hit = self._cache.get(address)
        text = hit[1] if hit is not None and hit[0] == compact else _indented(wg, 2)
        self._cache[address] = (compact, text)
        return f"    {_quote(address)}: {text}"

    def _encode_all(self, state: State) -> None:
        order = sorted(state.workgroups)
        old, self._cache = self._cache, {}
        lines = []
        for address in order:
            wg = state.workgroups[address].to_dict()
            if address in old:
                self._cache[address] = old[address]
            lines.append(self._line(address, wg))
        self._order, self._lines, self._encoded = order, lines, True

    def _encode_changed(self, state: State, changed: Collection[str]) -> None:
        order, lines = self._order, self._lines
        for address in sorted(changed):
            i = bisect.bisect_left(order, address)
            present = i < len(order) and order[i] == address
            ws = state.workgroups.get(address)
            if ws is None:
                if present:
                    del order[i], lines[i]
                    self._cache.pop(address, None)
                continue
            line = self._line(address, ws.to_dict())
            if present:
                lines[i] = line
            else:
                order.insert(i, address)
                lines.insert(i, line)

    @contextlib.contextmanager
    def _os_errors(self, doing: str) -> Iterator[None]:
        """An OS error (or a foreign file where one of ours belongs) as one StateError line."""
        try:
            yield
        except UnsafeFileError as exc:
            raise StateError(f"{doing} failed: {exc}") from None
        except OSError as exc:
            where = exc.filename or self.path
            hint = ""
            if exc.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
                hint = " (is the state directory read-only or owned by another user?)"
            raise StateError(f"{doing} failed: {where}: {exc.strerror or exc}{hint}") from None

    def write(self, state: State, changed: Collection[str] | None = None) -> None:
        with self._mutex, self._os_errors(f"writing the state {self.path}"):
            if not self._observed:
                self._adopt_baseline(state)
            expected = self._expected
            # Normally state.serial is the stored serial. A state copied in from another store
            # (state pull/push) may be ahead; the serial never goes backwards either way.
            new_serial = max(expected[1] if expected else 0, state.serial) + 1
            if (
                changed is not None
                and self._backed_up  # a run's first write rewrites the state (and backs it up)
                and expected is not None
                and expected[0] == state.lineage
                and _head_of(state) == self._account  # records carry workgroups only (see _head_of)
                and self._sig is not None
                and (self._journal[1] if self._journal else 0) < max(JOURNAL_COMPACT_BYTES, self._sig[2])
            ):
                self._append(state, changed, new_serial, expected)
            else:
                if not self._backed_up and self._journal is not None and self._journal[1] > 0:
                    self._compact(expected)  # the backup is the state as it was, journal included
                # Journaled addresses are re-encoded too (a run's first write encodes them all).
                hint = None if changed is None or not self._backed_up else {*changed, *self._stale}
                data = self._encode(state, new_serial, hint).encode("ascii")
                self._replace(data, expected, backup=not self._backed_up)
                self._backed_up = True
                self._account = _head_of(state)
            self._expected = (state.lineage, new_serial)
            state.serial = new_serial

    def _append(self, state: State, changed: Collection[str], new_serial: int, expected: tuple[str, int]) -> None:
        """One journal record of the changed addresses, fsynced before returning."""
        workgroups = state.workgroups
        record = {
            "lineage": state.lineage,
            "serial": new_serial,
            "workgroups": {a: workgroups[a].to_dict() if a in workgroups else None for a in sorted(changed)},
        }
        line = (_compact(record) + "\n").encode("ascii")
        with self._guard():
            self._check_unchanged(expected)
            fd = self._open_journal()
            end = self._journal[1] if self._journal else 0
            if os.fstat(fd).st_size != end:
                os.ftruncate(fd, end)  # cut off a torn record before appending after it
            view = memoryview(line)
            while view:
                view = view[os.write(fd, view) :]
            os.fsync(fd)
        self._journal = (os.fstat(fd).st_ino, end + len(line))
        self._appended = True
        self._stale.update(changed)  # the state file's lines no longer cover these

    def _open_journal(self) -> int:
        fd, known = self._journal_fd, self._journal
        if fd is not None and known is not None and os.fstat(fd).st_ino != known[0]:
            os.close(fd)  # the journal was replaced by someone else
            self._journal_fd = None
        if self._journal_fd is None:
            existed = os.path.lexists(self.journal_path)
            self._journal_fd = open_own(self.journal_path, os.O_WRONLY | os.O_APPEND | os.O_CREAT)
            if not existed:
                _fsync_dir(self.path.parent)  # the journal's own name must survive a crash
        return self._journal_fd

    def _replace(self, data: bytes, expected: tuple[str, int] | None, *, backup: bool) -> None:
        """Write `data` as the new state file (temp file, fsync, rename, fsync the directory),
        then empty the journal: replay skips whatever a crash in between leaves in it."""
        directory = self.path.parent
        directory.mkdir(parents=True, exist_ok=True)
        tmp = directory / f".{self.path.name}.{uuid.uuid4().hex}.tmp"
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
        try:
            try:
                view = memoryview(data)
                while view:
                    view = view[os.write(fd, view) :]
                os.fsync(fd)
                sig = _signature(os.fstat(fd))
            finally:
                os.close(fd)
            with self._guard():
                self._check_unchanged(expected)
                if backup and expected is not None:
                    check_own_entry(self.backup_path)
                    self._make_backup()
                os.replace(tmp, self.path)
        except BaseException:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp)
            raise
        _fsync_dir(directory)
        self._sig = sig
        self._truncate_journal()

    def _truncate_journal(self) -> None:
        try:
            size = os.lstat(self.journal_path).st_size
        except FileNotFoundError:
            self._journal = None
        else:
            if size:
                with self._guard():
                    fd = self._open_journal()
                    os.ftruncate(fd, 0)
                    os.fsync(fd)
            self._journal = (os.lstat(self.journal_path).st_ino, 0)
        self._appended = False
        self._stale.clear()

    def _compact(self, expected: tuple[str, int] | None, loaded: _Loaded | None = None) -> None:
        """Fold the journal into the state file at the same serial: exactly what a reader
        replays from disk, whatever the caller holds in memory."""
        loaded = loaded or self._load()
        if loaded is None or expected is None or (loaded[0].lineage, loaded[0].serial) != expected:
            found = None if loaded is None else (loaded[0].lineage, loaded[0].serial)
            raise StateError(
                f"{self.path}: state changed underneath: this run expected {expected} but the file "
                f"and journal now hold {found}; nothing was written"
            )
        stored = loaded[0]
        data = self._encode(stored, stored.serial, set(self._stale) if self._encoded else None).encode("ascii")
        self._replace(data, expected, backup=False)

    def flush(self) -> None:
        """Fold this run's journal into the state file (at the end of a run, and on interrupt)."""
        with self._mutex, self._os_errors(f"writing the state {self.path}"):
            if not self._appended:
                return
            loaded = self._load()
            if loaded is not None and (loaded[0].lineage, loaded[0].serial) != self._expected:
                # Another writer went on from our records (its compare-and-set saw them) and
                # folds them in itself: nothing of ours is left to fold.
                self._appended = False
                return
            self._compact(self._expected, loaded)

    def _adopt_baseline(self, state: State) -> None:
        """A write without a read first: the stored state must be the one `state` came from."""
        loaded = self._load()
        self._observed = True
        if loaded is None:
            self._expected, self._sig, self._journal = None, None, None
            return
        stored, self._sig, self._journal = loaded
        self._expected = (stored.lineage, stored.serial)
        self._account = _head_of(stored)
        if (stored.lineage, stored.serial) != (state.lineage, state.serial):
            raise StateError(
                f"{self.path}: state changed underneath: it holds lineage {stored.lineage} serial "
                f"{stored.serial}, but the state being written came from lineage {state.lineage} "
                f"serial {state.serial}; read it again"
            )

    def _check_unchanged(self, expected: tuple[str, int] | None) -> None:
        """The compare-and-set: cheap (one stat) unless someone else touched the file."""
        try:
            st = os.lstat(self.path)  # a link planted since the read differs, and _load refuses it
        except FileNotFoundError:
            if expected is None:
                return
            raise StateError(
                f"{self.path}: state changed underneath: the file was removed after this run read "
                f"serial {expected[1]}; nothing was written"
            ) from None
        if expected is not None and self._sig == _signature(st) and self._journal_unchanged():
            return
        loaded = self._load()
        found = None if loaded is None else (loaded[0].lineage, loaded[0].serial)
        if found == expected:
            if loaded is not None:  # touched, or rewritten with identical lineage and serial
                self._sig, self._journal = loaded[1], loaded[2]
            return
        what = "no state" if expected is None else f"lineage {expected[0]} serial {expected[1]}"
        now = "no state" if found is None else f"lineage {found[0]} serial {found[1]}"
        raise StateError(
            f"{self.path}: state changed underneath: this run expected {what} but the file now "
            f"holds {now} (another run wrote it; was the lock bypassed?); nothing was written"
        )

    def _journal_unchanged(self) -> bool:
        try:
            st = os.lstat(self.journal_path)
        except FileNotFoundError:
            return self._journal is None or self._journal[1] == 0
        return self._journal is not None and (st.st_ino, st.st_size) == self._journal

    def _make_backup(self) -> None:
        # Every write replaces the state with a new inode, so the current inode is never
        # changed again: a hard link to it is a free, exact backup. Copy where links fail.
        tmp = self.backup_path.parent / f".{self.backup_path.name}.{uuid.uuid4().hex}.tmp"
        try:
            os.link(self.path, tmp)
        except FileNotFoundError:
            return
        except OSError:
            shutil.copyfile(self.path, tmp)
        try:
            os.replace(tmp, self.backup_path)
        except BaseException:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp)
            raise

    @contextlib.contextmanager
    def _guard(self) -> Iterator[None]:
        """Serialise, across processes, every removal of the lock file and every CAS write.

        The lock file itself is only ever *created* atomically (link() fails if it exists),
        but deciding that a lock is stale and removing it are two steps; if two processes
        both saw the same stale lock, the slower one could delete the lock the faster one
        had just taken. Removals (stale takeover, release, force-unlock) therefore happen
        only under this flock, after re-reading the lock file under it: what was judged is
        exactly what gets removed. flock is released by the kernel when its holder dies.
        """
        self.guard_path.parent.mkdir(parents=True, exist_ok=True)
        fd = open_own(self.guard_path, os.O_RDWR | os.O_CREAT)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            yield
        finally:
            os.close(fd)  # releases the flock

    # -- locking ---------------------------------------------------------------------------

    @contextlib.contextmanager
    def lock(self, operation: str, timeout: float = 0.0) -> Iterator[LockInfo]:
        info = self._acquire(operation, timeout)
        self._held, self._lost, self._lock_checked = info, None, time.monotonic()
        try:
            yield info
        finally:
            self._held = None
            try:
                self.flush()  # the state file alone is the state again, however the run ended
            finally:
                self._release(info)

    def _acquire(self, operation: str, timeout: float) -> LockInfo:
        with self._os_errors(f"taking the lock on {self.path}"):
            # Before waiting: a foreign file where a run will write fails the run now, not
            # after its first call.
            for path in (self.path, self.backup_path, self.audit_path, self.guard_path, self.journal_path):
                check_own_entry(path)
            return self._acquire_lock(operation, timeout)

    def _acquire_lock(self, operation: str, timeout: float) -> LockInfo:
        info = LockInfo.for_this_process(operation)
        payload = (json.dumps(asdict(info), indent=2, sort_keys=True) + "\n").encode("utf-8")
        deadline = time.monotonic() + max(timeout, 0.0)
        delay = 0.02
        while True:
            if self._try_create(payload):
                return info
            present, holder = self._inspect_lock()
            if not present:
                continue  # released or stale and removed just now: try again at once
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise LockError(self._locked_message(holder, timeout), holder)
            time.sleep(min(delay * (0.5 + random.random()), remaining))
            delay = min(delay * 2, 1.0)

    def _locked_message(self, holder: LockInfo | None, timeout: float) -> str:
        waited = f" (waited {timeout:g}s)" if timeout > 0 else ""
        if holder is None:
            return (
                f"state {self.path} is locked{waited}, but the lock file {self.lock_path} is "
                f"unreadable; if no run is active, delete that file by hand"
            )
        return (
            f"state {self.path} is {holder.describe()}{waited}{_unprovable(holder)}. If that run is no "
            f"longer active, remove the lock with: telegent-iac force-unlock {holder.id}"
        )

    def _try_create(self, payload: bytes) -> bool:
        # link() is as exclusive as O_CREAT|O_EXCL, but the lock file appears with its
        # content complete, so a waiting process never reads a half-written lock. Where hard
        # links are unsupported we fall back to O_CREAT|O_EXCL and write right away.
        self.lock_path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.lock_path.parent / f".{self.lock_path.name}.{uuid.uuid4().hex}.tmp"
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
        try:
            os.write(fd, payload)
        finally:
            os.close(fd)
        try:
            os.link(tmp, self.lock_path)
            return True
        except FileExistsError:
            return False
        except OSError as exc:
            if exc.errno not in (errno.EPERM, errno.ENOTSUP, errno.EOPNOTSUPP, errno.EMLINK, errno.ENOSYS):
                raise
            try:
                fd = os.open(self.lock_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
            except FileExistsError:
                return False
            try:
                os.write(fd, payload)
            finally:
                os.close(fd)
            return True
        finally:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp)

    def _read_lock(self) -> tuple[bool, LockInfo | None]:
        try:
            data = read_own(self.lock_path)
        except FileNotFoundError:
            return False, None
        return True, _parse_lock(data)

    def _inspect_lock(self) -> tuple[bool, LockInfo | None]:
        """(lock file present, its holder). A stale lock is removed and reported absent."""
        with self._guard():
            present, holder = self._read_lock()
            if holder is not None and self.is_stale(holder):
                log.warning(
                    "removing stale lock on %s: %s, but process %d no longer exists on this host",
                    self.path,
                    holder.describe(),
                    holder.pid,
                )
                os.unlink(self.lock_path)
                return False, None
            return present, holder

    @staticmethod
    def is_stale(holder: LockInfo) -> bool:
        """Stale only when provably dead: same host, same boot, same pid namespace, and no
        such process (or a zombie). A lock taken in another container or pid namespace, before
        a reboot, on another host, or recorded without boot ID and namespace (an older
        version) is never assumed stale: its pid means nothing here. force-unlock breaks it."""
        here = (socket.gethostname(), boot_id(), pid_namespace())
        if not all(here):
            return False  # no /proc: nothing can be proven
        if (holder.host, holder.boot_id, holder.pid_ns) != here:
            return False
        # A pid no process can have is not a record this tool wrote: nothing is proven by it.
        return 0 < holder.pid <= _pid_max() and not pid_alive(holder.pid)

    def _release(self, info: LockInfo) -> None:
        with self._os_errors(f"releasing the lock on {self.path}"), self._guard():
            _, holder = self._read_lock()
            if holder is not None and holder.id == info.id:
                os.unlink(self.lock_path)
                return
        log.warning(
            "the lock on %s (ID %s) was no longer held by this run when it ended (force-unlocked?); "
            "left the current lock file alone",
            self.path,
            info.id,
        )

    def force_unlock(self, lock_id: str) -> None:
        with self._os_errors(f"force-unlock of {self.path}"), self._guard():
            present, holder = self._read_lock()
            if not present:
                raise LockError(f"state {self.path} is not locked")
            if holder is None:
                raise LockError(f"the lock file {self.lock_path} is unreadable; if no run is active, delete it by hand")
            if holder.id != lock_id:
                raise LockError(
                    f"lock ID {lock_id} does not match the lock on {self.path}: it is {holder.describe()}",
                    holder,
                )
            os.unlink(self.lock_path)
        log.warning("force-unlocked %s: removed the lock %s", self.path, holder.describe())

    # -- audit -----------------------------------------------------------------------------

    def append_audit(self, record: dict[str, Any]) -> None:
        line = audit_line(record)
        with self._os_errors(f"appending to the audit log {self.audit_path}"):
            self.audit_path.parent.mkdir(parents=True, exist_ok=True)
            # One write() on an O_APPEND descriptor: concurrent appenders never interleave lines.
            fd = open_own(self.audit_path, os.O_WRONLY | os.O_APPEND | os.O_CREAT)
            try:
                view = memoryview(line)
                while view:
                    view = view[os.write(fd, view) :]
                os.fsync(fd)
            finally:
                os.close(fd)

    def lock_lost(self) -> str | None:
        """Why the lock this run took is no longer its own (None while it is): someone ran
        force-unlock, and perhaps another run has taken the lock since. Re-reads the lock file
        at most every LOCK_CHECK_INTERVAL seconds, so an apply may ask before every call."""
        held = self._held
        if held is None:
            return None
        if self._lost is not None:
            return self._lost
        now = time.monotonic()
        if now - self._lock_checked < LOCK_CHECK_INTERVAL:
            return None
        self._lock_checked = now
        try:
            present, holder = self._read_lock()
        except OSError as exc:  # a foreign file where the lock was is not our lock either
            present, holder = True, None
            log.debug("reading the lock file: %s", exc)
        if present and holder is not None and holder.id == held.id:
            return None
        now_there = "no lock" if not present else holder.describe() if holder else "an unreadable lock file"
        self._lost = (
            f"the lock file {self.lock_path} no longer holds this run's lock (ID {held.id}; it now has "
            f"{now_there}): it was force-unlocked"
        )
        return self._lost

    def close(self) -> None:
        """Fold the journal in and close it."""
        try:
            self.flush()
        finally:
            if self._journal_fd is not None:
                os.close(self._journal_fd)
                self._journal_fd = None


def _head_of(state: State) -> str | None:
    """What journal records do not carry (the account binding and the schedules), compact:
    when it changes, the write is a whole one."""
    if state.account is None and not state.schedules:
        return None
    account = None if state.account is None else state.account.to_dict()
    return _compact({"account": account, "schedules": {a: s.to_dict() for a, s in sorted(state.schedules.items())}})


def _pid_max() -> int:
    try:
        return int(Path("/proc/sys/kernel/pid_max").read_text())
    except (OSError, ValueError):
        return 4_194_304  # the kernel's ceiling for pid_max


def _unprovable(holder: LockInfo) -> str:
    """Why a lock whose holder may be gone is not broken automatically ("" if it is alive here)."""
    if holder.host != socket.gethostname():
        return ""  # describe() names the other host
    if not (holder.boot_id and holder.pid_ns):
        return "; the lock record does not say which boot and pid namespace its pid belongs to"
    if holder.boot_id != boot_id():
        return "; it was taken before this host last booted"
    if holder.pid_ns != pid_namespace():
        return "; its pid is in another pid namespace (another container?), which cannot be checked from here"
    if not 0 < holder.pid <= _pid_max():
        return f"; pid {holder.pid} is not one any process can have (the lock record was not written by a run)"
    return ""


def _fsync_dir(directory: Path) -> None:
    # Makes the rename itself durable; some filesystems refuse fsync on a directory.
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
