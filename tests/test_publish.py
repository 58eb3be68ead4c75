"""Publishing moves a build's files into place as one set, even across a crash (no kernel here)."""

from __future__ import annotations

import fcntl
import shutil
import os
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from conftest import ROOT
from parindex.build import publish

NAMES = ["r.ipynb", "r.html", "r.pdf", "r.build.json"]

# A build that publishes NAMES ("new") into DEST and is killed at one point of the commit:
# at the k-th rename into DEST (0: none done yet), or while writing the marker (k = -1).
CRASH = """
import os, sys
from pathlib import Path
from parindex.build import publish

dest, k, names = Path(sys.argv[1]), int(sys.argv[2]), sys.argv[3:]
scratch = publish.scratch_folder(dest)
for n in names:
    (scratch / n).write_text("new", encoding="utf-8")
real, done = os.replace, [0]

def replace(src, dst):
    if k < 0 and Path(dst).name == publish.MARKER:
        os._exit(9)
    if Path(dst).parent == dest:
        if done[0] == k:
            os._exit(9)
        done[0] += 1
    real(src, dst)

os.replace = replace
publish.publish([scratch / n for n in names], dest)
"""


def _old_set(dest: Path) -> None:
    dest.mkdir()
    for n in NAMES:
        (dest / n).write_text("old", encoding="utf-8")


def _crash(dest: Path, k: int) -> None:
    r = subprocess.run([sys.executable, "-c", CRASH, str(dest), str(k), *NAMES], cwd=ROOT, capture_output=True,
                       text=True)
    assert r.returncode == 9, r.stderr
    assert len(list(dest.parent.glob(f".{dest.name}.building-*"))) == 1  # what the killed build left


def _contents(dest: Path) -> list[str]:
    return [(dest / n).read_text(encoding="utf-8") for n in NAMES]


@pytest.mark.parametrize("k", [0, 1, 3])
def test_a_build_killed_between_renames_is_completed_by_the_next_run(tmp_path, k):
    dest = tmp_path / "2020"
    _old_set(dest)
    _crash(dest, k)
    assert _contents(dest) == ["new"] * k + ["old"] * (len(NAMES) - k)  # a mix, until the next run
    shutil.rmtree(publish.scratch_folder(dest))  # what every build does first
    assert _contents(dest) == ["new"] * len(NAMES)
    assert sorted(p.name for p in dest.iterdir()) == sorted(NAMES)
    assert not list(tmp_path.glob(".2020.building-*"))


def test_a_committed_set_is_finished_before_a_newer_one_is_published(tmp_path):
    dest = tmp_path / "2020"
    _old_set(dest)
    _crash(dest, 2)
    staged = tmp_path / "stage"
    staged.mkdir()
    (staged / "r.html").write_text("newer", encoding="utf-8")
    publish.publish([staged / "r.html"], dest)
    assert _contents(dest) == ["new", "newer", "new", "new"]
    assert not list(tmp_path.glob(".2020.building-*"))


def test_a_build_killed_before_its_commit_changes_nothing(tmp_path):
    dest = tmp_path / "2020"
    _old_set(dest)
    _crash(dest, -1)
    publish.recover(dest)
    assert _contents(dest) == ["old"] * len(NAMES)
    assert not list(tmp_path.glob(".2020.building-*"))


def test_a_marker_only_moves_plain_names_into_its_own_destination(tmp_path):
    dest = tmp_path / "2020"
    _old_set(dest)
    _crash(dest, 0)
    (scratch,) = tmp_path.glob(".2020.building-*")
    (scratch / publish.MARKER).write_text('{"dest": "../elsewhere", "files": ["r.html"]}', encoding="utf-8")
    publish.recover(dest)
    assert _contents(dest) == ["old"] * len(NAMES) and not (tmp_path / "elsewhere").exists()
    assert not scratch.exists()


def test_publishing_waits_for_another_build_of_the_same_folder(tmp_path):
    dest = tmp_path / "2020"
    dest.mkdir()
    staged = tmp_path / "stage"
    staged.mkdir()
    files = [staged / n for n in NAMES]
    for f in files:
        f.write_text("new", encoding="utf-8")
    held = os.open(dest, os.O_RDONLY | os.O_DIRECTORY)
    try:
        fcntl.flock(held, fcntl.LOCK_EX)  # another build is moving its files in
        t = threading.Thread(target=publish.publish, args=(files, dest))
        t.start()
        t.join(timeout=0.5)
        assert t.is_alive() and not any((dest / f.name).exists() for f in files)
    finally:
        os.close(held)
    t.join(timeout=60)  # a deadline only a failure waits out
    assert all((dest / f.name).read_text(encoding="utf-8") == "new" for f in files)
    assert sorted(p.name for p in dest.iterdir()) == sorted(f.name for f in files)  # no lock file left


def test_a_folder_in_the_way_stops_the_set_before_any_rename(tmp_path):
    from parindex.errors import ParindexError

    dest = tmp_path / "2020"
    _old_set(dest)
    (dest / "r.build.json").unlink()
    (dest / "r.build.json").mkdir()  # the case: the last file of the set cannot be renamed
    scratch = publish.scratch_folder(dest)
    for n in NAMES:
        (scratch / n).write_text("new", encoding="utf-8")
    with pytest.raises(ParindexError, match="a folder stands where the report's file goes"):
        publish.publish([scratch / n for n in NAMES], dest)
    assert [(dest / n).read_text(encoding="utf-8") for n in NAMES[:3]] == ["old"] * 3
    assert not publish.committed(scratch) and all((scratch / n).is_file() for n in NAMES)


def test_a_failed_rename_puts_the_previous_set_back(tmp_path, monkeypatch):
    from parindex.errors import ParindexError

    dest = tmp_path / "2020"
    _old_set(dest)
    (dest / "r.pdf").unlink()  # one file of the set is new: after the roll-back it is gone again
    scratch = publish.scratch_folder(dest)
    for n in NAMES:
        (scratch / n).write_text("new", encoding="utf-8")
    real, done = os.replace, []

    def replace(src, dst):
        if Path(dst).parent == dest and Path(src).parent == scratch and not Path(src).name.startswith("."):
            if len(done) == 3:
                raise OSError(28, "No space left on device")
            done.append(src)
        real(src, dst)

    monkeypatch.setattr(os, "replace", replace)
    with pytest.raises(ParindexError, match="the disk is full; the previous report is unchanged"):
        publish.publish([scratch / n for n in NAMES], dest)
    monkeypatch.setattr(os, "replace", real)
    assert sorted(p.name for p in dest.iterdir()) == ["r.build.json", "r.html", "r.ipynb"]
    assert all((dest / n).read_text(encoding="utf-8") == "old" for n in ["r.build.json", "r.html", "r.ipynb"])
    assert not publish.committed(scratch)


def test_a_committed_set_that_cannot_be_finished_is_kept(tmp_path):
    from parindex.errors import ParindexError

    dest = tmp_path / "2020"
    _old_set(dest)
    _crash(dest, 1)  # committed, one file moved
    (dest / "r.pdf").unlink()
    (dest / "r.pdf").mkdir()
    with pytest.raises(ParindexError, match="could not be put in place"):
        publish.recover(dest)
    (scratch,) = tmp_path.glob(".2020.building-*")
    assert publish.committed(scratch)  # kept: the set can still be finished
    (dest / "r.pdf").rmdir()
    publish.recover(dest)
    assert _contents(dest) == ["new"] * len(NAMES) and not scratch.exists()


def test_a_destination_that_is_a_mount_point_is_staged_inside_it(tmp_path):
    dest = tmp_path / "2020"
    dest.mkdir()
    r = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(dest)], capture_output=True)
    if r.returncode != 0:
        pytest.skip("cannot mount a tmpfs here")
    try:
        (dest / "r.html").write_text("old", encoding="utf-8")
        scratch = publish.scratch_folder(dest)
        assert scratch.parent == dest  # beside it, a rename would cross filesystems
        (scratch / "r.html").write_text("new", encoding="utf-8")
        publish.publish([scratch / "r.html"], dest)
        shutil.rmtree(scratch)
        assert (dest / "r.html").read_text(encoding="utf-8") == "new"
        assert sorted(p.name for p in dest.iterdir()) == ["r.html"]
    finally:
        subprocess.run(["umount", "-l", str(dest)], capture_output=True)


def test_a_destination_named_like_a_pattern_leaves_other_destinations_alone(tmp_path):
    dest = tmp_path / "2020"
    _old_set(dest)
    _crash(dest, 1)  # committed, waiting for the next build of 2020
    for odd in ("*", "[2]020", "?020"):
        publish.recover(tmp_path / odd)
    assert len(list(tmp_path.glob(".2020.building-*"))) == 1
    publish.recover(dest)
    assert _contents(dest) == ["new"] * len(NAMES)
