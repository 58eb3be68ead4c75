"""Publishing a build: its files replace the previous ones in the destination as one set.

A build writes everything into a scratch folder beside the destination, or inside it when the
destination is a mount point (same filesystem either way, so a rename is atomic). Publishing
is a roll-forward commit:

1. every file is complete (and on disk) in the scratch folder; every destination is checked
   (absent or a file, not a folder; same filesystem; the folder writable) and the files it
   replaces are kept aside in the scratch folder (hard links);
2. a marker listing them is written there, atomically: from then on the set is committed;
3. the files are renamed into the destination, one ``os.replace`` each; if one fails, those
   done are put back (the previous set is restored) and the commit is withdrawn;
4. the marker and the folder are removed; a folder still holding a marker is never removed.

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
import shutil
import stat
from collections.abc import Iterator
from pathlib import Path

from ..errors import ParindexError
from ..proc.lifecycle import OWNER, exit_if_orphaned, make_scratch, remove, stale

MARKER = "publish.json"


def _scratch_name(dest: Path) -> str:
    return f".{dest.name}.building"


_PREVIOUS = ".previous-"  # in a scratch folder: the file a set replaces, kept until the set is in


def _device(path: Path) -> int | None:
    try:
        return os.stat(path).st_dev
    except OSError:
        return None


def _stage(dest: Path) -> Path:
    """Where ``dest``'s builds are staged: beside it, unless it is a mount point (another
    filesystem than its parent's: a rename must always be possible) or its parent takes no new
    entries; then inside it."""
    inside = _device(dest)
    if inside is not None and (inside != _device(dest.parent) or not os.access(dest.parent, os.W_OK | os.X_OK)):
        return dest
    return dest.parent


def _stages(dest: Path) -> list[Path]:
    return [dest.parent] + ([dest] if dest.is_dir() else [])


def scratch_folder(dest: Path) -> Path:
    """A new scratch folder on ``dest``'s filesystem, once what dead builds left there is dealt with."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    recover(dest)
    return make_scratch(_scratch_name(dest), _stage(dest))


def committed(scratch: Path) -> bool:
    """A scratch folder whose set is committed but not yet all in place: keep it (roll-forward)."""
    return (scratch / MARKER).is_file()


def release(scratch: Path, kernel, close) -> None:
    """The end of a build, however it ended: the kernel stopped, ``close()`` (its workers), and
    the scratch folder removed unless a committed set still waits in it for the next run."""
    if kernel:
        kernel.shutdown()
    if close:
        close()
    if not committed(scratch):
        shutil.rmtree(scratch, ignore_errors=True)


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
    if target != dest.resolve() or any(n != Path(n).name or n in ("", ".", "..", MARKER, OWNER)
                                       or n.startswith(_PREVIOUS) for n in names):
        return None
    return names


def _refusal(problem: str, where: Path, fix: str) -> ParindexError:
    return ParindexError(problem, fix=fix, file=str(where))


def _check_destinations(scratch: Path, dest: Path, names: list[str]) -> None:
    """Before the first rename: every file of the set can be put in place."""
    if _device(scratch) != _device(dest):
        raise _refusal("the output folder is on another filesystem than the build folder", dest,
                       "build into a folder on one filesystem")
    if not os.access(dest, os.W_OK | os.X_OK):
        raise _refusal("the output folder is not writable", dest, "choose a folder you can write to")
    for n in names:
        try:
            mode = os.lstat(dest / n).st_mode
        except FileNotFoundError:
            continue
        if not (stat.S_ISREG(mode) or stat.S_ISLNK(mode)):  # a link is replaced, never followed
            kind = "a folder" if stat.S_ISDIR(mode) else "not a regular file"
            raise _refusal(f"{kind} stands where the report's file goes", dest / n,
                           "move it away and build again; the previous report is unchanged")


def _keep_previous(scratch: Path, dest: Path, names: list[str]) -> None:
    """Keep the files the set replaces (a hard link, or a copy), so that a failed rename can be undone."""
    for n in names:
        old, kept = dest / n, scratch / f"{_PREVIOUS}{n}"
        if not os.path.lexists(old):
            continue
        try:
            os.link(old, kept, follow_symlinks=False)
        except OSError:
            shutil.copy2(old, kept, follow_symlinks=False)


def _roll_back(scratch: Path, dest: Path, done: list[str], dest_fd: int) -> None:
    """Undo the renames ``done``: each previous file back in place (or the new one out again)."""
    for n in reversed(done):
        kept = scratch / f"{_PREVIOUS}{n}"
        if os.path.lexists(kept):
            os.replace(kept, dest / n)
        else:
            os.replace(dest / n, scratch / n)
    os.fsync(dest_fd)
    (scratch / MARKER).unlink()  # withdrawn: nothing of this set is published
    _fsync(scratch, os.O_RDONLY | os.O_DIRECTORY)


def _roll_forward(scratch: Path, dest: Path, names: list[str], dest_fd: int) -> list[str]:
    """The renames; returns the names moved by this call."""
    done = []
    for n in names:
        with contextlib.suppress(FileNotFoundError):  # moved before the crash
            os.replace(scratch / n, dest / n)
            done.append(n)
    os.fsync(dest_fd)  # the renames are on disk before the commit is forgotten
    with contextlib.suppress(FileNotFoundError):
        (scratch / MARKER).unlink()
    return done


def _failed(e: OSError, where: Path) -> ParindexError:
    from ..errors import os_error

    return os_error(e, where, "the previous report is unchanged") or ParindexError(
        f"cannot put the report in place ({e.strerror or type(e).__name__}); the previous report is unchanged",
        fix="check the output folder", file=str(where), exit_code=1)


def _finish_dead(dest: Path, dest_fd: int) -> None:
    """Under the lock: finish the set a dead build committed to ``dest`` (at most one, since each
    holder of the lock finishes those before its own)."""
    for folder in [f for stage in _stages(dest) for f in stale(stage, _scratch_name(dest))]:
        names = _read_marker(folder, dest)
        if names is not None:
            try:
                _roll_forward(folder, dest, names, dest_fd)
            except OSError as e:  # the folder is kept: a later run finishes the set
                raise ParindexError(f"a report committed by an earlier, stopped build could not be put in place "
                                    f"({e.strerror or type(e).__name__})", file=str(dest / Path(e.filename or "").name),
                                    fix=f"move away what is in the way; the files wait in {folder}") from None
        remove(folder)  # finished, or never committed here


def recover(dest: Path) -> None:
    """Finish what dead builds committed to ``dest`` and remove the scratch folders they left."""
    folders = [f for stage in _stages(dest) for f in stale(stage, _scratch_name(dest))]
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
        _check_destinations(scratch, dest, names)
        try:
            _keep_previous(scratch, dest, names)
            _write_marker(scratch, dest, names)
        except OSError as e:  # nothing is published yet
            with contextlib.suppress(FileNotFoundError):
                (scratch / MARKER).unlink()
            raise _failed(e, dest) from None
        done: list[str] = []
        try:
            for n in names:
                os.replace(scratch / n, dest / n)
                done.append(n)
        except OSError as e:
            _roll_back(scratch, dest, done, fd)  # if this fails too, the marker stays: a later run finishes
            raise _failed(e, dest / n) from None
        os.fsync(fd)
        (scratch / MARKER).unlink()
    return [dest / n for n in names]
