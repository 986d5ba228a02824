"""dashboard: the roll-up per Bangkok calendar month, and an ``all`` row a day, kept by the same triggers

``case_monthly_stats`` and ``case_resolve_months`` are ``case_daily_stats`` and ``case_resolve_days`` per Bangkok
calendar month (``month`` is its first day). The triggers of ``0016`` are replaced by ones whose statements
write the day and the month rows together (five grouped upserts), in the same transaction as every change of
a case: a long period reads its whole months there and only its edge days from the daily tables, so a year
costs a few thousand rows, not a few hundred thousand. The ``all`` dimension (key ``""``) counts every case once:
the trend and the ratings read one row a day (index ``dimension, day``).

Both dialects bucket a stamp by its Asia/Bangkok day and month (UTC+7, no daylight saving): PostgreSQL by
``timezone('Asia/Bangkok', ...)``, SQLite by ``date(..., '+7 hours'[, 'start of month'])`` of the stored UTC
text. The upgrade rebuilds the five tables from the cases; the downgrade puts back the triggers of ``0016``
and drops what this added.

Revision ID: 0021
Revises: 0020
"""

import importlib.util
from pathlib import Path

import sqlalchemy as sa
from alembic import op

revision = "0021"
down_revision = "0020"
branch_labels = None
depends_on = None

OPEN_STATES = ("received", "forwarded", "accepted", "in_progress", "waiting_citizen", "reopened")
STAT_COLUMNS = ("received", "resolved", "rated_1", "rated_2", "rated_3", "rated_4", "rated_5")
MAX_DAYS = 3650


def _contributions(r: str, sign: str, day, days) -> str:
    """SQL rows (day, dimension, key, received, resolved, rated_1..5) that the case rows ``r`` add (sign 1) or
    take away (sign -1): one "filed" row per dimension on the day filed, one "resolved" row per dimension on
    the day resolved. ``day`` and ``days`` build the dialect's Bangkok day and whole days between two stamps."""
    parts = []
    dims = (("all", "''"), ("category", f"{r}.category"), ("agency", f"coalesce({r}.agency_id, '')"),
            ("province", f"coalesce({r}.province, '')"))
    for dimension, key in dims:
        parts.append(f"SELECT {day(f'{r}.created_at')} AS day, '{dimension}' AS dimension, {key} AS key, "
                     f"{sign} AS received, 0 AS resolved, 0 AS rated_1, 0 AS rated_2, 0 AS rated_3, 0 AS rated_4, "
                     f"0 AS rated_5 FROM {{source}}")
        ratings = ", ".join(f"CASE WHEN {r}.rating = {n} THEN {sign} ELSE 0 END" for n in range(1, 6))
        parts.append(f"SELECT {day(f'{r}.resolved_at')}, '{dimension}', {key}, 0, {sign}, {ratings} "
                     f"FROM {{source}} WHERE {r}.resolved_at IS NOT NULL")
    return " UNION ALL ".join(parts)


def _resolve_rows(r: str, sign: str, day, days) -> str:
    return (f"SELECT {day(f'{r}.resolved_at')} AS day, {r}.category AS category, "
            f"{days(f'{r}.created_at', f'{r}.resolved_at')} AS days, {sign} AS cases FROM {{source}} "
            f"WHERE {r}.resolved_at IS NOT NULL")


def _open_rows(r: str, sign: str, cell) -> str:
    """Rows (dimension, key, open) that the case rows ``r`` add to or take from the open work, when open."""
    states = ", ".join(f"'{s}'" for s in OPEN_STATES)
    dims = (("category", f"{r}.category"), ("agency", f"coalesce({r}.agency_id, '')"),
            ("province", f"coalesce({r}.province, '')"), ("map", cell(r)))
    parts = [f"SELECT '{dimension}' AS dimension, {key} AS key, {sign} AS open FROM {{source}} "
             f"WHERE {r}.status IN ({states})" for dimension, key in dims]
    parts[-1] += f" AND {r}.latitude IS NOT NULL AND {r}.longitude IS NOT NULL"
    return " UNION ALL ".join(parts)


def _pg_cell(r: str) -> str:
    return f"(round({r}.latitude * 10) / 10)::text || ',' || (round({r}.longitude * 10) / 10)::text"


def _sqlite_cell(r: str) -> str:
    return f"CAST(round({r}.latitude * 10) / 10 AS TEXT) || ',' || CAST(round({r}.longitude * 10) / 10 AS TEXT)"


def _stats_upsert(table: str, period: str, parts: str) -> str:
    """Add the grouped contributions ``parts`` to the roll-up ``table`` keyed by ``period`` (day or month)."""
    sums = ", ".join(f"sum({c})" for c in STAT_COLUMNS)
    nonzero = " OR ".join(f"sum({c}) <> 0" for c in STAT_COLUMNS)
    updates = ", ".join(f"{c} = {table}.{c} + excluded.{c}" for c in STAT_COLUMNS)
    return (f"INSERT INTO {table} ({period}, dimension, key, {', '.join(STAT_COLUMNS)}) "
            f"SELECT day, dimension, key, {sums} FROM ({parts}) AS c GROUP BY day, dimension, key "
            f"HAVING {nonzero} ORDER BY day, dimension, key "
            f"ON CONFLICT ({period}, dimension, key) DO UPDATE SET {updates}")


def _resolve_upsert(table: str, period: str, parts: str) -> str:
    return (f"INSERT INTO {table} ({period}, category, days, cases) "
            f"SELECT day, category, days, sum(cases) FROM ({parts}) AS c GROUP BY day, category, days "
            f"HAVING sum(cases) <> 0 ORDER BY day, category, days "
            f"ON CONFLICT ({period}, category, days) DO UPDATE SET cases = {table}.cases + excluded.cases")


def _upserts(stats: tuple[str, str], days: tuple[str, str], parts_open: str) -> list[str]:
    """The trigger body: ``stats`` and ``days`` are the (per day, per month) contributions."""
    return [
        _stats_upsert("case_daily_stats", "day", stats[0]),
        _stats_upsert("case_monthly_stats", "month", stats[1]),
        _resolve_upsert("case_resolve_days", "day", days[0]),
        _resolve_upsert("case_resolve_months", "month", days[1]),
        f"INSERT INTO case_open_stats (dimension, key, open) "
        f"SELECT dimension, key, sum(open) FROM ({parts_open}) AS c GROUP BY dimension, key "
        f"HAVING sum(open) <> 0 ORDER BY dimension, key "
        f"ON CONFLICT (dimension, key) DO UPDATE SET open = case_open_stats.open + excluded.open",
    ]


def _pg_day(column: str) -> str:
    return f"(timezone('Asia/Bangkok', {column}))::date"


def _pg_month(column: str) -> str:
    return f"(date_trunc('month', timezone('Asia/Bangkok', {column})))::date"


def _pg_days(created: str, resolved: str) -> str:
    return f"least({MAX_DAYS}, greatest(0, floor(extract(epoch FROM {resolved} - {created}) / 86400)))::integer"


def _sqlite_day(column: str) -> str:
    return f"date({column}, '+7 hours')"


def _sqlite_month(column: str) -> str:
    return f"date({column}, '+7 hours', 'start of month')"


def _sqlite_days(created: str, resolved: str) -> str:
    return f"min({MAX_DAYS}, max(0, CAST(julianday({resolved}) - julianday({created}) AS INTEGER)))"


def _parts(sources: list[tuple[str, str]], source, day, month, days, cell) -> tuple:
    """The contributions of ``sources`` ((rows, sign) pairs; ``source(rows)`` is the FROM text, or "" for a
    SQLite row trigger's NEW/OLD): (per day, per month) for both roll-ups, and the open work."""
    def union(build) -> str:
        return " UNION ALL ".join(build(rows, sign).replace(" FROM {source}", source(rows)) for rows, sign in sources)

    def per(period) -> tuple[str, str]:
        return union(lambda r, sign: _contributions(r, sign, period, days)), union(
            lambda r, sign: _resolve_rows(r, sign, period, days))

    (stats_day, days_day), (stats_month, days_month) = per(day), per(month)
    return (stats_day, stats_month), (days_day, days_month), union(lambda r, sign: _open_rows(r, sign, cell))


def _pg_statements(sources: list[tuple[str, str]]) -> list[str]:
    """Upserts for PostgreSQL, ``sources`` being (transition table, sign) pairs."""
    return _upserts(*_parts([(t, sign) for t, sign in sources], lambda t: f" FROM {t}", _pg_day, _pg_month,
                            _pg_days, _pg_cell))


def _sqlite_statements(sources: list[tuple[str, str]], table: str | None = None) -> list[str]:
    """Upserts for a SQLite row trigger, ``sources`` being (NEW or OLD, sign) pairs, or for the backfill from
    ``table``. SQLite needs a WHERE before ON CONFLICT in INSERT ... SELECT (a parsing ambiguity), hence
    ``WHERE true``."""
    source = (lambda r: f" FROM {table} AS {r}") if table else (lambda r: "")
    statements = _upserts(*_parts(sources, source, _sqlite_day, _sqlite_month, _sqlite_days, _sqlite_cell))
    return [s.replace(" GROUP BY", " WHERE true GROUP BY") for s in statements]


EVENTS = {"INSERT": [("new_rows", "1")], "UPDATE": [("new_rows", "1"), ("old_rows", "-1")],
          "DELETE": [("old_rows", "-1")]}
SQLITE_ROWS = {"INSERT": [("NEW", "1")], "UPDATE": [("NEW", "1"), ("OLD", "-1")], "DELETE": [("OLD", "-1")]}


def _install(pg_statements, sqlite_statements, pg_rows: dict, sqlite_rows: dict) -> None:
    """(Re)create the three triggers on ``cases`` from a migration's statement builders."""
    if op.get_bind().dialect.name == "postgresql":
        for event, sources in pg_rows.items():
            name = f"case_stats_{event.lower()}"
            body = ";\n".join(pg_statements(sources))
            op.execute(f"CREATE OR REPLACE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS $$\n"
                       f"BEGIN\n{body};\nRETURN NULL;\nEND $$")
            tables = " ".join(f"{'NEW' if t == 'new_rows' else 'OLD'} TABLE AS {t}" for t, _ in sources)
            op.execute(f"CREATE TRIGGER {name} AFTER {event} ON cases REFERENCING {tables} "
                       f"FOR EACH STATEMENT EXECUTE FUNCTION {name}()")
    else:
        for event, sources in sqlite_rows.items():
            body = ";\n".join(sqlite_statements(sources))
            op.execute(f"CREATE TRIGGER case_stats_{event.lower()} AFTER {event} ON cases FOR EACH ROW "
                       f"BEGIN\n{body};\nEND")


def _drop_triggers() -> None:
    for event in EVENTS:
        if op.get_bind().dialect.name == "postgresql":
            op.execute(f"DROP TRIGGER IF EXISTS case_stats_{event.lower()} ON cases")
        else:
            op.execute(f"DROP TRIGGER IF EXISTS case_stats_{event.lower()}")


def _migration_0016():
    """The previous revision's module, for its trigger builders (the downgrade puts its triggers back)."""
    path = Path(__file__).with_name("0016_case_daily_stats.py")
    spec = importlib.util.spec_from_file_location("siang_migration_0016", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def upgrade() -> None:
    _drop_triggers()
    op.create_index("ix_case_daily_stats_dimension_day", "case_daily_stats", ["dimension", "day"])
    op.create_table(
        "case_monthly_stats",
        sa.Column("month", sa.Date(), nullable=False),
        sa.Column("dimension", sa.String(8), nullable=False),
        sa.Column("key", sa.String(96), nullable=False),
        *(sa.Column(c, sa.Integer(), nullable=False, server_default="0") for c in STAT_COLUMNS),
        sa.PrimaryKeyConstraint("month", "dimension", "key", name=op.f("pk_case_monthly_stats")),
    )
    op.create_table(
        "case_resolve_months",
        sa.Column("month", sa.Date(), nullable=False),
        sa.Column("category", sa.String(64), nullable=False),
        sa.Column("days", sa.Integer(), nullable=False),
        sa.Column("cases", sa.Integer(), nullable=False, server_default="0"),
        sa.PrimaryKeyConstraint("month", "category", "days", name=op.f("pk_case_resolve_months")),
    )
    _install(_pg_statements, _sqlite_statements, EVENTS, SQLITE_ROWS)
    # rebuilt from the cases: the day tables gain their ``all`` rows, the month tables are filled
    for table in ("case_daily_stats", "case_resolve_days", "case_open_stats"):
        op.execute(f"DELETE FROM {table}")
    if op.get_bind().dialect.name == "postgresql":
        statements = _pg_statements([("cases", "1")])
    else:
        statements = _sqlite_statements([("r", "1")], table="cases")
    for statement in statements:
        op.execute(statement)


def downgrade() -> None:
    _drop_triggers()
    op.drop_table("case_resolve_months")
    op.drop_table("case_monthly_stats")
    op.drop_index("ix_case_daily_stats_dimension_day", table_name="case_daily_stats")
    op.execute("DELETE FROM case_daily_stats WHERE dimension = 'all'")
    old = _migration_0016()
    _install(old._pg_statements, old._sqlite_statements, old.EVENTS, old.SQLITE_ROWS)
