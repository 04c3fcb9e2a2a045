"""Operator preferences: one JSON object per membership, under dotted keys such as
`tables.ClientTable.columns` and `pagination.per_page`."""


def get_preference(membership, key: str, default=None):
    if membership is None:
        return default
    return (membership.preferences or {}).get(key, default)
