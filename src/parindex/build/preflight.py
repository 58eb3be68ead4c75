"""What a build command can refuse before a kernel starts: the options, the input files, the
notebook and the output folder, each in one line (``ParindexError``) and well under a second."""

from __future__ import annotations

import os
import re
import tempfile
from pathlib import Path
from typing import Optional

from ..errors import ParindexError, clean


def out_path(value: Optional[str]) -> Optional[Path]:
    """--out as given: an empty one is a mistake (it would mean the current folder), not a default."""
    if value is None:
        return None
    if not value.strip():
        raise ParindexError("--out is empty", fix="name a folder (--out . for the current one)")
    return Path(value)


def check_notebook(path: Path) -> None:
    """A notebook nbformat can read, refused in one line otherwise (not a traceback after the kernel starts)."""
    import nbformat  # not parameters.read_notebook: that module loads the analysis (a second)

    try:
        nbformat.read(path, as_version=4)
    except Exception as e:  # NotJSONError, a JSON that is no notebook, a bad encoding...
        first = clean(str(e).strip().splitlines()[0] if str(e).strip() else "", 120)
        raise ParindexError(f"not a readable notebook ({type(e).__name__}{': ' + first if first else ''})",
                            file=str(path), fix="pass a .ipynb saved by Jupyter (a copy of notebooks/"
                                                "yearly_report.ipynb)") from None


def check_options(year: str, lang: str, formats: tuple[str, ...], out_dir: Optional[Path],
                   *files: Optional[Path], staged_inside: bool = False) -> None:
    """Everything that can be refused before a kernel starts, refused in well under a second."""
    from ..data.labels import LANGS
    from ..data.loading import check_input_file
    from .report import FORMATS

    if year != "all" and not re.fullmatch(r"[0-9]{4}", year):
        raise ParindexError(f"--year must be a four-digit year or 'all', not '{clean(year, 20)}'",
                            fix="e.g. --year 2020")
    if lang not in LANGS:
        raise ParindexError(f"unknown language '{clean(lang, 20)}'", fix=f"use {' or '.join(LANGS)}")
    bad = [f for f in formats if f not in FORMATS] or ([] if formats else ["(none)"])
    if bad:
        raise ParindexError(f"unknown format '{clean(bad[0], 20)}'", fix="use html, pdf or html,pdf")
    for f in files:
        if f is not None:
            check_input_file(f)
    if out_dir is not None:
        check_out(Path(out_dir), staged_inside)


def check_out(dest: Path, staged_inside: bool = False) -> None:
    """The output folder must be a folder (or not exist yet) that takes the build's files: where
    the build is staged (beside it, or inside it: see publish._stage) takes a new folder, and the
    folder itself takes new files."""
    from .publish import _stage

    if os.path.islink(dest) and not dest.exists():
        raise ParindexError(f"--out is a link to {clean(os.readlink(dest), 200)}, which does not exist",
                            file=str(dest), fix="create the folder it points to, or name another folder")
    if dest.exists() and not dest.is_dir():
        raise ParindexError("--out is a file, not a folder", file=str(dest), fix="name a folder")
    if dest.is_dir():
        probes = [dest] if staged_inside else list(dict.fromkeys([_stage(dest), dest]))
    else:
        probe = dest.absolute().parent
        while not os.path.lexists(probe):
            probe = probe.parent
        if not probe.is_dir():
            raise ParindexError("--out lies under a file", file=str(dest), fix="name a folder")
        probes = [probe]
    for probe in probes:
        try:  # a new folder there (a build folder, or --out itself) and a file in it
            with tempfile.TemporaryDirectory(dir=probe, prefix=".parindex-probe-") as d:
                Path(d, "probe").write_bytes(b"")
        except OSError as e:
            raise ParindexError(f"cannot write {'into' if probe == dest else 'next to'} --out "
                                f"({clean(e.strerror or type(e).__name__, 80)})", file=str(dest),
                                fix="choose a folder you can write to") from None
