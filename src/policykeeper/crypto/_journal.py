"""The erasure journal: an append-only file of destroyed keys, shared safely by every process of one keystore.

One line per entry, ``<entry> <crc32>``: the pseudonymous id of an erased subject, ``msg:<id>`` of a delivered
outbox message, ``req:<ref>`` of a destroyed reply address. A writer takes an exclusive ``flock`` on the file,
appends with ``O_APPEND`` and ``fsync``\\ s before it returns, so an entry that was acknowledged is on disk and no
writer overwrites another's. Readers take no lock: they read only whole lines, from where they stopped last time
(a ``stat`` tells them whether anything new was appended), so a long-running process (``serve``) sees the erasures
made by others at the cost of one ``stat`` per check.

A last line without its newline is a write cut short by a crash; it was never acknowledged, so readers skip it and
the next writer cuts it off. A whole line whose checksum does not match is damage: the journal is refused (it may
hide an erasure), with the line number.
"""

from __future__ import annotations

import fcntl
import os
import threading
import zlib
from collections.abc import Iterable
from pathlib import Path

from .._exceptions import KeyStoreError

__all__ = ["JOURNAL_FILE", "ErasureJournal"]

JOURNAL_FILE = "erasures.journal"
_HEADER = b"policykeeper erasure journal 1\n"
_MAX_ENTRY = 200


def _line(entry: str) -> bytes:
    raw = entry.encode("utf-8")
    return raw + b" " + b"%08x" % zlib.crc32(raw) + b"\n"


def _check_entry(entry: str) -> None:
    if not entry or len(entry) > _MAX_ENTRY or any(c.isspace() for c in entry) or not entry.isprintable():
        raise KeyStoreError(f"an erasure journal entry is 1 to {_MAX_ENTRY} printable characters without spaces, "
                            f"not {entry[:40]!r}")


class ErasureJournal:
    """The journal file of one keystore; the entries this process has seen, refreshed from the file on demand."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._entries: set[str] = set()
        self._offset = 0
        self._lines = 0
        self._ino: int | None = None
        self._mutex = threading.Lock()

    # -- writing -----------------------------------------------------------------
    @staticmethod
    def create(path: Path) -> None:
        """Create an empty journal (a no-op if one exists)."""
        fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            if os.fstat(fd).st_size == 0:
                os.write(fd, _HEADER)
                os.fsync(fd)
        finally:
            os.close(fd)
        dfd = os.open(path.parent, os.O_RDONLY)
        try:
            os.fsync(dfd)  # the new name itself is durable
        finally:
            os.close(dfd)

    def append(self, entries: Iterable[str]) -> None:
        """Append entries and make them durable before returning; entries already in the journal are skipped."""
        todo = list(dict.fromkeys(entries))
        for e in todo:
            _check_entry(e)
        if not todo:
            return
        self.refresh()
        todo = [e for e in todo if e not in self._entries]
        if not todo:
            return
        try:
            fd = os.open(self.path, os.O_RDWR | os.O_APPEND)
        except FileNotFoundError:
            raise KeyStoreError(f"the erasure journal {self.path} is missing; restore it from the keystore's "
                                "backup (without it, restored backups could bring erased people back)") from None
        except OSError as exc:
            raise KeyStoreError(f"cannot open the erasure journal {self.path}: {type(exc).__name__}") from None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            size = os.fstat(fd).st_size
            if size and os.pread(fd, 1, size - 1) != b"\n":  # a write cut short by a crash: never acknowledged
                tail = os.pread(fd, min(size, 4096), max(0, size - 4096))
                keep = size - len(tail) + tail.rfind(b"\n") + 1 if b"\n" in tail else 0
                if keep < len(_HEADER) and not _HEADER.startswith(os.pread(fd, len(_HEADER), 0)):
                    raise KeyStoreError(f"the erasure journal {self.path} is damaged at its start")
                os.ftruncate(fd, keep)
                size = keep
            head = _HEADER if size == 0 else b""  # created, but its first line was cut short by a crash
            os.write(fd, head + b"".join(_line(e) for e in todo))
            os.fsync(fd)
        except OSError as exc:
            raise KeyStoreError(f"cannot append to the erasure journal {self.path}: {type(exc).__name__}") from None
        finally:
            os.close(fd)  # closing releases the lock
        with self._mutex:
            self._entries.update(todo)

    # -- reading -----------------------------------------------------------------
    def __contains__(self, entry: object) -> bool:
        if entry in self._entries:
            return True  # entries are never removed
        self.refresh()
        return entry in self._entries

    def entries(self) -> frozenset[str]:
        """Every entry, re-read from the file now."""
        self.refresh()
        return frozenset(self._entries)

    def verify(self) -> frozenset[str]:
        """Read the whole file from its start, checking every line; raises KeyStoreError if it cannot be trusted."""
        fresh = ErasureJournal(self.path)
        fresh.refresh()
        with self._mutex:
            self._entries |= fresh._entries
        return frozenset(fresh._entries)

    def refresh(self) -> None:
        """Read what other processes appended since the last look (nothing to read costs one ``stat``)."""
        try:
            st = os.stat(self.path)
        except FileNotFoundError:
            raise KeyStoreError(f"the erasure journal {self.path} is missing; restore it from the keystore's backup "
                                "(without it, restored backups could bring erased people back)") from None
        except OSError as exc:
            raise KeyStoreError(f"cannot read the erasure journal {self.path}: {type(exc).__name__}") from None
        if st.st_ino == self._ino and st.st_size == self._offset:
            return
        with self._mutex:
            if st.st_ino != self._ino or st.st_size < self._offset:  # replaced: read it again from the start
                self._offset, self._lines, self._ino = 0, 0, st.st_ino
            try:
                with open(self.path, "rb") as fh:
                    fh.seek(self._offset)
                    data = fh.read()
            except OSError as exc:
                raise KeyStoreError(f"cannot read the erasure journal {self.path}: {type(exc).__name__}") from None
            end = data.rfind(b"\n") + 1  # a last line without its newline is not (yet) a whole line
            pos, lines = 0, self._lines
            new: list[str] = []
            while pos < end:
                nl = data.index(b"\n", pos)
                raw = data[pos:nl + 1]
                lines += 1
                if lines == 1:
                    if raw != _HEADER:
                        raise KeyStoreError(f"{self.path} is not a policykeeper erasure journal")
                else:
                    new.append(self._parse(raw, lines))
                pos = nl + 1
            self._entries.update(new)
            self._offset += end
            self._lines = lines

    def _parse(self, raw: bytes, n: int) -> str:
        body, sep, crc = raw[:-1].rpartition(b" ")
        if not sep or len(crc) != 8 or b"%08x" % zlib.crc32(body) != crc:
            raise KeyStoreError(f"the erasure journal {self.path} is damaged at line {n}; it may hide an erasure, "
                                "so it is refused: restore the keystore from its backup")
        return body.decode("utf-8")
