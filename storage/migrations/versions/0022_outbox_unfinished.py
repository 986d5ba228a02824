"""outbox_messages: partial indexes of the unfinished rows (pending or sending)

Delivery threads claim the first unfinished row of each chat in id order, several chats in one statement
(``storage.outbox.claim_due``), and every claim asks whether an earlier row of the same chat is unfinished.
Over the full table both walk the rows already sent (a chat's whole history, the whole outbox's); these two
indexes hold only the few rows still to deliver, so the claim costs the same after a million deliveries.

Revision ID: 0022
Revises: 0021
"""

import sqlalchemy as sa
from alembic import op

revision = "0022"
down_revision = "0021"
branch_labels = None
depends_on = None

UNFINISHED = sa.text("status IN ('pending', 'sending')")


def upgrade() -> None:
    op.create_index("ix_outbox_messages_unfinished", "outbox_messages", ["id"],
                    postgresql_where=UNFINISHED, sqlite_where=UNFINISHED)
    op.create_index("ix_outbox_messages_unfinished_chat", "outbox_messages", ["recipient", "id"],
                    postgresql_where=UNFINISHED, sqlite_where=UNFINISHED)


def downgrade() -> None:
    op.drop_index("ix_outbox_messages_unfinished_chat", table_name="outbox_messages")
    op.drop_index("ix_outbox_messages_unfinished", table_name="outbox_messages")
