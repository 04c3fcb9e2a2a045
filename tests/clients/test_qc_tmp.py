import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from tests.clients.test_client_detail import *  # noqa

def test_count(client, owner, customer, tenant):
    make_account(customer, balance="10")
    SubscriptionFactory(tenant=tenant, client=customer)
    with CaptureQueriesContext(connection) as ctx:
        client.get(page_url(customer))
    for q in ctx.captured_queries:
        print(q["sql"][:150])
    print(len(ctx.captured_queries))
