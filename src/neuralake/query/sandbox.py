"""The SQL sandbox: catalog SQL and filter predicates are checked by sqlglot before any engine runs.

:func:`check_query` parses a query with sqlglot (DuckDB dialect, the closest to Polars' SQL) and
raises :class:`~neuralake.errors.SQLNotAllowedError` when it holds:

- more than one statement, or a statement that is not a query (``SELECT``, ``UNION``,
  ``INTERSECT``, ``EXCEPT``, each with ``WITH``): DDL, DML, ``COPY``, ``SET``, ``PRAGMA``,
  ``ATTACH``, ``INSTALL``/``LOAD``, ``USE``, transactions, ``SELECT ... INTO``, ``EXPLAIN
  ANALYZE``. Plain ``EXPLAIN <query>`` is allowed; its query is checked by the same rules;
- a table source other than a named table, a CTE, a subquery or ``VALUES``: table functions
  (``read_csv``, ``glob``, ``generate_series``, ``range``...), a string used as a table
  (``FROM 'file.csv'``), ``UNNEST`` and ``LATERAL``;
- a call to a function outside the allow-list below, a qualified function name (``x.f()``) or a
  function name with non-ASCII characters;
- more than :data:`MAX_NESTING` levels of parentheses (counted before parsing) or nesting too
  deep for the parser.

Allowed functions (sqlglot's expression class where it has one, else the name): arithmetic and
math (``abs``, ``ceil``, ``floor``, ``round``, ``trunc``, ``sign``, ``sqrt``, ``cbrt``,
``exp``, ``ln``, ``log``, ``log10``, ``log2``, ``log1p``, ``pow``, ``pi``, trigonometry in
radians and degrees); strings (``lower``, ``upper``, ``initcap``, ``length``, ``substr``,
``concat``, ``concat_ws``, ``trim``/``ltrim``/``rtrim``, ``replace``, ``starts_with``,
``ends_with``, ``strpos``, ``left``, ``right``, ``lpad``, ``rpad``, ``reverse``, ``repeat``,
``split_part``, ``string_to_array``, ``regexp_like``, ``regexp_replace``, ``normalize``,
``bit_length``, ``octet_length``); dates and times (``extract``, ``date_part``, ``date_trunc``,
``strftime``, ``strptime``, ``date``, ``timestamp``, ``year`` ... ``second``, ``quarter``,
``week``, ``dayofweek``, ``dayofyear``, ``current_date``, ``now``...); ``cast``/``try_cast``,
``coalesce``/``ifnull``, ``nullif``, ``greatest``, ``least``, ``if``, ``CASE``; aggregates
(``count`` incl. ``DISTINCT``, ``sum``, ``avg``, ``min``, ``max``, ``median``, ``stddev``,
``variance``, ``first``, ``last``, ``corr``, ``covar_*``, ``quantile_*``, ``array_agg``,
``string_agg``); window functions (``row_number``, ``rank``, ``dense_rank``, ``percent_rank``,
``cume_dist``, ``ntile``, ``lag``, ``lead``, ``first_value``, ``last_value``, ``nth_value``);
list basics (``[...]``, ``array_contains``, ``array_length``, ``array_get``...). None of them
reads a file, a URL, a setting or the environment. Memory bombs such as ``repeat`` are bounded
by the API's memory limit, not here.

``allow_files=True`` (local Python and ``neuralake query --allow-files`` only) also lets the
``read_*``/``scan_*`` file table functions through; everything else stays refused.

The engine receives :func:`engine_sql` of the checked tree (regenerated, comments dropped), never
the raw text, so a difference between sqlglot's and Polars' parsers cannot slip past the check.
:func:`check_predicate` applies the same function allow-list to filter predicate strings.
"""

from __future__ import annotations

import itertools
import re
from typing import Any

from sqlglot import exp
from sqlglot.dialects.dialect import rename_func
from sqlglot.dialects.duckdb import DuckDB
from sqlglot.errors import ParseError, SqlglotError
from sqlglot.generators.duckdb import DuckDBGenerator
from sqlglot.tokenizer_core import Token, TokenType

from neuralake.errors import SQLError, SQLNotAllowedError

#: The dialect queries and predicates are parsed with.
DIALECT = "duckdb"
#: Deepest nesting of parentheses and brackets accepted; sqlglot's recursive parser and Polars'
#: (whose limit is near 48) both stop not far above it.
MAX_NESTING = 32

_GROUPS: dict[str, tuple[str, ...]] = {
    # sqlglot models these operators and constructs as functions
    "logic": ("And", "Or", "Exists", "Case", "If", "Coalesce", "Nullif", "Greatest", "Least",
              "Cast", "TryCast", "Pow", "StartsWith", "RegexpLike", "RegexpILike", "Array"),
    "math": ("Abs", "Acos", "Asin", "Atan", "Atan2", "Cbrt", "Ceil", "Cos", "Cot", "Degrees",
             "Exp", "Floor", "Ln", "Log", "Pi", "Radians", "Round", "Sign", "Sin", "Sqrt", "Tan",
             "Trunc"),
    "string": ("BitLength", "Concat", "ConcatWs", "EndsWith", "Initcap", "Left", "Length",
               "Lower", "Normalize", "Pad", "RegexpReplace", "Repeat", "Replace", "Reverse",
               "Right", "Split", "SplitPart", "StrPosition", "Substring", "Trim", "Upper"),
    "time": ("CurrentDate", "CurrentTime", "CurrentTimestamp", "Date", "DateTrunc", "Day",
             "DayOfMonth", "DayOfWeek", "DayOfYear", "Extract", "Hour", "Localtime",
             "Localtimestamp", "Minute", "Month", "Quarter", "Second", "StrToDate", "StrToTime",
             "TimeToStr", "Timestamp", "TimestampTrunc", "Week", "Year"),
    "aggregate": ("ApproxQuantile", "ArrayAgg", "Avg", "Corr", "Count", "CovarPop", "CovarSamp",
                  "First", "GroupConcat", "Last", "Max", "Median", "Min", "PercentileCont",
                  "PercentileDisc", "Stddev", "StddevPop", "StddevSamp", "Sum", "Variance",
                  "VariancePop"),
    "window": ("CumeDist", "DenseRank", "FirstValue", "Lag", "LastValue", "Lead", "NthValue",
               "Ntile", "PercentRank", "Rank", "RowNumber"),
    "list": ("ArrayContains", "ArrayReverse", "ArraySize", "ArraySum", "ArrayToString"),
}  # fmt: skip

#: sqlglot expression classes that may be called (a name the installed sqlglot lacks is skipped).
ALLOWED_CLASSES: frozenset[type[exp.Func]] = frozenset(
    getattr(exp, name) for names in _GROUPS.values() for name in names if hasattr(exp, name)
)
#: Functions sqlglot parses as ``exp.Anonymous``, matched by their ASCII lower-case name.
ALLOWED_NAMES: frozenset[str] = frozenset({
    "acosd", "asind", "atand", "atan2d", "cosd", "cotd", "sind", "tand", "log1p", "erf",
    "bit_count", "octet_length", "now", "stdev_samp", "var", "covar", "date_part",
    "array_get", "array_lower", "array_upper", "array_mean", "array_unique",
})  # fmt: skip
_FILE_READER = re.compile(r"(read|scan)_[a-z0-9_]+")
_STATEMENTS: tuple[type[exp.Expr], ...] = tuple(
    getattr(exp, name)
    for name in ("DDL", "DML", "Command", "Copy", "Pragma", "Set", "Use", "Transaction",
                 "Commit", "Rollback", "Attach", "Detach", "Install", "Into", "Describe",
                 "Show", "Merge", "Analyze", "Grant", "Revoke", "Kill", "Refresh")
    if hasattr(exp, name)
)  # fmt: skip
_TABLE_HINT = "; catalog SQL reads catalog tables (db.table), CTEs, subqueries and VALUES"
_FILE_HINT = (
    f"{_TABLE_HINT} (local Python and the CLI may opt in to the read_*/scan_* file functions "
    "with allow_files=True / --allow-files)"
)
_FUNCTION_HINT = (
    "; only the scalar, aggregate and window functions listed in neuralake.query.sandbox are "
    "allowed"
)
_QUERY_HINT = "; catalog SQL runs exactly one query (SELECT, WITH, UNION, INTERSECT, EXCEPT)"
_STRING_TOKENS = frozenset(t for t in TokenType if t.name.endswith("STRING"))
_SCAN = re.compile(r"""['"()\[\]]|--|/\*""")


class PolarsGenerator(DuckDBGenerator):
    """DuckDB's SQL, with the spellings Polars' SQL engine names differently."""

    TRANSFORMS = {
        **DuckDBGenerator.TRANSFORMS,
        exp.ArraySum: rename_func("ARRAY_SUM"),
        exp.Initcap: lambda self, e: self.func("INITCAP", e.this),
        exp.RegexpILike: lambda self, e: self.func(
            "REGEXP_LIKE", e.this, e.expression, exp.Literal.string("i")
        ),
        exp.Split: lambda self, e: self.func("STRING_TO_ARRAY", e.this, e.expression),
    }

    def regexplike_sql(self, expression: exp.RegexpLike) -> str:
        if expression.args.get("full_match"):
            return super().regexplike_sql(expression)
        return self.func(
            "REGEXP_LIKE", expression.this, expression.expression, expression.args.get("flag")
        )

    def trim_sql(self, expression: exp.Trim) -> str:
        chars = expression.expression
        if chars is None:
            return super().trim_sql(expression)
        # Polars reads custom characters only in the standard form (TRIM(s, 'x') is refused).
        position = expression.text("position").upper() or "BOTH"
        return f"TRIM({position} {self.sql(chars)} FROM {self.sql(expression, 'this')})"


class PolarsSQL(DuckDB):
    """The dialect :func:`engine_sql` generates: DuckDB's, as Polars' SQL engine reads it."""

    Generator = PolarsGenerator


def check_nesting(text: str, *, what: str = "SQL query") -> None:
    """Refuse ``text`` (a ``what``) if parentheses or brackets nest deeper than
    :data:`MAX_NESTING`.

    One linear scan (strings, quoted names and comments skipped), run before any recursive
    parser sees the text.

    Raises:
        SQLError: The nesting is too deep (a limit, not a refusal).
    """
    depth = 0
    pos = 0
    while match := _SCAN.search(text, pos):
        token, pos = match.group(), match.end()
        if token in ("'", '"'):
            pos = _closing(text, pos, token)
        elif token == "--":
            end = text.find("\n", pos)
            pos = len(text) if end < 0 else end + 1
        elif token == "/*":
            end = text.find("*/", pos)
            pos = len(text) if end < 0 else end + 2
        elif token in "([":
            depth += 1
            if depth > MAX_NESTING:
                raise SQLError(_too_deep(what))
        else:
            depth -= 1


def _closing(text: str, pos: int, quote: str) -> int:
    """The position after the quote closing a string or name opened before ``pos``."""
    while True:
        end = text.find(quote, pos)
        if end < 0:
            return len(text)
        if text.startswith(quote, end + 1):  # a doubled quote stands for one
            pos = end + 2
            continue
        return end + 1


def _too_deep(what: str = "SQL query") -> str:
    hint = " (e.g. with WITH clauses)" if what == "SQL query" else ""
    return (
        f"Cannot run {what}: it nests deeper than {MAX_NESTING} levels of parentheses or is too "
        f"deep to parse; flatten it{hint}"
    )


def check_query(text: str, *, allow_files: bool = False) -> exp.Expr:
    """Parse ``text`` and refuse anything but one sandboxed query; returns the checked tree.

    Args:
        text: The SQL query.
        allow_files: Also allow the ``read_*``/``scan_*`` file table functions (for local
            Python and the CLI only; never for a served catalog).

    Returns:
        The query's tree; plain ``EXPLAIN <query>`` is an ``exp.Command`` whose ``expression``
        is the checked query. Pass it to :func:`engine_sql` for the text an engine runs.

    Raises:
        SQLError: The text does not parse (or is empty).
        SQLNotAllowedError: It is not one query, or it uses something the sandbox refuses.

    Example:
        >>> engine_sql(check_query("SELECT lower(c_name) FROM crm.customers -- names"))
        'SELECT LOWER(c_name) FROM crm.customers'
        >>> check_query("SELECT * FROM read_csv('/etc/passwd')")  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ...
        neuralake.errors.SQLNotAllowedError: SQL query refused: table function read_csv() is ...
    """
    check_nesting(text)
    try:
        tokens = DuckDB().tokenize(text)
        if (
            tokens
            and tokens[0].token_type != TokenType.IDENTIFIER
            and tokens[0].text.upper() == "EXPLAIN"
        ):
            # sqlglot keeps EXPLAIN's statement as raw text: check that statement on its own.
            body = text[tokens[0].end + 1 :]
            inner = DuckDB().tokenize(body)
            if inner and inner[0].text.upper() in ("ANALYZE", "ANALYSE"):
                raise SQLNotAllowedError(
                    "SQL query refused: EXPLAIN ANALYZE runs the query; use plain EXPLAIN <query>"
                )
            tree = _one_query(inner, body, allow_files=allow_files)
            return exp.Command(this="EXPLAIN", expression=tree)
        return _one_query(tokens, text, allow_files=allow_files)
    except RecursionError:
        raise SQLError(_too_deep()) from None
    except SqlglotError as exc:
        raise SQLError(f"Cannot run SQL query: {describe(exc)}") from exc


def _one_query(tokens: list[Token], text: str, *, allow_files: bool) -> exp.Expr:
    _check_tokens(tokens)
    statements = [s for s in DuckDB().parser().parse(tokens, text) if s is not None]
    if not statements:
        raise SQLError("Cannot run SQL query: the query is empty")
    if len(statements) > 1:
        raise SQLNotAllowedError(
            f"SQL query refused: it holds {len(statements)} statements{_QUERY_HINT}"
        )
    tree = statements[0]
    if not isinstance(tree, exp.Query):
        raise SQLNotAllowedError(f"SQL query refused: {_kind(tree)} is not a query{_QUERY_HINT}")
    _check_tree(tree, text, allow_files=allow_files)
    return tree


def check_predicate(tree: exp.Expr) -> None:
    """Refuse a filter predicate holding queries, tables, statements, parameters or a function
    outside the allow-list (``allow_files`` never applies to predicates).

    Raises:
        SQLNotAllowedError: The predicate uses one of them (the message names it).
    """
    stop: tuple[type[exp.Expr], ...] = (
        exp.Query, exp.Subquery, exp.Exists, exp.Table, exp.From, exp.Join, exp.Lateral,
        exp.Values, exp.Unnest, exp.Placeholder, exp.Parameter, *_STATEMENTS,
    )  # fmt: skip
    try:
        for node in tree.walk():
            if isinstance(node, stop):
                raise SQLNotAllowedError(
                    "queries, subqueries, tables, parameters and statements are not allowed "
                    "in a filter predicate"
                )
            if isinstance(node, exp.Func) and not is_allowed_function(node):
                raise SQLNotAllowedError(
                    f"function {function_name(node)}() is not allowed in a filter predicate"
                    f"{_FUNCTION_HINT}"
                )
    except RecursionError:
        raise SQLError(_too_deep("filter predicate")) from None


def engine_sql(tree: exp.Expr) -> str:
    """The SQL an engine runs for a tree from :func:`check_query` or a checked predicate.

    Regenerated by sqlglot in :class:`PolarsSQL` with comments dropped, so the engine parses
    exactly what was checked.

    Raises:
        SQLNotAllowedError: The tree nests too deep to regenerate.
    """
    try:
        if isinstance(tree, exp.Command):  # EXPLAIN <checked query>
            return f"EXPLAIN {engine_sql(tree.expression)}"
        return tree.sql(dialect=PolarsSQL, comments=False)
    except RecursionError:
        raise SQLError(_too_deep()) from None


def name_columns(tree: exp.Expr) -> exp.Expr:
    """Alias every unaliased output column that calls a function with its SQL text.

    Polars names such a column after its first input (``count(*)`` is ``len``, ``sum(x)`` is
    ``x``); SQL engines name it after the expression. The name is the expression in lower-case
    function spelling, as DuckDB writes it, except that ``count(*)`` keeps its SQL spelling
    (DuckDB says ``count_star()``). Changes ``tree`` in place and returns it.

    Example:
        >>> engine_sql(name_columns(check_query("SELECT count(*), SUM(n) AS s FROM db.t")))
        'SELECT COUNT(*) AS "count(*)", SUM(n) AS s FROM db.t'
    """
    query = tree.expression if isinstance(tree, exp.Command) else tree
    for select in query.find_all(exp.Select):
        for i, column in enumerate(select.expressions):
            if isinstance(column, exp.Alias | exp.Column | exp.Star) or not column.find(exp.Func):
                continue
            name = column.sql(dialect=DIALECT, normalize_functions="lower", comments=False)
            select.expressions[i] = exp.alias_(column.copy(), name, quoted=True)
    return tree


def is_allowed_function(node: exp.Func) -> bool:
    """Whether the sandbox lets ``node`` be called: its sqlglot class is allowed, or it is an
    ``exp.Anonymous`` whose ASCII name is in :data:`ALLOWED_NAMES`."""
    if isinstance(node, exp.Anonymous | exp.AnonymousAggFunc):
        name = node.name
        return name.isascii() and name.lower() in ALLOWED_NAMES
    return type(node) in ALLOWED_CLASSES


def function_name(node: exp.Func) -> str:
    """The name ``node`` is called by, for messages (at most 60 characters)."""
    name = node.name if isinstance(node, exp.Anonymous | exp.AnonymousAggFunc) else ""
    name = (name or node.sql_name()).lower()
    return name if len(name) <= 60 else name[:57] + "..."


def describe(exc: SqlglotError) -> str:
    """sqlglot's error without its terminal highlighting."""
    if isinstance(exc, ParseError) and exc.errors:
        err = exc.errors[0]
        where = f" (line {err.get('line')}, column {err.get('col')})" if err.get("line") else ""
        return f"{err.get('description')}{where}"
    return str(exc).splitlines()[0] if str(exc) else type(exc).__name__


def _check_tokens(tokens: list[Token]) -> None:
    """Refuse what the parsers read differently before sqlglot maps names to functions: a call
    whose written name has non-ASCII characters (look-alikes of allowed names such as full-width
    letters), and a number run into a name (``0x10`` is ``0 AS x10`` to sqlglot, binary to
    Polars)."""
    for token, after in itertools.pairwise(tokens):
        if (
            after.token_type == TokenType.L_PAREN
            and token.token_type not in _STRING_TOKENS
            and not token.text.isascii()
        ):
            raise SQLNotAllowedError(
                f"SQL query refused: function name {_shown(token.text)!r} has non-ASCII "
                f"characters{_FUNCTION_HINT}"
            )
        if (
            token.token_type == TokenType.NUMBER
            and after.token_type == TokenType.VAR
            and after.start == token.end + 1
        ):
            raise SQLNotAllowedError(
                f"SQL query refused: the number {_shown(token.text + after.text)!r} runs into a "
                "name; write numbers in decimal and separate an alias with a space"
            )


def _check_tree(tree: exp.Expr, text: str, *, allow_files: bool) -> None:
    """Refuse statements, non-table sources and functions outside the allow-list in ``tree``."""
    readers: set[int] = set()  # ids of file functions allowed as table sources
    for node in tree.walk():
        if isinstance(node, _STATEMENTS):
            raise SQLNotAllowedError(
                f"SQL query refused: {_kind(node)} is not allowed inside a query{_QUERY_HINT}"
            )
        if isinstance(node, exp.Table):
            _check_table(node, text, allow_files=allow_files, readers=readers)
        elif isinstance(node, exp.Unnest | exp.Lateral):
            kind = "UNNEST" if isinstance(node, exp.Unnest) else "LATERAL"
            raise SQLNotAllowedError(
                f"SQL query refused: {kind} table sources are not allowed{_TABLE_HINT}"
            )
        elif isinstance(node, exp.Dot) and isinstance(node.expression, exp.Func):
            raise SQLNotAllowedError(
                f"SQL query refused: qualified function name {_shown(node.sql(DIALECT))!r} is "
                f"not allowed{_FUNCTION_HINT}"
            )
        elif (
            isinstance(node, exp.Func) and id(node) not in readers and not is_allowed_function(node)
        ):
            raise SQLNotAllowedError(
                f"SQL query refused: function {function_name(node)}() is not allowed"
                f"{_FUNCTION_HINT}"
            )


def _check_table(node: exp.Table, text: str, *, allow_files: bool, readers: set[int]) -> None:
    source = node.this
    if isinstance(source, exp.Func):
        reader = _is_file_reader(source)
        if allow_files and reader:
            readers.add(id(source))
            return
        raise SQLNotAllowedError(
            f"SQL query refused: table function {function_name(source)}() is not allowed"
            f"{_FILE_HINT if reader else _TABLE_HINT}"
        )
    if not isinstance(source, exp.Identifier):
        raise SQLNotAllowedError(
            f"SQL query refused: {_shown(node.sql(DIALECT))!r} is not a table name{_FILE_HINT}"
        )
    for part in node.parts:
        start = part.meta.get("start") if isinstance(part, exp.Identifier) else None
        # DuckDB's parser reads FROM 'file.csv' as a quoted name: only "..." quotes name tables.
        if part.args.get("quoted") and (start is None or text[start : start + 1] != '"'):
            raise SQLNotAllowedError(
                f"SQL query refused: the string {_shown(part.name)!r} is used as a table"
                f"{_FILE_HINT}"
            )


def _is_file_reader(node: exp.Func) -> bool:
    """``read_*``/``scan_*``, judged on the name as written (``lower()`` maps some non-ASCII
    letters, such as the Kelvin sign, to ASCII)."""
    name = node.name if isinstance(node, exp.Anonymous | exp.AnonymousAggFunc) else node.sql_name()
    return name.isascii() and _FILE_READER.fullmatch(name.lower()) is not None


def _kind(node: exp.Expr) -> str:
    if isinstance(node, exp.Into):
        return "SELECT ... INTO"
    if isinstance(node, exp.Command):
        return str(node.this).upper()
    return re.sub(r"(?<=[a-z])(?=[A-Z])", " ", type(node).__name__).upper()


def _shown(value: Any) -> str:
    text = str(value)
    return text if len(text) <= 60 else text[:57] + "..."
