"""The changes of operators and API tokens are business events, but tenancy sits below the
events app: each service sends `tenancy_changed` in its transaction, through
`tenancy_change_record`, and events records it (events/receivers.py, connected in
EventsConfig.ready()), in that same transaction."""

from django.dispatch import Signal

from core.stored_text import StoredText

# Sent by tenancy.services, in the change's transaction, once per change, with the keyword
# arguments of `tenancy_change_record`.
tenancy_changed = Signal()


def tenancy_change_record(
    *,
    tenant,
    actor,
    type: str,  # noqa: A002 - the event's type, as documented
    description: StoredText,
    object_type: str,
    object_id: int,
    payload: dict,
) -> None:
    tenancy_changed.send(
        sender="tenancy",
        tenant=tenant,
        actor=actor,
        type=type,
        description=description,
        object_type=object_type,
        object_id=object_id,
        payload=payload,
    )
