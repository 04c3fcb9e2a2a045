"""The comparison's second framework: the two measured operations written with Django REST
framework (serializers, APIView, JSON renderer only), over the same middleware, token, scope,
FilterSet, keyset page and ingestion service as the API's django-ninja operations. Served only
by bench/api.py's server (ROOT_URLCONF=api_drf); not part of the product."""

from django.urls import include, path
from rest_framework import serializers
from rest_framework.authentication import BaseAuthentication
from rest_framework.exceptions import PermissionDenied
from rest_framework.parsers import JSONParser
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response
from rest_framework.views import APIView

from clients.api import CLIENT_FIELDS, COLUMNS, SORT_KEYS, client_row
from clients.filters import ClientFilterSet
from clients.models import Client
from clients.modules import default_sort_for
from core.api import keyset_page
from messaging.services import messages_ingest
from tenancy.roles import Capability

Value = serializers.JSONField  # the API takes text or numbers and lets the service judge


class TokenFromMiddleware(BaseAuthentication):
    def authenticate(self, request):
        token = getattr(request._request, "api_token", None)
        return (None, token) if token is not None else None


class Guarded(APIView):
    authentication_classes = [TokenFromMiddleware]
    permission_classes = []
    renderer_classes = [JSONRenderer]
    parser_classes = [JSONParser]
    capability = Capability.VIEW

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        if request.auth is None or not request.auth.allows(self.capability):
            raise PermissionDenied()


class RecordSerializer(serializers.Serializer):
    key = Value()
    client = Value()
    channel = Value(required=False, allow_null=True)
    sender = Value(required=False, allow_null=True)
    recipient = Value(required=False, allow_null=True)
    text = Value(required=False, allow_null=True)
    parts = Value(required=False, allow_null=True)
    status = Value(required=False, allow_null=True)
    price = Value(required=False, allow_null=True)
    sent_at = Value(required=False, allow_null=True)
    delivered_at = Value(required=False, allow_null=True)
    operator = Value(required=False, allow_null=True)
    mcc_mnc = Value(required=False, allow_null=True)


class BatchSerializer(serializers.Serializer):
    records = RecordSerializer(many=True, max_length=1000)


class ClientSerializer(serializers.Serializer):
    number = serializers.IntegerField()
    name = serializers.CharField()
    company = serializers.CharField()
    status = serializers.CharField()
    login = serializers.CharField()
    email = serializers.CharField()
    phone = serializers.CharField()
    address = serializers.CharField()
    contact_name = serializers.CharField()
    contact_email = serializers.CharField()
    country = serializers.CharField()
    itn = serializers.CharField()
    group = serializers.IntegerField(allow_null=True)
    property_type = serializers.CharField()
    activity_type = serializers.CharField()
    region = serializers.CharField()
    site = serializers.CharField()
    postal_address = serializers.CharField()
    accounting_email = serializers.CharField()
    external_tenant_name = serializers.CharField()
    channel = serializers.CharField()
    referer = serializers.CharField()
    registered_on = serializers.DateField(allow_null=True)
    last_login_at = serializers.DateTimeField(allow_null=True)
    failed_login_attempts = serializers.IntegerField()
    activation_required = serializers.BooleanField()
    sms_price = serializers.DecimalField(max_digits=10, decimal_places=4)
    sms_subscription = serializers.BooleanField()
    last_purchase_at = serializers.DateTimeField(allow_null=True)
    created_at = serializers.DateTimeField()


class MessagesView(Guarded):
    capability = Capability.INGEST_MESSAGES

    def post(self, request):
        batch = BatchSerializer(data=request.data)
        batch.is_valid(raise_exception=True)
        result = messages_ingest(
            tenant=request._request.tenant,
            records=[dict(r) for r in batch.validated_data["records"]],
            answer_items=True,
        )
        items = [
            {"index": o.index, "key": o.key, "state": o.state, "reason": o.reason}
            for o in result.items
        ]
        return Response({"received": result.received, "accepted": result.created, "items": items})


class ClientsView(Guarded):
    def get(self, request):
        django_request = request._request
        filterset = ClientFilterSet(
            django_request.GET,
            queryset=Client.objects.for_tenant(django_request.tenant),
            request=django_request,
        )
        sort = filterset.cleaned.get("sort") or default_sort_for(django_request.tenant)
        keys = SORT_KEYS[sort]
        columns = set(COLUMNS.values()) | {key.name for key in keys}
        limit = min(int(django_request.GET.get("limit", 20)), 100)
        rows, cursor = keyset_page(
            filterset.qs.values(*columns), keys=keys, sort=sort, cursor=None, limit=limit
        )
        items = ClientSerializer([client_row(r, list(CLIENT_FIELDS)) for r in rows], many=True)
        return Response({"items": items.data, "next": cursor})


urlpatterns = [
    path("api/drf/messages/", MessagesView.as_view()),
    path("api/drf/clients/", ClientsView.as_view()),
    path("", include("config.urls")),
]
for pattern in urlpatterns[:2]:
    pattern.callback.login_required = False
