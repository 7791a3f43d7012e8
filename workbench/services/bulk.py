"""Set-based writes of many rows: one statement per table and column set, never one per row.

Two writers with one interface, used by inventory sync and by the recompute's findings writes.
On PostgreSQL, ``INSERT ... SELECT FROM unnest(arrays)`` and ``UPDATE ... FROM unnest(arrays)``,
one array parameter per column: one statement per table or column set at any size. Django's
``bulk_create`` / ``bulk_update`` compile every value (and for updates a ``CASE WHEN pk = ...``
branch per row and column) in Python, which measured 5-10x slower (bench/sync.py: 10,000 assets
and 20,000 flows took 8 s to insert that way; bench/recompute.py: rewriting the figures of 6,000
findings after one edit took 11 s). Elsewhere (SQLite, the embedded default) rows are inserted
with ``bulk_create`` and updated with one prepared ``UPDATE`` run over every row
(``executemany``), which SQLite executes in-process without compiling an expression per value.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import datetime
from typing import Any

import orjson
from django.db import connection, models

Row = dict[str, Any]


class OrmWriter:
    """Portable: ``bulk_create`` and ``bulk_update`` (SQLite's 999-variable limit batches them)."""

    def allocate(self, model: type[models.Model], count: int) -> list[int] | None:
        """No keys ahead of the insert here: ``insert`` returns them."""
        return None

    def insert(self, model: type[models.Model], rows: list[Row], constants: Row) -> list[int]:
        objs = model._default_manager.bulk_create([model(**row, **constants) for row in rows])
        return [obj.pk for obj in objs]

    def update(self, model: type[models.Model], rows: list[tuple[int, Row]], constants: Row) -> None:
        """One prepared statement run for every row; values go through each field's own
        conversion (``get_db_prep_save``), as ``save()`` would send them."""
        if not rows:
            return
        qn = connection.ops.quote_name
        pk = model._meta.pk
        assert pk is not None
        names, fixed = list(rows[0][1]), list(constants)
        varying, constant = _fields(model, names), _fields(model, fixed)
        sets = ", ".join(f"{qn(str(field.column))} = %s" for field in (*varying, *constant))
        sql = f"UPDATE {qn(model._meta.db_table)} SET {sets} WHERE {qn(str(pk.column))} = %s"  # noqa: S608
        tail = [f.get_db_prep_save(constants[n], connection) for n, f in zip(fixed, constant, strict=True)]
        params = [
            [*(f.get_db_prep_save(values[n], connection) for n, f in zip(names, varying, strict=True)), *tail, key]
            for key, values in rows
        ]
        with connection.cursor() as cursor:
            cursor.executemany(sql, params)


def _fields(model: type[models.Model], names: Iterable[str]) -> list[models.Field[Any, Any]]:
    return [model._meta.get_field(name) for name in names]  # type: ignore[misc]


def _quoted(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def array_literal(field: models.Field[Any, Any], values: list[Any]) -> str:
    """PostgreSQL's text form of an array (``{"a","b",NULL}``), parsed server-side by ``array_in``.

    Sent as one string parameter: psycopg2 would otherwise render ``ARRAY[...]`` with one
    expression per element, which PostgreSQL parses ten times slower (3.2 s against 0.3 s for
    300,000 strings, measured). One comprehension per column type keeps the Python side cheap.
    """
    if isinstance(field, models.JSONField):
        # orjson: 10,000 small json.dumps calls cost more than the INSERT they feed.
        items = ["NULL" if v is None else _quoted(orjson.dumps(v).decode()) for v in values]
    elif isinstance(field, models.FloatField):
        items = ["NULL" if v is None else repr(float(v)) for v in values]
    elif isinstance(field, models.BooleanField):
        items = ["NULL" if v is None else ("t" if v else "f") for v in values]
    elif isinstance(field, models.IntegerField | models.DecimalField | models.ForeignKey):
        items = ["NULL" if v is None else str(v) for v in values]
    elif isinstance(field, models.DateTimeField):
        items = ["NULL" if v is None else '"' + v.isoformat() + '"' for v in values]
    else:
        items = ["NULL" if v is None else '"' + v.replace("\\", "\\\\").replace('"', '\\"') + '"' for v in values]
    return "{" + ",".join(items) + "}"


class PostgresWriter:
    """One ``unnest`` statement per table or column set, whatever the number of rows; columns
    with one value for every row travel as a single parameter, not as an array."""

    @staticmethod
    def _cast(field: models.Field[Any, Any], array: bool = False) -> str:
        return f"%s::{field.db_type(connection)}{'[]' if array else ''}"

    @staticmethod
    def _scalar(field: models.Field[Any, Any], value: Any) -> Any:
        return json.dumps(value) if isinstance(field, models.JSONField) and value is not None else value

    def allocate(self, model: type[models.Model], count: int) -> list[int] | None:
        """Draw ``count`` primary keys from the table's sequence before inserting.

        Why: with keys known up front, an asset hosted on another new asset gets its host in
        the INSERT itself (no second UPDATE pass, no second foreign-key check per row), and the
        INSERT needs no ``RETURNING`` to be matched back to the items. Keys drawn by a sync that
        rolls back are skipped, as with any sequence.
        """
        if count == 0:
            return []
        table = model._meta.db_table
        column = model._meta.pk.column  # type: ignore[union-attr]
        # The sequence is looked up once (materialised): resolved per row it costs 10x more.
        sql = (
            "WITH seq AS MATERIALIZED (SELECT pg_get_serial_sequence(%s, %s)::regclass AS s) "
            "SELECT nextval(seq.s) FROM seq, generate_series(1, %s)"
        )
        with connection.cursor() as cursor:
            cursor.execute(sql, [table, column, count])
            return [pk for (pk,) in cursor.fetchall()]

    def insert(self, model: type[models.Model], rows: list[Row], constants: Row) -> list[int]:
        """Insert ``rows`` (same keys each) plus ``constants``; returns the new keys in row order
        when rows carry an ``external_id`` but no ``id`` (rows with ``id`` were allocated)."""
        if not rows:
            return []
        qn = connection.ops.quote_name
        names, fixed = list(rows[0]), list(constants)
        varying, constant = _fields(model, names), _fields(model, fixed)
        # Query parameters, in the order their %s appear: the constants of the SELECT list, then the arrays.
        params = [self._scalar(field, constants[name]) for name, field in zip(fixed, constant, strict=True)]
        params += [
            array_literal(field, [row[name] for row in rows]) for name, field in zip(names, varying, strict=True)
        ]
        keyed = "external_id" in names and "id" not in names
        aliases = ", ".join(f"c{index}" for index in range(len(names)))
        sql = "INSERT INTO {} ({}) SELECT {} FROM unnest({}) AS v({}){}".format(  # noqa: S608 - quoted model metadata
            qn(model._meta.db_table),
            ", ".join(qn(str(field.column)) for field in (*varying, *constant)),
            ", ".join([*(f"v.c{index}" for index in range(len(names))), *(self._cast(f) for f in constant)]),
            ", ".join(self._cast(field, array=True) for field in varying),
            aliases,
            " RETURNING id, external_id" if keyed else "",
        )
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            if not keyed:
                return []
            # RETURNING order is not promised: match the keys by external id (unique per table here).
            pks = {key: pk for pk, key in cursor.fetchall()}
        return [pks[row["external_id"]] for row in rows]

    def update(self, model: type[models.Model], rows: list[tuple[int, Row]], constants: Row) -> None:
        qn = connection.ops.quote_name
        pk = model._meta.pk
        assert pk is not None
        names, fixed = list(rows[0][1]), list(constants)
        varying, constant = _fields(model, names), _fields(model, fixed)
        # Query parameters, in the order their %s appear: the constants of the SET list, then the arrays.
        params = [self._scalar(field, constants[name]) for name, field in zip(fixed, constant, strict=True)]
        params.append(array_literal(pk, [row_pk for row_pk, _ in rows]))
        params += [
            array_literal(f, [values[name] for _, values in rows]) for name, f in zip(names, varying, strict=True)
        ]
        sets = [f"{qn(str(field.column))} = v.c{index}" for index, field in enumerate(varying)]
        sets += [f"{qn(str(field.column))} = {self._cast(field)}" for field in constant]
        sql = "UPDATE {} AS t SET {} FROM unnest({}) AS v(pk, {}) WHERE t.{} = v.pk".format(  # noqa: S608
            qn(model._meta.db_table),
            ", ".join(sets),
            ", ".join(self._cast(field, array=True) for field in (pk, *varying)),
            ", ".join(f"c{index}" for index in range(len(names))),
            qn(str(pk.column)),
        )
        with connection.cursor() as cursor:
            cursor.execute(sql, params)


Writer = OrmWriter | PostgresWriter


def writer_for_connection() -> Writer:
    return PostgresWriter() if connection.vendor == "postgresql" else OrmWriter()


def create_all(model: type[models.Model], objs: list[Any], *, now: datetime) -> None:
    """Insert ``objs`` as ``bulk_create`` would (each gets its primary key; ``auto_now`` and
    ``auto_now_add`` columns take ``now``), in one ``unnest`` statement on PostgreSQL."""
    if not objs:
        return
    writer = writer_for_connection()
    if isinstance(writer, OrmWriter):
        model._default_manager.bulk_create(objs, batch_size=1000)
        return
    keys = writer.allocate(model, len(objs))
    assert keys is not None
    fields = list(model._meta.concrete_fields)
    stamped = [f.attname for f in fields if getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False)]
    for obj, key in zip(objs, keys, strict=True):
        obj.pk = key
        for name in stamped:
            setattr(obj, name, now)
        obj._state.adding, obj._state.db = False, connection.alias
    writer.insert(model, [{f.attname: getattr(obj, f.attname) for f in fields} for obj in objs], {})
