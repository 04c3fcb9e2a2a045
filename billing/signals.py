"""Every client gets its account when it is created, so that the client list can sort by
balance with one join. Bulk loaders that bypass signals call
`billing.services.accounts_create_for_clients`; `account_for_client` also creates a missing
account on first use."""


def create_account_with_client(sender, instance, created, raw=False, **kwargs):
    if not created or raw:
        return
    from .models import Account

    # ON CONFLICT DO NOTHING: harmless if the account exists already.
    Account.objects.for_tenant(instance.tenant).bulk_create(
        [Account(tenant_id=instance.tenant_id, client=instance)], ignore_conflicts=True
    )
