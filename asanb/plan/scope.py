"""Name resolution for one query step: which frame column (and record path) a dotted name refers to.

ASA identifiers are case-insensitive (../shared/spec/saql.md, "Query shape"), so every lookup folds case
but results keep the column's own spelling. A JOIN or APPLY names its sides' columns ``alias.column`` in
the frame (see ``qualified``), so ``a.x``, ``b.x`` and an unambiguous ``x`` all resolve from column names alone.
"""

from __future__ import annotations

from dataclasses import dataclass

from asanb.errors import PlanError
from asanb.sql import ast

EVENT_TIME = "__ts"
"""The frame column holding each row's event time (datetime64[ns, UTC]); System.Timestamp() reads it."""

INTERNAL_PREFIX = "__"
"""Columns whose names start with this are engine bookkeeping, never part of a user-visible row."""


@dataclass(frozen=True, slots=True)
class ColumnBinding:
    """Where a name's value lives: ``column`` of the frame (None: a whole row as a record, whose
    ``fields`` are ``(field name, frame column)`` pairs), then ``path``, the record fields to walk inside."""

    column: str | None
    path: tuple[str, ...]
    fields: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True, slots=True)
class Scope:
    """The columns a step can see and the aliases that may qualify them (``i.speed`` for ``FROM input i``)."""

    columns: tuple[str, ...]
    qualifiers: tuple[str, ...] = ()

    def _lookup(self, name: str) -> str | None:
        folded = name.lower()
        for column in self.columns:
            if column.lower() == folded:
                return column
        return None

    def is_qualifier(self, name: str) -> bool:
        """True when ``name`` is an input or step alias of this step."""
        return name.lower() in (q.lower() for q in self.qualifiers)

    def resolve(self, ref: ast.ColumnRef) -> ColumnBinding:
        """Bind a dotted name; raises PlanError naming the position when nothing matches."""
        parts = ref.parts
        if len(parts) >= 2 and self.is_qualifier(parts[0]):
            column = self._lookup(qualified(parts[0], parts[1])) or self._lookup(parts[1])
            if column is not None:
                return ColumnBinding(column, tuple(parts[2:]))
            raise self._unknown(ref, parts[1])
        column = self._lookup(parts[0]) or self._joined(ref)
        if column is not None:
            return ColumnBinding(column, tuple(parts[1:]))
        if len(parts) == 1 and self.is_qualifier(parts[0]):
            # An alias used as a value is the whole row as a record (udf.score(Dataframe)).
            return ColumnBinding(None, (), self.record_fields(parts[0]))
        raise self._unknown(ref, parts[0])

    def record_fields(self, alias: str) -> tuple[tuple[str, str], ...]:
        """``(field name, frame column)`` of input or side ``alias`` as a record (``udf.f(a)``, ``a.*``): in
        a JOIN or APPLY the columns named ``alias.x``, as ``x``; otherwise the step's unqualified columns."""
        prefix = alias.lower() + "."
        own = tuple((c[len(prefix):], c) for c in self.visible_columns() if c.lower().startswith(prefix))
        if own:
            return own
        return tuple((c, c) for c in self.visible_columns() if self.short_name(c) == c)

    def _joined(self, ref: ast.ColumnRef) -> str | None:
        """An unqualified name that one side of a JOIN / APPLY has; two sides having it is ambiguous."""
        folded = ref.parts[0].lower()
        found = [c for c in self.columns
                 if "." in c and c.split(".", 1)[1].lower() == folded and self.is_qualifier(c.split(".", 1)[0])]
        if len(found) > 1:
            raise PlanError(f"column '{ref.parts[0]}' is ambiguous: both {' and '.join(found)} have it; "
                            "qualify it with the input alias", ref.span)
        return found[0] if found else None

    def _unknown(self, ref: ast.ColumnRef, name: str) -> PlanError:
        visible = ", ".join(c for c in self.columns if not c.startswith(INTERNAL_PREFIX)) or "(none)"
        return PlanError(
            f"unknown column '{name}'; columns here: {visible}. Check the spelling or the SELECT list of the "
            "step it comes from",
            ref.span,
        )

    def short_name(self, column: str) -> str:
        """``column`` without its JOIN / APPLY alias prefix (the name ``SELECT *`` gives it)."""
        alias, dot, name = column.partition(".")
        return name if dot and self.is_qualifier(alias) else column

    def visible_columns(self) -> tuple[str, ...]:
        """The user-visible columns, in order (what ``SELECT *`` and a whole-row record contain)."""
        return tuple(c for c in self.columns if not c.startswith(INTERNAL_PREFIX))


def qualified(alias: str, column: str) -> str:
    """The frame column of ``column`` from side ``alias`` of a JOIN or APPLY."""
    return f"{alias}.{column}"
