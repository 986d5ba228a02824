"""Integrations: case references of other channels, the agency API's idempotent intake, outbound webhooks

A complaint often reaches the government twice (1111, 1567, Traffy Fondue, a letter): staff record the other
channel's number on the case and search by it. Agency systems create phone and letter complaints through the
API under their own ticket id (one case per id, whatever the retries). Webhook registrations are the URLs
case events are POSTed to; the deliveries themselves are outbox rows (kind ``webhook``).

Revision ID: 0020
Revises: 0019
"""

import sqlalchemy as sa
from alembic import op

revision = "0020"
down_revision = "0019"
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "case_references",
        sa.Column("id", BigId, primary_key=True, autoincrement=True),
        sa.Column("case_id", BigId, sa.ForeignKey("cases.id", ondelete="CASCADE"), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("value", sa.String(120), nullable=False),
        sa.Column("added_by", sa.String(96), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("case_id", "kind", "value", name="uq_case_references_case_kind_value"),
    )
    op.create_index("ix_case_references_case_id", "case_references", ["case_id"])
    op.create_index("ix_case_references_value", "case_references", ["value"])
    op.create_table(
        "api_case_intakes",
        sa.Column("id", BigId, primary_key=True, autoincrement=True),
        sa.Column("agency_id", sa.String(96), nullable=False),
        sa.Column("client_ticket_id", sa.String(120), nullable=False),
        sa.Column("case_id", BigId, sa.ForeignKey("cases.id", ondelete="CASCADE"), nullable=False),
        sa.Column("api_key_id", BigId, nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("agency_id", "client_ticket_id", name="uq_api_case_intakes_client"),
    )
    op.create_index("ix_api_case_intakes_case_id", "api_case_intakes", ["case_id"])
    op.create_table(
        "webhook_registrations",
        sa.Column("id", BigId, primary_key=True, autoincrement=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("url", sa.String(1000), nullable=False),
        sa.Column("secret", sa.String(128), nullable=False),
        sa.Column("agency_id", sa.String(96), nullable=True),
        sa.Column("api_key_id", BigId, nullable=True),
        sa.Column("events", sa.Text(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_by", sa.String(96), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_webhook_registrations_agency_id", "webhook_registrations", ["agency_id"])


def downgrade() -> None:
    op.drop_table("webhook_registrations")
    op.drop_table("api_case_intakes")
    op.drop_table("case_references")
