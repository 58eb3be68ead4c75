"""The kernel ``parindex report`` runs its notebooks in: ``python -m parindex.kernel -f FILE``.

It is IPython's kernel (ipykernel) of this environment, with two differences that only
matter for a batch run:

- the report's modules are imported before the kernel starts answering, so that this
  happens while the parent process is still checking parameters, not in the first cell;
- the debugger is left out: no one attaches one to a batch run, and loading debugpy costs
  about a tenth of a second.

Cells run as in any Jupyter kernel, and the notebook's namespace starts empty.
"""

from __future__ import annotations

import sys


def main() -> None:
    import os

    from parindex.lifecycle import die_with_parent

    parent = os.environ.get("PARINDEX_PARENT_PID")
    if parent and parent.isdigit():
        die_with_parent(int(parent))
    # ipykernel treats an ImportError of debugpy as "no debugger available" and carries on.
    sys.modules.setdefault("debugpy", None)
    import parindex.sections  # noqa: F401
    from ipykernel.kernelapp import launch_new_instance

    launch_new_instance()


if __name__ == "__main__":
    main()
