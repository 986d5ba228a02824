"""console security: per-account session version, last TOTP step used, and atomic sign-in counters

``staff_users.session_version`` is copied into each console session and compared on every request: signing
out, disabling an account or changing its password raises it, which ends every session signed before.
``staff_users.totp_last_step`` keeps a TOTP code from being accepted twice within its window.
``login_counters`` holds one row per throttled key (account or address) and window, bumped by one upsert.

Revision ID: 0011
Revises: 0009
"""

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("staff_users") as batch:
        batch.add_column(sa.Column("session_version", sa.Integer(), nullable=False, server_default="0"))
        batch.add_column(sa.Column("totp_last_step", sa.BigInteger(), nullable=True))
    op.create_table(
        "login_counters",
        sa.Column("key", sa.String(160), nullable=False),
        sa.Column("window_started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_login_counters")),
    )


def downgrade() -> None:
    op.drop_table("login_counters")
    with op.batch_alter_table("staff_users") as batch:
        batch.drop_column("totp_last_step")
        batch.drop_column("session_version")
