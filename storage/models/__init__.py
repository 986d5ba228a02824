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
from storage.models.flows import (  # noqa: F401
    CaseSourceEvent, CaseSupporter, Consent, FlowState, HandoverRequest, Opinion, OpinionTopic, Volunteer,
)
from storage.models.delivery import CaseMessage, DeliveryAlert  # noqa: F401
from storage.models.announcements import Announcement, AnnouncementAudit, AnnouncementBatch, Subscription  # noqa: F401,E501
from storage.models.groups import GroupAction, GroupBroadcast, GroupBroadcastDelivery, GroupCaseCard, GroupLink, GroupNoteRequest, LinkCode, StaffMember  # noqa: F401,E501
from storage.models.stats import (CaseDailyStats, CaseMonthlyStats, CaseOpenStats, CaseResolveDays,  # noqa: F401
                                  CaseResolveMonths)
from storage.models.staff import (  # noqa: F401
    Agency, ApiKey, AuditEntry, CaseNote, Category, CategoryCorrection, LoginAttempt, LoginCounter, StaffUser,
)
from storage.models.threads import HandoverMessage, StaffThread  # noqa: F401
from storage.models.work import CaseForward, CasePart, ResponseTemplate  # noqa: F401
from storage.models.integrations import ApiCaseIntake, CaseReference, WebhookRegistration  # noqa: F401
