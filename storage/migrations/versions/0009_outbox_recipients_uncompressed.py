"""outbox: keep a multicast's recipient list out of line, uncompressed

A multicast row holds up to 500 user ids (about 17 kB of JSON). PostgreSQL's default TOAST compression
(pglz) spent about 0.3 ms of server CPU per row trying to compress these random hex ids and saved nothing;
with ``STORAGE EXTERNAL`` the value is stored out of line as it is. PostgreSQL only: SQLite has no such knob.

Revision ID: 0009
Revises: 0008
"""

from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("ALTER TABLE outbox_messages ALTER COLUMN recipients SET STORAGE EXTERNAL")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("ALTER TABLE outbox_messages ALTER COLUMN recipients SET STORAGE EXTENDED")
