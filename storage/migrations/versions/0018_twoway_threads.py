"""staff_threads, handover_messages, case_messages.latitude/longitude: two-way conversations with staff

While an officer's reply or a hand-over is open, the citizen's messages go to it (``bot.casework.threads``):
a thread row says which is open and until when; a hand-over's messages are kept both ways; a location a
citizen sends about a case is kept with its coordinates.

Revision ID: 0018
Revises: 0017
"""

import sqlalchemy as sa
from alembic import op

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "staff_threads",
        sa.Column("id", BigId, primary_key=True, autoincrement=True),
        sa.Column("citizen_id", BigId, sa.ForeignKey("citizens.id", ondelete="CASCADE"), nullable=False),
        sa.Column("case_id", BigId, sa.ForeignKey("cases.id", ondelete="CASCADE"), nullable=True),
        sa.Column("handover_id", BigId, sa.ForeignKey("handover_requests.id", ondelete="CASCADE"), nullable=True),
        sa.Column("opened_by", sa.String(96), nullable=False),
        sa.Column("opened_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_activity_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("closed_by", sa.String(96), nullable=True),
    )
    op.create_index("ix_staff_threads_citizen_closed", "staff_threads", ["citizen_id", "closed_at"])
    op.create_index("ix_staff_threads_case_id", "staff_threads", ["case_id"])
    op.create_index("ix_staff_threads_handover_id", "staff_threads", ["handover_id"])
    op.create_table(
        "handover_messages",
        sa.Column("id", BigId, primary_key=True, autoincrement=True),
        sa.Column("handover_id", BigId, sa.ForeignKey("handover_requests.id", ondelete="CASCADE"), nullable=False),
        sa.Column("sender", sa.String(16), nullable=False),
        sa.Column("author", sa.String(96), nullable=True),
        sa.Column("text", sa.Text(), nullable=True),
        sa.Column("content_id", BigId, sa.ForeignKey("stored_content.id", ondelete="SET NULL"), nullable=True),
        sa.Column("latitude", sa.Float(), nullable=True),
        sa.Column("longitude", sa.Float(), nullable=True),
        sa.Column("source_event_id", BigId, sa.ForeignKey("inbox_events.id", ondelete="SET NULL"), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_handover_messages_handover_id", "handover_messages", ["handover_id"])
    op.add_column("case_messages", sa.Column("latitude", sa.Float(), nullable=True))
    op.add_column("case_messages", sa.Column("longitude", sa.Float(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("case_messages") as batch:
        batch.drop_column("longitude")
        batch.drop_column("latitude")
    op.drop_table("handover_messages")
    op.drop_table("staff_threads")
