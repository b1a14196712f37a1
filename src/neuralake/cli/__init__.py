"""The ``neuralake`` command line (also ``python -m neuralake``).

One root parser (:mod:`neuralake.cli.app`) takes ``-c/--catalog``, ``--debug`` and
``--version``; each command group lives in its own module (``catalog_cmds``, ``site_cmds``,
``delta_cmds``, ``api_cmds``) and returns data that :mod:`neuralake.cli.output` prints as text or
JSON. The positional ``CATALOG`` of each command still works, with a deprecation note.

Every failure prints one line, ``error: ...``, to stderr (``--debug`` adds the traceback) and
exits with a documented status:

- 0: success
- 1: the command ran and found problems (``check``: drift, or warnings with ``--strict``)
- 2: bad usage, or a neuralake error (catalog, table, filter, SQL, storage, file)
- 3: the table cannot do this (``delta`` commands on a non-Delta table)
- 4: unexpected error (a bug: rerun with ``--debug``)
- 130: interrupted; 141: stdout closed early (e.g. piped into ``head``)
"""

from __future__ import annotations

from neuralake.cli.app import main

__all__ = ["main"]
