"""delivery: LINE error details on outbox rows, delivery alerts (monthly limit pause), case messages

Revision ID: 0003
Revises: 0002
"""

from alembic import op
import sqlalchemy as sa


revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    with op.batch_alter_table("outbox_messages", schema=None) as batch_op:
        batch_op.add_column(sa.Column("error_status", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("error_details", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("failed_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("case_id", BigId, nullable=True))
        batch_op.create_index(batch_op.f("ix_outbox_messages_case_id"), ["case_id"], unique=False)

    op.create_table(
        "delivery_alerts",
        sa.Column("id", BigId, nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("details", sa.Text(), nullable=True),
        sa.Column("paused_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("occurrences", sa.Integer(), nullable=False),
        sa.Column("opened_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("resolved_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_delivery_alerts")),
    )
    with op.batch_alter_table("delivery_alerts", schema=None) as batch_op:
        batch_op.create_index("ix_delivery_alerts_kind_resolved", ["kind", "resolved_at"], unique=False)

    op.create_table(
        "case_messages",
        sa.Column("id", BigId, nullable=False),
        sa.Column("case_id", BigId, nullable=False),
        sa.Column("text", sa.Text(), nullable=True),
        sa.Column("content_id", BigId, nullable=True),
        sa.Column("source_event_id", BigId, nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["case_id"], ["cases.id"], name=op.f("fk_case_messages_case_id_cases"),
                                ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["content_id"], ["stored_content.id"],
                                name=op.f("fk_case_messages_content_id_stored_content"), ondelete="SET NULL"),
        sa.ForeignKeyConstraint(["source_event_id"], ["inbox_events.id"],
                                name=op.f("fk_case_messages_source_event_id_inbox_events"), ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_case_messages")),
    )
    with op.batch_alter_table("case_messages", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_case_messages_case_id"), ["case_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("case_messages", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_case_messages_case_id"))
    op.drop_table("case_messages")
    with op.batch_alter_table("delivery_alerts", schema=None) as batch_op:
        batch_op.drop_index("ix_delivery_alerts_kind_resolved")
    op.drop_table("delivery_alerts")
    with op.batch_alter_table("outbox_messages", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_outbox_messages_case_id"))
        batch_op.drop_column("case_id")
        batch_op.drop_column("failed_at")
        batch_op.drop_column("error_details")
        batch_op.drop_column("error_status")
