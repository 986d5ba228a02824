"""console: staff accounts, login attempts, API keys, audit log, case notes, category corrections,
editable agencies and categories, and the dashboard's indexes on cases

Revision ID: 0005
Revises: 0002
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0002"
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
Stamp = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "agencies",
        sa.Column("id", sa.String(96), nullable=False),
        sa.Column("name_th", sa.String(300), nullable=False),
        sa.Column("name_en", sa.String(300), nullable=True),
        sa.Column("level", sa.String(16), nullable=False),
        sa.Column("hotline", sa.String(32), nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_agencies")),
    )
    op.create_table(
        "categories",
        sa.Column("id", sa.String(64), nullable=False),
        sa.Column("label_th", sa.String(200), nullable=False),
        sa.Column("label_en", sa.String(200), nullable=True),
        sa.Column("target_days", sa.Float(), nullable=False),
        sa.Column("urgent", sa.Boolean(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_categories")),
    )
    op.create_table(
        "staff_users",
        sa.Column("id", BigId, nullable=False),
        sa.Column("username", sa.String(64), nullable=False),
        sa.Column("display_name", sa.String(200), nullable=False),
        sa.Column("password_hash", sa.String(200), nullable=False),
        sa.Column("role", sa.String(24), nullable=False),
        sa.Column("agency_id", sa.String(96), nullable=True),
        sa.Column("provinces", sa.Text(), nullable=True),
        sa.Column("totp_secret", sa.String(64), nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", Stamp, nullable=False),
        sa.Column("last_login_at", Stamp, nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_staff_users")),
        sa.UniqueConstraint("username", name=op.f("uq_staff_users_username")),
    )
    op.create_table(
        "login_attempts",
        sa.Column("id", BigId, nullable=False),
        sa.Column("username", sa.String(64), nullable=False),
        sa.Column("address", sa.String(64), nullable=True),
        sa.Column("success", sa.Boolean(), nullable=False),
        sa.Column("created_at", Stamp, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_login_attempts")),
    )
    op.create_index("ix_login_attempts_username_created", "login_attempts", ["username", "created_at"])
    op.create_index("ix_login_attempts_address_created", "login_attempts", ["address", "created_at"])
    op.create_table(
        "api_keys",
        sa.Column("id", BigId, nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("prefix", sa.String(12), nullable=False),
        sa.Column("key_hash", sa.String(64), nullable=False),
        sa.Column("scope", sa.String(16), nullable=False),
        sa.Column("agency_id", sa.String(96), nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_by", sa.String(96), nullable=True),
        sa.Column("created_at", Stamp, nullable=False),
        sa.Column("last_used_at", Stamp, nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_api_keys")),
        sa.UniqueConstraint("key_hash", name=op.f("uq_api_keys_key_hash")),
    )
    op.create_table(
        "audit_entries",
        sa.Column("id", BigId, nullable=False),
        sa.Column("actor", sa.String(96), nullable=False),
        sa.Column("action", sa.String(48), nullable=False),
        sa.Column("target", sa.String(200), nullable=True),
        sa.Column("details", sa.Text(), nullable=True),
        sa.Column("address", sa.String(64), nullable=True),
        sa.Column("created_at", Stamp, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_entries")),
    )
    op.create_index(op.f("ix_audit_entries_actor"), "audit_entries", ["actor"])
    op.create_index(op.f("ix_audit_entries_created_at"), "audit_entries", ["created_at"])
    op.create_table(
        "case_notes",
        sa.Column("id", BigId, nullable=False),
        sa.Column("case_id", BigId, nullable=False),
        sa.Column("author", sa.String(96), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("created_at", Stamp, nullable=False),
        sa.ForeignKeyConstraint(["case_id"], ["cases.id"], name=op.f("fk_case_notes_case_id_cases"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_case_notes")),
    )
    op.create_index(op.f("ix_case_notes_case_id"), "case_notes", ["case_id"])
    op.create_table(
        "category_corrections",
        sa.Column("id", BigId, nullable=False),
        sa.Column("case_id", BigId, nullable=True),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("old_category", sa.String(64), nullable=False),
        sa.Column("new_category", sa.String(64), nullable=False),
        sa.Column("corrected_by", sa.String(96), nullable=False),
        sa.Column("created_at", Stamp, nullable=False),
        sa.ForeignKeyConstraint(["case_id"], ["cases.id"], name=op.f("fk_category_corrections_case_id_cases"),
                                ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_category_corrections")),
    )
    op.create_index(op.f("ix_category_corrections_case_id"), "category_corrections", ["case_id"])
    op.create_index("ix_cases_created_at", "cases", ["created_at"])
    op.create_index("ix_cases_resolved_at", "cases", ["resolved_at"])
    op.create_index("ix_cases_province_status", "cases", ["province", "status"])


def downgrade() -> None:
    op.drop_index("ix_cases_province_status", table_name="cases")
    op.drop_index("ix_cases_resolved_at", table_name="cases")
    op.drop_index("ix_cases_created_at", table_name="cases")
    for table in ("category_corrections", "case_notes", "audit_entries", "api_keys", "login_attempts",
                  "staff_users", "categories", "agencies"):
        op.drop_table(table)
