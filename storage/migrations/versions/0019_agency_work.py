"""agency work: co-handling parts, the forwarding chain, assignment, response templates, proof of work

Traffy-style case work (issue 15): a case keeps one lead agency and gains co-handlers with their own status
(``case_parts``); forwards are kept as rows so a case cannot bounce back unnoticed (``case_forwards``);
an officer can own a case (``cases.assigned_to``); agencies keep ready texts (``response_templates``);
a category can require an after-photo (``categories.requires_after_photo``, ``case_attachments.kind``), and
a group's "resolved" gathers note and photo before resolving (``group_note_requests.note/content_id``).
History steps name the agency they belong to (``status_changes.agency_id/part``), notes too.

Revision ID: 0019
Revises: 0018
"""

import sqlalchemy as sa
from alembic import op

revision = "0019"
down_revision = "0018"
branch_labels = None
depends_on = None

BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "case_parts",
        sa.Column("id", BIG_ID, nullable=False),
        sa.Column("case_id", BIG_ID, nullable=False),
        sa.Column("agency_id", sa.String(96), nullable=False),
        sa.Column("status", sa.String(24), nullable=False),
        sa.Column("assigned_to", BIG_ID, nullable=True),
        sa.Column("invited_by", sa.String(96), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["case_id"], ["cases.id"], name=op.f("fk_case_parts_case_id_cases"),
                                ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["assigned_to"], ["staff_users.id"],
                                name=op.f("fk_case_parts_assigned_to_staff_users"), ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_case_parts")),
        sa.UniqueConstraint("case_id", "agency_id", name="uq_case_parts_case_agency"),
    )
    op.create_index("ix_case_parts_case_id", "case_parts", ["case_id"])
    op.create_index("ix_case_parts_agency_status", "case_parts", ["agency_id", "status"])
    op.create_table(
        "case_forwards",
        sa.Column("id", BIG_ID, nullable=False),
        sa.Column("case_id", BIG_ID, nullable=False),
        sa.Column("from_agency", sa.String(96), nullable=True),
        sa.Column("to_agency", sa.String(96), nullable=False),
        sa.Column("actor", sa.String(96), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("loop_override", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["case_id"], ["cases.id"], name=op.f("fk_case_forwards_case_id_cases"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_case_forwards")),
    )
    op.create_index("ix_case_forwards_case_id", "case_forwards", ["case_id"])
    op.create_table(
        "response_templates",
        sa.Column("id", BIG_ID, nullable=False),
        sa.Column("agency_id", sa.String(96), nullable=True),
        sa.Column("title", sa.String(200), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("state", sa.String(24), nullable=True),
        sa.Column("lang", sa.String(8), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_by", sa.String(96), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_response_templates")),
    )
    op.create_index("ix_response_templates_agency_id", "response_templates", ["agency_id"])
    # Never a batch (copy-and-move) of ``cases`` on SQLite: it would drop the dashboard's triggers (0016).
    # SQLite's ALTER TABLE cannot add the foreign key; staff accounts are disabled, not deleted, there.
    op.add_column("cases", sa.Column("assigned_to", BIG_ID, nullable=True))
    if op.get_bind().dialect.name == "postgresql":
        op.create_foreign_key(op.f("fk_cases_assigned_to_staff_users"), "cases", "staff_users", ["assigned_to"],
                              ["id"], ondelete="SET NULL")
    op.create_index("ix_cases_assigned_to", "cases", ["assigned_to"])
    op.add_column("status_changes", sa.Column("agency_id", sa.String(96), nullable=True))
    op.add_column("status_changes", sa.Column("part", sa.Boolean(), nullable=False, server_default="0"))
    op.add_column("case_notes", sa.Column("agency_id", sa.String(96), nullable=True))
    op.add_column("categories", sa.Column("requires_after_photo", sa.Boolean(), nullable=False,
                                          server_default="0"))
    op.add_column("case_attachments", sa.Column("kind", sa.String(8), nullable=False, server_default="citizen"))
    op.add_column("case_attachments", sa.Column("added_by", sa.String(96), nullable=True))
    op.add_column("group_note_requests", sa.Column("note", sa.Text(), nullable=True))
    op.add_column("group_note_requests", sa.Column("content_id", BIG_ID, nullable=True))


def downgrade() -> None:
    for table, columns in (("group_note_requests", ("content_id", "note")),
                           ("case_attachments", ("added_by", "kind")),
                           ("categories", ("requires_after_photo",)),
                           ("case_notes", ("agency_id",)),
                           ("status_changes", ("part", "agency_id"))):
        with op.batch_alter_table(table) as batch:
            for column in columns:
                batch.drop_column(column)
    op.drop_index("ix_cases_assigned_to", "cases")
    if op.get_bind().dialect.name == "postgresql":
        op.drop_constraint(op.f("fk_cases_assigned_to_staff_users"), "cases", type_="foreignkey")
    op.execute("ALTER TABLE cases DROP COLUMN assigned_to")  # SQLite >= 3.35 drops in place, keeping triggers
    op.drop_table("response_templates")
    op.drop_table("case_forwards")
    op.drop_table("case_parts")
