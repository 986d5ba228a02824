"""The case service: the one place where cases are filed and change state.

The conversation flows, the staff console, the LINE-group buttons and the agency API all call these
functions; none of them writes case rows directly.
"""

from bot.casework.filing import CaseDraft, file_case  # noqa: F401
from bot.casework.states import STATES, State  # noqa: F401
