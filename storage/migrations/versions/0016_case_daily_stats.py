"""dashboard: daily roll-up of the cases and open-work counts, kept by triggers

``case_daily_stats`` holds, per Bangkok day and per category / agency / province, how many cases were filed
and resolved that day and the ratings of the resolved ones; ``case_resolve_days`` holds, per Bangkok day of
resolution and category, how many cases took each whole number of days. Triggers on ``cases`` update both in
the same transaction as every insert, update and delete of a case, whoever writes it (the case service, the
console, a group button, a bulk statement, a script), so the roll-up is never stale. On PostgreSQL they are
statement-level triggers with transition tables: one grouped upsert per statement, however many rows it
touched. SQLite has only row-level triggers; its data is the embedded mode's small data.

``case_open_stats`` holds the open cases per category, agency, province and map cell of 0.1 degree
("lat,lon"); the dashboard counts the overdue ones as the open ones minus those not yet due, a few
recent cases read by ``ix_cases_status_due``. The upgrade backfills the three tables from the cases.

Revision ID: 0016
Revises: 0011
"""

import sqlalchemy as sa
from alembic import op

revision = "0016"
down_revision = "0011"
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
    dims = (("category", f"{r}.category"), ("agency", f"coalesce({r}.agency_id, '')"),
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


def _upserts(parts_stats: str, parts_days: str, parts_open: str) -> list[str]:
    sums = ", ".join(f"sum({c})" for c in STAT_COLUMNS)
    nonzero = " OR ".join(f"sum({c}) <> 0" for c in STAT_COLUMNS)
    updates = ", ".join(f"{c} = case_daily_stats.{c} + excluded.{c}" for c in STAT_COLUMNS)
    return [
        f"INSERT INTO case_daily_stats (day, dimension, key, {', '.join(STAT_COLUMNS)}) "
        f"SELECT day, dimension, key, {sums} FROM ({parts_stats}) AS c GROUP BY day, dimension, key "
        f"HAVING {nonzero} ORDER BY day, dimension, key "
        f"ON CONFLICT (day, dimension, key) DO UPDATE SET {updates}",
        f"INSERT INTO case_resolve_days (day, category, days, cases) "
        f"SELECT day, category, days, sum(cases) FROM ({parts_days}) AS c GROUP BY day, category, days "
        f"HAVING sum(cases) <> 0 ORDER BY day, category, days "
        f"ON CONFLICT (day, category, days) DO UPDATE SET cases = case_resolve_days.cases + excluded.cases",
        f"INSERT INTO case_open_stats (dimension, key, open) "
        f"SELECT dimension, key, sum(open) FROM ({parts_open}) AS c GROUP BY dimension, key "
        f"HAVING sum(open) <> 0 ORDER BY dimension, key "
        f"ON CONFLICT (dimension, key) DO UPDATE SET open = case_open_stats.open + excluded.open",
    ]


def _pg_day(column: str) -> str:
    return f"(timezone('Asia/Bangkok', {column}))::date"


def _pg_days(created: str, resolved: str) -> str:
    return f"least({MAX_DAYS}, greatest(0, floor(extract(epoch FROM {resolved} - {created}) / 86400)))::integer"


def _sqlite_day(column: str) -> str:
    return f"date({column}, '+7 hours')"


def _sqlite_days(created: str, resolved: str) -> str:
    return f"min({MAX_DAYS}, max(0, CAST(julianday({resolved}) - julianday({created}) AS INTEGER)))"


def _pg_statements(sources: list[tuple[str, str]]) -> list[str]:
    """Upserts for PostgreSQL, ``sources`` being (transition table, sign) pairs."""
    stats = " UNION ALL ".join(_contributions("r", sign, _pg_day, _pg_days).replace("{source}", f"{table} AS r")
                               for table, sign in sources)
    days = " UNION ALL ".join(_resolve_rows("r", sign, _pg_day, _pg_days).replace("{source}", f"{table} AS r")
                              for table, sign in sources)
    opened = " UNION ALL ".join(_open_rows("r", sign, _pg_cell).replace("{source}", f"{table} AS r")
                                for table, sign in sources)
    return _upserts(stats, days, opened)


def _sqlite_statements(sources: list[tuple[str, str]]) -> list[str]:
    """Upserts for a SQLite row trigger, ``sources`` being (NEW or OLD, sign) pairs. SQLite needs a WHERE
    before ON CONFLICT in INSERT ... SELECT (a parsing ambiguity), hence ``WHERE true``."""
    stats = " UNION ALL ".join(_contributions(row, sign, _sqlite_day, _sqlite_days).replace(" FROM {source}", "")
                               for row, sign in sources)
    days = " UNION ALL ".join(_resolve_rows(row, sign, _sqlite_day, _sqlite_days).replace(" FROM {source}", "")
                              for row, sign in sources)
    opened = " UNION ALL ".join(_open_rows(row, sign, _sqlite_cell).replace(" FROM {source}", "")
                                for row, sign in sources)
    return [s.replace(" GROUP BY", " WHERE true GROUP BY") for s in _upserts(stats, days, opened)]


EVENTS = {"INSERT": [("new_rows", "1")], "UPDATE": [("new_rows", "1"), ("old_rows", "-1")],
          "DELETE": [("old_rows", "-1")]}
SQLITE_ROWS = {"INSERT": [("NEW", "1")], "UPDATE": [("NEW", "1"), ("OLD", "-1")], "DELETE": [("OLD", "-1")]}


def upgrade() -> None:
    op.create_table(
        "case_daily_stats",
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("dimension", sa.String(8), nullable=False),
        sa.Column("key", sa.String(96), nullable=False),
        *(sa.Column(c, sa.Integer(), nullable=False, server_default="0") for c in STAT_COLUMNS),
        sa.PrimaryKeyConstraint("day", "dimension", "key", name=op.f("pk_case_daily_stats")),
    )
    op.create_table(
        "case_resolve_days",
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("category", sa.String(64), nullable=False),
        sa.Column("days", sa.Integer(), nullable=False),
        sa.Column("cases", sa.Integer(), nullable=False, server_default="0"),
        sa.PrimaryKeyConstraint("day", "category", "days", name=op.f("pk_case_resolve_days")),
    )
    op.create_table(
        "case_open_stats",
        sa.Column("dimension", sa.String(8), nullable=False),
        sa.Column("key", sa.String(96), nullable=False),
        sa.Column("open", sa.Integer(), nullable=False, server_default="0"),
        sa.PrimaryKeyConstraint("dimension", "key", name=op.f("pk_case_open_stats")),
    )
    if op.get_bind().dialect.name == "postgresql":
        for event, sources in EVENTS.items():
            name = f"case_stats_{event.lower()}"
            body = ";\n".join(_pg_statements(sources))
            op.execute(f"CREATE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS $$\n"
                       f"BEGIN\n{body};\nRETURN NULL;\nEND $$")
            tables = " ".join(f"{'NEW' if t == 'new_rows' else 'OLD'} TABLE AS {t}" for t, _ in sources)
            op.execute(f"CREATE TRIGGER {name} AFTER {event} ON cases REFERENCING {tables} "
                       f"FOR EACH STATEMENT EXECUTE FUNCTION {name}()")
        backfill = [("cases", "1")]
        for statement in _pg_statements(backfill):
            op.execute(statement)
    else:
        for event, sources in SQLITE_ROWS.items():
            body = ";\n".join(_sqlite_statements(sources))
            op.execute(f"CREATE TRIGGER case_stats_{event.lower()} AFTER {event} ON cases FOR EACH ROW "
                       f"BEGIN\n{body};\nEND")
        stats = _contributions("r", "1", _sqlite_day, _sqlite_days).replace("{source}", "cases AS r")
        days = _resolve_rows("r", "1", _sqlite_day, _sqlite_days).replace("{source}", "cases AS r")
        opened = _open_rows("r", "1", _sqlite_cell).replace("{source}", "cases AS r")
        for statement in _upserts(stats, days, opened):
            op.execute(statement.replace(" GROUP BY", " WHERE true GROUP BY"))


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for event in EVENTS:
            op.execute(f"DROP TRIGGER IF EXISTS case_stats_{event.lower()} ON cases")
            op.execute(f"DROP FUNCTION IF EXISTS case_stats_{event.lower()}()")
    else:
        for event in SQLITE_ROWS:
            op.execute(f"DROP TRIGGER IF EXISTS case_stats_{event.lower()}")
    op.drop_table("case_open_stats")
    op.drop_table("case_resolve_days")
    op.drop_table("case_daily_stats")
