"""A notebook's parameters: the names it declares, the values a build passes, and the build key."""

from __future__ import annotations

import hashlib
import json
import logging
from pathlib import Path

from papermill.iorw import load_notebook_node
from papermill.translators import PythonTranslator
from papermill.utils import find_first_tagged_cell_index

from .. import __version__
from ..infer.analysis import analyse, load_bundle
from ..data.datapackage import sha256
from ..errors import ParindexError, clean
from ..data.labels import LANGS
from ..data.loading import check_input_file

PARAMETER_TYPES: dict[str, type] = {"year": int, "par_index_file": str, "sipas_file": str, "lang": str,
                                    "province": str, "assume_announced": bool, "rules_file": str,
                                    "without": str}
INPUT_FILES = ("par_index_file", "sipas_file", "rules_file")


def build_key(nb_path: Path, params: dict, formats: tuple[str, ...]) -> str:
    """What a report is built from: package version, notebook, parameters, formats, data, input files."""
    material = {
        "parindex_version": __version__, "notebook": sha256(nb_path),
        "parameters": params, "formats": sorted(formats),
        "data_checksums": load_bundle().checksums,
        "inputs": input_digests(params),
    }
    return hashlib.sha256(json.dumps(material, sort_keys=True).encode()).hexdigest()


def input_digests(params: dict) -> dict[str, str]:
    return {k: sha256(Path(params[k])) for k in INPUT_FILES if params.get(k)}


def validate_parameters(params: dict, notebook: Path) -> dict:
    """Refuse unknown names, wrong types, years without data and missing files before any cell runs."""
    for k, v in params.items():
        if k not in PARAMETER_TYPES:
            raise ParindexError(f"unknown parameter '{k}'", file=str(notebook),
                                fix=f"use one of {', '.join(PARAMETER_TYPES)}")
        if not isinstance(v, PARAMETER_TYPES[k]) or (isinstance(v, bool) and PARAMETER_TYPES[k] is not bool):
            raise ParindexError(f"parameter '{k}' must be {PARAMETER_TYPES[k].__name__}, got {v!r}",
                                file=str(notebook), fix=f"pass {k} as {PARAMETER_TYPES[k].__name__}")
    if params.get("lang", "vi") not in LANGS:
        raise ParindexError(f"unknown language '{params['lang']}'", fix="use vi or en")
    for k in INPUT_FILES:
        if params.get(k):
            check_input_file(params[k])
    year = params.get("year")
    years = load_bundle().years()
    if year not in years and not (params.get("par_index_file") or params.get("sipas_file")):
        raise ParindexError(f"no bundled data for {year}",
                            fix=f"choose one of {', '.join(map(str, years))} or pass --par-index/--sipas")
    if params.get("par_index_file") or params.get("sipas_file") or params.get("rules_file"):
        # a bad table or rules file is an input error (exit 2), found before any cell runs (report.build
        # reads the files themselves before it launches the kernel)
        analyse(year, params.get("par_index_file") or None, params.get("sipas_file") or None,
                rules_file=params.get("rules_file") or None)
    declared, unread = _declared(notebook)
    missing = set(params) - set(declared)
    if missing:
        raise ParindexError(f"notebook has no parameter {sorted(missing)}", file=str(notebook),
                            fix="add it to the cell tagged 'parameters'"
                                + (f" (papermill: {unread[0]})" if unread else ""))
    return params


def notebook_parameters(notebook: Path) -> list[str]:
    """The names assigned in the cell tagged 'parameters', as papermill reads them."""
    return _declared(notebook)[0]


class _Unread(logging.Handler):
    """papermill's warnings about lines of the cell it could not read, kept for the error message."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(record.getMessage())


def _declared(notebook: Path) -> tuple[list[str], list[str]]:
    """The declared names, and what papermill could not read.

    This is what ``papermill.inspect_notebook`` does, minus its demand for kernel metadata in
    the notebook: a build always runs on the Python report kernel, whatever the notebook says.
    """
    nb = read_notebook(notebook)
    cell = find_first_tagged_cell_index(nb, "parameters")
    if cell < 0:
        raise ParindexError("notebook has no cell tagged 'parameters'", file=str(notebook),
                            fix="tag the parameters cell")
    # papermill logs a line it cannot read; unhandled, that would print beside our one-line error
    log, unread = logging.getLogger("papermill"), _Unread()
    log.addHandler(unread)
    propagate, log.propagate = log.propagate, False
    try:
        names = [p.name for p in PythonTranslator.inspect(nb.cells[cell])]
    finally:
        log.removeHandler(unread)
        log.propagate = propagate
    return names, unread.lines


def read_notebook(notebook: Path):
    """papermill's loader (normalised metadata and tags), a file that is not a notebook refused in one line."""
    try:
        return load_notebook_node(str(notebook))
    except Exception as e:  # nbformat's NotJSONError, a JSON that is no notebook, a bad encoding...
        first = clean(str(e).strip().splitlines()[0] if str(e).strip() else "", 120)
        raise ParindexError(f"not a readable notebook ({type(e).__name__}{': ' + first if first else ''})",
                            file=str(notebook), fix="pass a .ipynb saved by Jupyter (a copy of notebooks/"
                                                    "yearly_report.ipynb)") from None
