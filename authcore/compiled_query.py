"""Hot queries compiled to SQL once per thread, then run with each call's values.

Django compiles a ``QuerySet`` to SQL on every evaluation. For a simple ``filter().first()``
that is most of the ~300 µs of Python a query costs here; for the API-key + user LEFT JOIN of
``POST /api/tokens`` (``FilteredRelation``, three models, 30 columns) it is ~800 µs, three
times the RS256 signature (docs/benchmarks.md). A query whose *shape* never changes (only its
values do) does not need that work per request:

- ``CompiledQuery(build, "key_id", "identifier")``: ``build(**values)`` returns the queryset;
  it is compiled once per thread and database alias with a unique placeholder string per
  name, and the positions of those placeholders among the SQL parameters are remembered.
- A call runs the same SQL through Django's own cursor (so query logging, the connection
  health check, transactions and ``CaptureQueriesContext`` behave as for any query) with the
  call's values in those positions, and passes the rows through the compiler's own converters
  (e.g. UUIDs stored as text on SQLite), exactly as ``values_list()`` would.

The compiled SQL and the compiler are kept per thread because the compiler is bound to the
thread's connection object (Django's connections are thread-local). Only string values are
supported: every placeholder must appear among the parameters exactly once, unchanged, or the
compilation fails loudly (a lookup that transforms its value cannot be compiled this way).
"""

from __future__ import annotations

import functools
import secrets
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from django.db import DEFAULT_DB_ALIAS, connections
from django.db.models import Model, QuerySet
from django.db.models.sql import InsertQuery


@dataclass(frozen=True)
class _Compiled:
    sql: str
    # For each SQL parameter: the name of the call value that goes there, or None for a
    # constant of the query itself (kept in ``constants`` at the same position).
    slots: tuple[str | None, ...]
    constants: tuple[Any, ...]
    compiler: Any
    converters: dict[int, Any]


class Around(Protocol):
    """A statement built around a compiled query (e.g. a data-modifying CTE reading it).

    ``statement(sql, width)`` gets the query's SQL and its column count and returns the whole
    statement, which must contain ``sql`` exactly once and before any placeholder of its own;
    ``params`` fill those placeholders, after the query's own.
    """

    params: Sequence[Any]

    def statement(self, sql: str, width: int) -> str: ...


class CompiledQuery:
    """A ``values_list()`` queryset of fixed shape, compiled once per thread (module doc)."""

    def __init__(self, build: Callable[..., QuerySet[Any]], *names: str) -> None:
        self._build = build
        self._names = names
        self._local = threading.local()

    def rows(self, *, using: str = DEFAULT_DB_ALIAS, **values: str) -> list[tuple[Any, ...]]:
        """The rows for these values (every name given at construction, each a string)."""
        return self.rows_for(values, using=using)

    def rows_for(
        self,
        values: Mapping[str, str],
        *,
        using: str = DEFAULT_DB_ALIAS,
        around: Around | None = None,
    ) -> list[tuple[Any, ...]]:
        """``rows()`` with the values in a mapping, optionally inside a larger statement.

        ``around``: a statement that embeds this query (``Around``); its rows keep this
        query's columns first, converted as usual, then its own columns unconverted.
        """
        if set(values) != set(self._names):
            raise TypeError(f"expected values for {sorted(self._names)}, got {sorted(values)}")
        compiled = self._compiled(using)
        params = [
            values[name] if name is not None else constant
            for name, constant in zip(compiled.slots, compiled.constants, strict=True)
        ]
        sql = compiled.sql
        if around is not None:
            sql = around.statement(sql, compiled.compiler.col_count)
            params.extend(around.params)
        with connections[using].cursor() as cursor:
            cursor.execute(sql, params)
            fetched = cursor.fetchall()
        if not compiled.converters:
            return [tuple(row) for row in fetched]
        converted = compiled.compiler.apply_converters(fetched, compiled.converters)
        return [tuple(row) for row in converted]

    def _compiled(self, using: str) -> _Compiled:
        cache: dict[str, _Compiled] | None = getattr(self._local, "cache", None)
        if cache is None:
            cache = self._local.cache = {}
        compiled = cache.get(using)
        if compiled is None:
            compiled = cache[using] = self._compile(using)
        return compiled

    def _compile(self, using: str) -> _Compiled:
        placeholders = {name: f"authcore-param-{secrets.token_hex(8)}" for name in self._names}
        queryset = self._build(**placeholders)
        compiler = queryset.query.get_compiler(using=using)
        sql, params = compiler.as_sql()
        by_placeholder = {value: name for name, value in placeholders.items()}
        slots = tuple(by_placeholder.get(p) if isinstance(p, str) else None for p in params)
        found = [slot for slot in slots if slot is not None]
        if sorted(found) != sorted(self._names):
            raise ValueError(
                f"each of {sorted(self._names)} must be one unchanged SQL parameter; "
                f"found {sorted(found)}"
            )
        fields = [selected[0] for selected in compiler.select[: compiler.col_count]]
        converters = compiler.get_converters(fields)
        pairs = zip(slots, params, strict=True)
        return _Compiled(
            sql=sql,
            slots=slots,
            constants=tuple(None if slot is not None else p for slot, p in pairs),
            compiler=compiler,
            converters=converters,
        )


@functools.cache
def model_columns(model: Any, prefix: str = "") -> tuple[tuple[str, ...], tuple[str, ...]]:
    """``values_list()`` paths (``prefix`` + field name) of a model's concrete fields, and the
    attribute names ``Model.from_db`` takes for them, in the same order (computed once)."""
    fields = model._meta.concrete_fields
    return tuple(prefix + f.name for f in fields), tuple(f.attname for f in fields)


class CompiledInsert:
    """``INSERT`` of one row of ``model``, its SQL compiled once per thread and alias.

    For a model whose primary key the caller sets (nothing to read back). Each call prepares
    the row's values exactly as ``Model.save()`` does (the compiler's own ``pre_save_val`` and
    ``prepare_value``: ``auto_now`` fields, adapters, expressions refused) and runs the same SQL
    through Django's cursor; only the SQL text is reused. Like ``bulk_create()`` it sends no
    ``pre_save``/``post_save`` signals: use it where no receiver needs the creation.
    """

    def __init__(self, model: type[Model]) -> None:
        meta = model._meta
        if meta.db_returning_fields or meta.auto_field is not None:
            raise ValueError(f"{model.__name__} has database-generated fields to read back")
        self._model = model
        self._fields = [f for f in meta.local_concrete_fields if not f.generated]
        self._local = threading.local()

    def insert(self, obj: Model, *, using: str = DEFAULT_DB_ALIAS) -> None:
        if not isinstance(obj, self._model):
            raise TypeError(f"expected a {self._model.__name__}")
        cache: dict[str, tuple[str, Any]] | None = getattr(self._local, "cache", None)
        if cache is None:
            cache = self._local.cache = {}
        compiled = cache.get(using)
        if compiled is None:
            query = InsertQuery(self._model)
            query.insert_values(self._fields, [obj])
            compiler = query.get_compiler(using=using)
            ((sql, params),) = compiler.as_sql()
            if len(params) != len(self._fields):  # one placeholder per field, or not ours
                raise ValueError(f"unexpected INSERT shape for {self._model.__name__}: {sql}")
            compiled = cache[using] = (sql, compiler)
        sql, compiler = compiled
        params = [
            compiler.prepare_value(field, compiler.pre_save_val(field, obj))
            for field in self._fields
        ]
        with connections[using].cursor() as cursor:
            cursor.execute(sql, params)
        obj._state.adding = False
        obj._state.db = using
