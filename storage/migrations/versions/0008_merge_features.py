"""merge the feature branches (delivery, flows, console, announcements, groups) into one head

Each feature area branched from 0002 so the areas could be built side by side; from here on there is a
single head again and new migrations revise this one.

Revision ID: 0008
Revises: 0003, 0004, 0005, 0006, 0007
"""

revision = "0008"
down_revision = ("0003", "0004", "0005", "0006", "0007")
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
