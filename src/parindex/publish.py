"""Publishing a build: its files replace the previous ones in the destination as one set.

A build writes everything into a scratch folder beside the destination (same filesystem, so
a rename is atomic). Publishing is a roll-forward commit:

1. every file is complete (and on disk) in the scratch folder;
2. a marker listing them is written there, atomically: from then on the set is committed;
3. the files are renamed into the destination, one ``os.replace`` each;
4. the marker and the folder are removed.

A build killed during step 3 leaves a new notebook beside the old HTML or PDF. The next
build into that destination finds the folder of the dead process: with a marker it finishes
the renames (the files still there are the ones not yet moved); without one nothing was
published and the folder is deleted.

Steps 2 to 3 run under a lock on the destination (flock on the folder's own descriptor, so
no lock file is left among the outputs): two builds of one report leave one build's complete
set, and a set left committed by a dead build is finished before a newer one is moved in.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
from collections.abc import Iterator
from pathlib import Path

from .lifecycle import OWNER, exit_if_orphaned, make_scratch, remove, stale

MARKER = "publish.json"


def _scratch_name(dest: Path) -> str:
    return f".{dest.name}.building"


def scratch_folder(dest: Path) -> Path:
    """A new scratch folder beside ``dest``, once what dead builds left there is dealt with."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    recover(dest)
    return make_scratch(_scratch_name(dest), dest.parent)


@contextlib.contextmanager
def _locked(dest: Path) -> Iterator[int]:
    fd = os.open(dest, os.O_RDONLY | os.O_DIRECTORY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield fd
    finally:
        os.close(fd)  # closing releases the lock


def _fsync(path: Path, flags: int = os.O_RDONLY) -> None:
    fd = os.open(path, flags)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _write_marker(scratch: Path, dest: Path, names: list[str]) -> None:
    """The commit point: written whole under a temporary name, then renamed."""
    tmp = scratch / f"{MARKER}.tmp"
    with tmp.open("w", encoding="utf-8") as f:
        json.dump({"dest": os.path.relpath(dest, scratch), "files": names}, f)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, scratch / MARKER)
    _fsync(scratch, os.O_RDONLY | os.O_DIRECTORY)


def _read_marker(scratch: Path, dest: Path) -> list[str] | None:
    """The files a committed set still has to move into ``dest``; None when there is no commit."""
    try:
        doc = json.loads((scratch / MARKER).read_text(encoding="utf-8"))
        names = [str(n) for n in doc["files"]]
        target = (scratch / str(doc["dest"])).resolve()
    except (OSError, ValueError, KeyError, TypeError):
        return None  # no marker (or not ours whole): nothing was published from here
    # only plain names, only into this destination: the marker decides which files move where
    if target != dest.resolve() or any(n != Path(n).name or n in ("", ".", "..", MARKER, OWNER) for n in names):
        return None
    return names


def _roll_forward(scratch: Path, dest: Path, names: list[str], dest_fd: int) -> None:
    for n in names:
        with contextlib.suppress(FileNotFoundError):  # moved before the crash
            os.replace(scratch / n, dest / n)
    os.fsync(dest_fd)  # the renames are on disk before the commit is forgotten
    with contextlib.suppress(FileNotFoundError):
        (scratch / MARKER).unlink()


def _finish_dead(dest: Path, dest_fd: int) -> None:
    """Under the lock: finish the set a dead build committed to ``dest`` (at most one, since each
    holder of the lock finishes those before its own)."""
    for folder in stale(dest.parent, _scratch_name(dest)):
        names = _read_marker(folder, dest)
        if names is not None:
            _roll_forward(folder, dest, names, dest_fd)
        remove(folder)  # finished, or never committed here


def recover(dest: Path) -> None:
    """Finish what dead builds committed to ``dest`` and remove the scratch folders they left."""
    folders = stale(dest.parent, _scratch_name(dest))
    if any((f / MARKER).is_file() for f in folders):
        dest.mkdir(parents=True, exist_ok=True)
        with _locked(dest) as fd:
            _finish_dead(dest, fd)
    for f in folders:
        if not (f / MARKER).is_file():  # never committed (a dead process's folder gains no marker)
            remove(f)


def publish(files: list[Path], dest: Path) -> list[Path]:
    """Move finished files from one scratch folder into ``dest`` as one set (see the module doc).

    Other languages' and other notebooks' outputs in the same folder are left alone.
    """
    if not files:
        return []
    names = [f.name for f in files]
    scratch = files[0].parent
    if any(f.parent != scratch for f in files):
        raise ValueError("the files of one set are published from one folder")
    dest.mkdir(parents=True, exist_ok=True)
    for f in files:  # complete on disk before the commit names them
        _fsync(f)
    with _locked(dest) as fd:
        _finish_dead(dest, fd)
        exit_if_orphaned()  # a worker whose parent died publishes nothing (the user stopped the batch)
        _write_marker(scratch, dest, names)
        _roll_forward(scratch, dest, names, fd)
    return [dest / n for n in names]
