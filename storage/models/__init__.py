"""All tables, one module per area; importing this package registers every table on ``Base.metadata``."""

from storage.models.core import (  # noqa: F401
    BigId,
    ChatGroup,
    Citizen,
    InboxEvent,
    OutboxMessage,
    StoredContent,
    utcnow,
)
from storage.models.cases import Case, CaseAttachment, StatusChange, TicketCounter  # noqa: F401
