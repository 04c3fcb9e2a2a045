"""What events hears from the apps below it (connected in EventsConfig.ready())."""

from .services import event_record


def tenancy_change_recorded(
    sender,
    *,
    tenant,
    actor,
    type,  # noqa: A002 - the event's type
    description,
    object_type,
    object_id,
    payload,
    **signal,
):
    """An operator's or API token's change, recorded in its transaction like every event."""
    event_record(
        tenant=tenant,
        actor=actor,
        type=type,
        description=description,
        object_type=object_type,
        object_id=object_id,
        payload=payload,
    )
