"""status_changes: the English text of a note, beside its Thai one

A note in a case's history is shown to citizens on status cards and the timeline. Notes the system writes
(the citizen said "not solved", the case was rerouted) come from the catalogue in both languages; a staff
note is typed in Thai and has no English text. ``note`` stays the Thai (default) text, which staff read too.

Revision ID: 0017
Revises: 0016
"""

import sqlalchemy as sa
from alembic import op

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("status_changes", sa.Column("note_en", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("status_changes") as batch:
        batch.drop_column("note_en")
