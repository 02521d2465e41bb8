"""Pure routing: (routing plan, service, moment) -> Decision. No web, Redis or Twilio here."""
from routing.decide import decide, next_change
from routing.model import (
    Decision,
    Exhausted,
    ExhaustedKind,
    Plan,
    RouteKind,
    Rule,
    Service,
    Step,
    Target,
)

__all__ = [
    "Decision",
    "Exhausted",
    "ExhaustedKind",
    "Plan",
    "RouteKind",
    "Rule",
    "Service",
    "Step",
    "Target",
    "decide",
    "next_change",
]
