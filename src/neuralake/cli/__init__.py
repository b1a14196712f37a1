"""The ``neuralake`` command line (also ``python -m neuralake``).

One root parser (:mod:`neuralake.cli.app`) takes ``-c/--catalog``, ``--debug`` and
``--version``; each command group lives in its own module (``catalog_cmds``, ``site_cmds``,
``delta_cmds``, ``api_cmds``) and returns data that :mod:`neuralake.cli.output` prints as text or
JSON. The positional ``CATALOG`` of each command still works, with a deprecation note.

Every failure prints one line, ``error: ...``, to stderr (``--debug`` adds the traceback) and
exits with a documented status, chosen by the exception's class
(:func:`neuralake.cli.errors.exit_code`):

- 0: success
- 1: unexpected error (a bug: rerun with ``--debug``)
- 2: bad usage (options, operands, no catalog configured, port in use, API settings)
- 3: not found (catalog module or attribute, database, table, site folder)
- 4: invalid input (filter, parameter, SQL, name, schema mismatch, a Delta command on another
  table type, an unsupported storage feature)
- 5: storage (the lake or a file cannot be read or written)
- 6: conflict (a concurrent Delta commit won, or the target already exists)
- 7: the command ran and found problems (``check``: drift, warnings with ``--strict``, or
  breaking changes with ``--against``)
- 130: interrupted; 141: stdout closed early (e.g. piped into ``head``)

Wherever a command writes a file, ``-`` means stdout.
"""

from __future__ import annotations

from neuralake.cli.app import main

__all__ = ["main"]
