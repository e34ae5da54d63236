"""API view of the applications received through the public application page."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import serializers

from partners.models import PartnerApplication
from tenancy.api.views import READ_ERRORS, TenantApiView


class ApplicationSerializer(serializers.ModelSerializer):
    partner_status = serializers.CharField(source="partner.status")

    class Meta:
        model = PartnerApplication
        fields = (
            "id",
            "partner_id",
            "partner_status",
            "company_name",
            "domain",
            "contact_name",
            "contact_email",
            "kind",
            "message",
            "reach_submitted",
            "reach_accepted",
            "reach_rejected",
            "signup_sent_at",
            "email_verified_at",
            "created_at",
        )
        extra_kwargs = {
            "signup_sent_at": {
                "help_text": "When the sign-up link went to the contact address; null when "
                "the submission offered no portal sign-up."
            },
            "email_verified_at": {
                "help_text": "When the applicant confirmed the contact address through the "
                "link; null while it is not verified."
            },
        }


class ApplicationListView(TenantApiView):
    """List partner applications, newest first."""

    @extend_schema(
        operation_id="partner_applications_list",
        tags=["partners"],
        summary="List partner applications, newest first",
        responses={200: ApplicationSerializer(many=True), **READ_ERRORS},
    )
    def get(self, request):
        applications = PartnerApplication.objects.select_related("partner").order_by(
            "-created_at", "-pk"
        )
        return self.paginated_response(applications, ApplicationSerializer)
