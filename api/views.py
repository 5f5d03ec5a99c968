"""The API's endpoints: thin ViewSets over access/ (reads) and the services (writes).

Each ViewSet says, in ``roles``, which roles may run each action; its ``get_queryset`` comes from
the access module, so an object outside the caller's scope is a 404 whatever the action. Writes
call the same service functions as the pages, which validate, save and queue the rescoring.
"""

from __future__ import annotations

from django.contrib.auth import authenticate
from django.db import transaction
from django.db.models import Prefetch
from django.http import Http404
from django.utils.translation import gettext_lazy as _
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import exceptions, mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.filters import OrderingFilter
from rest_framework.generics import GenericAPIView
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.throttling import ScopedRateThrottle

import access
from accounts import mfa
from accounts.models import Role, User
from api import filters, serializers
from api.authentication import ApiTokenAuthentication
from api.exceptions import refusals_as_conflicts
from api.models import ApiToken
from api.permissions import CLIENTS, EVERYONE, FIRM_STAFF, MANAGERS, READ_ONLY, RoleAllowed
from api.schema import ErrorSerializer
from clients import services as client_services
from clients.models import Contact
from engagements import services as engagement_services
from engagements.models import KPI, Side
from feedback import services as feedback_services
from health import services as health_services
from portal import notifications as portal_notifications

ID_ONLY = User.objects.only("id")


class ApiViewSet(viewsets.GenericViewSet):
    permission_classes = [RoleAllowed]
    filter_backends = [DjangoFilterBackend, OrderingFilter]
    # Any segment reaches the view, so a malformed id gets the API's JSON 404, not Django's HTML one.
    lookup_value_regex = "[^/]+"
    # PATCH is the one way to update: partial updates suit integrations that own a few fields.
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]
    roles = READ_ONLY

    @property
    def role(self):
        return access.role_of(self.request.user)

    def read_serializer(self, instance):
        return self.serializer_class(instance, context=self.get_serializer_context())

    def get_object(self):
        try:
            return super().get_object()
        except Http404:
            # Someone else's object looks like a missing one, but the attempt is worth logging.
            queryset = self.get_queryset()
            access.log_out_of_scope(user=self.request.user, model=queryset.model,
                                    pk=self.kwargs.get(self.lookup_url_kwarg or self.lookup_field),
                                    request=self.request._request)
            raise


class ServiceCreateMixin:
    """POST: validate the shape, hand the values to ``create_object`` (a service call)."""

    def create(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        instance = self.create_object(dict(serializer.validated_data))
        return Response(self.read_serializer(instance).data, status=status.HTTP_201_CREATED)


class ServiceUpdateMixin:
    """PATCH: validate the shape, hand the changed values to ``update_object`` (a service call)."""

    def partial_update(self, request, *args, **kwargs):
        instance = self.get_object()
        serializer = self.get_serializer(instance, data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        instance = self.update_object(instance, dict(serializer.validated_data))
        return Response(self.read_serializer(instance).data)


def _save_validated(instance, values: dict):
    """Update a record that has no rules beyond its model's (no service exists for it)."""
    for name, value in values.items():
        setattr(instance, name, value)
    instance.full_clean()
    instance.save()
    return instance


# --- Auth -----------------------------------------------------------------------------------------

class TokenObtainView(GenericAPIView):
    """Exchange an e-mail and password for a new API token."""

    # Authentication runs only to name the scheme in the 401 challenge of a failed login.
    authentication_classes = [ApiTokenAuthentication]
    permission_classes = [AllowAny]
    throttle_classes = [ScopedRateThrottle]
    throttle_scope = "token"
    serializer_class = serializers.TokenRequestSerializer

    @extend_schema(auth=[], operation_id="auth_token_create", responses={
        201: serializers.NewTokenSerializer,
        401: OpenApiResponse(ErrorSerializer, description="Wrong e-mail or password, or an inactive account.")})
    def post(self, request):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        # The Django request, not DRF's wrapper: the lockout (django-axes) marks it, and its
        # middleware turns the mark into a 429 on the way out.
        user = authenticate(request._request, username=data["email"], password=data["password"])
        if getattr(request._request, "axes_locked_out", False):
            raise exceptions.Throttled(detail=_("Too many failed sign-ins. Try again in 15 minutes."))
        if user is None or access.role_of(user) is None:
            raise exceptions.AuthenticationFailed(_("Unable to sign in with this e-mail address and password."))
        # The same factors as the browser: a user with an authenticator gives its code too, and a
        # manager who must use two factors sets them up in the browser first.
        if mfa.mfa_enabled(user):
            if not data.get("otp"):
                raise exceptions.AuthenticationFailed(_("Add the code from your authenticator app (otp)."),
                                                      code="mfa_required")
            if mfa.mfa_verify(user=user, token=data["otp"]) is None:
                raise exceptions.AuthenticationFailed(_("That two-factor code is not valid."), code="mfa_invalid")
        elif mfa.mfa_required(user):
            raise exceptions.PermissionDenied(_("Set up two-factor authentication in the browser before creating "
                                                "API tokens."))
        token, key = ApiToken.objects.issue(user=user, name=data.get("name", ""))
        token.token = key
        return Response(serializers.NewTokenSerializer(token).data, status=status.HTTP_201_CREATED)


class TokenViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.DestroyModelMixin, ApiViewSet):
    """Your own API tokens: list them, revoke one."""

    serializer_class = serializers.TokenSerializer
    roles = {**READ_ONLY, "destroy": EVERYONE}
    filter_backends = []

    def get_queryset(self):
        if not self.request.user.is_authenticated:
            return ApiToken.objects.none()
        return ApiToken.objects.filter(user=self.request.user)


# --- Clients and contacts -------------------------------------------------------------------------

class ClientViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ServiceCreateMixin, ServiceUpdateMixin,
                    mixins.DestroyModelMixin, ApiViewSet):
    """The firm's clients. Managers maintain them; consultants see those they work with."""

    serializer_class = serializers.ClientSerializer
    filterset_class = filters.ClientFilter
    ordering_fields = ["name", "created_at"]
    ordering = ["name", "id"]
    roles = {**READ_ONLY, "create": MANAGERS, "partial_update": MANAGERS, "destroy": MANAGERS}

    def get_queryset(self):
        return access.clients_for(self.request.user)

    def create_object(self, data):
        return client_services.client_create(**data)

    def update_object(self, client, data):
        return _save_validated(client, data)


class ContactViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ServiceCreateMixin, ServiceUpdateMixin,
                     mixins.DestroyModelMixin, ApiViewSet):
    """People at the client. Sponsorship and leaving the company have their own actions, because
    each keeps history (who was sponsor when) and has consequences (portal access ends)."""

    serializer_class = serializers.ContactSerializer
    filterset_class = filters.ContactFilter
    ordering_fields = ["name", "created_at"]
    ordering = ["client__name", "name", "id"]
    roles = {**READ_ONLY, "create": FIRM_STAFF, "partial_update": FIRM_STAFF, "destroy": MANAGERS,
             "make_sponsor": FIRM_STAFF, "deactivate": FIRM_STAFF}

    def get_queryset(self):
        return access.contacts_for(self.request.user)

    def create_object(self, data):
        return client_services.contact_create(**data)

    def update_object(self, contact, data):
        return client_services.contact_update(contact=contact, **data)

    @extend_schema(request=serializers.SponsorSerializer, responses=serializers.ContactSerializer)
    @action(detail=True, methods=["post"], url_path="make-sponsor")
    def make_sponsor(self, request, pk=None):
        """Make this contact the client's sponsor; the previous sponsor's period is closed."""
        contact = self.get_object()
        serializer = serializers.SponsorSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        contact = client_services.contact_set_sponsor(contact=contact, since=serializer.validated_data.get("since"))
        return Response(self.read_serializer(contact).data)

    @extend_schema(request=None, responses=serializers.ContactSerializer)
    @action(detail=True, methods=["post"])
    def deactivate(self, request, pk=None):
        """Record that the contact left the company: no more sponsorship, no more portal access."""
        contact = client_services.contact_deactivate(contact=self.get_object())
        return Response(self.read_serializer(contact).data)


# --- Engagements ----------------------------------------------------------------------------------

class EngagementViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ServiceCreateMixin, ServiceUpdateMixin,
                        mixins.DestroyModelMixin, ApiViewSet):
    """Engagements. A consultant who creates one stays on its team, whoever they name as lead."""

    serializer_class = serializers.EngagementSerializer
    filterset_class = filters.EngagementFilter
    ordering_fields = ["title", "start", "end", "created_at"]
    ordering = ["client__name", "title", "id"]
    roles = {**READ_ONLY, "create": FIRM_STAFF, "partial_update": FIRM_STAFF, "destroy": MANAGERS,
             "close": FIRM_STAFF}

    def get_queryset(self):
        queryset = access.engagements_for(self.request.user)
        if self.role != Role.CLIENT:
            queryset = queryset.select_related("latest_health").prefetch_related(Prefetch("team", queryset=ID_ONLY))
        return queryset

    def create_object(self, data):
        user = self.request.user
        lead = data.pop("lead", user)
        team = list(data.pop("team", []))
        if self.role == Role.CONSULTANT:
            team.append(user)
        return engagement_services.engagement_create(lead=lead, team=team, **data)

    def update_object(self, engagement, data):
        return engagement_services.engagement_update(engagement=engagement, **data)

    @extend_schema(request=serializers.EngagementCloseSerializer, responses=serializers.EngagementSerializer)
    @action(detail=True, methods=["post"])
    def close(self, request, pk=None):
        """End the engagement well: why it ends, the handover and a retrospective."""
        engagement = self.get_object()
        serializer = serializers.EngagementCloseSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        with refusals_as_conflicts():
            engagement = engagement_services.engagement_close(engagement=engagement, closed_by=request.user,
                                                              reason=data.pop("closure_reason"), **data)
        return Response(self.read_serializer(engagement).data)


# --- Sessions -------------------------------------------------------------------------------------

class SessionViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ServiceCreateMixin, ServiceUpdateMixin,
                     mixins.DestroyModelMixin, ApiViewSet):
    """Sessions with the client. Client users see shared sessions only, as a summary."""

    serializer_class = serializers.SessionSerializer
    filterset_class = filters.SessionFilter
    ordering_fields = ["start", "duration_minutes", "created_at"]
    ordering = ["-start", "-id"]
    roles = {**READ_ONLY, "create": FIRM_STAFF, "partial_update": FIRM_STAFF, "destroy": FIRM_STAFF}

    def get_queryset(self):
        queryset = access.sessions_for(self.request.user)
        if self.role != Role.CLIENT:
            queryset = queryset.prefetch_related(
                Prefetch("consultants", queryset=ID_ONLY),
                Prefetch("client_attendees", queryset=Contact.objects.only("id")),
                Prefetch("kpis_discussed", queryset=KPI.objects.only("id")),
            )
        return queryset

    def create_object(self, data):
        data.pop("version", None)
        return engagement_services.session_log(logged_by=self.request.user, **data)

    def update_object(self, session, data):
        return engagement_services.session_update(session=session, version=data.pop("version", None), **data)

    def perform_destroy(self, session):
        engagement_services.session_delete(session=session)


# --- Planned breaks -------------------------------------------------------------------------------

class PlannedBreakViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ServiceCreateMixin,
                          mixins.DestroyModelMixin, ApiViewSet):
    """Planned breaks (holiday, budget freeze…): no cadence flag during one, nor for one planned interval
    after it. Firm staff mark and delete them on the engagements they may see; to change one, delete it
    and add it again."""

    serializer_class = serializers.PlannedBreakSerializer
    filterset_class = filters.PlannedBreakFilter
    ordering_fields = ["starts_on", "ends_on", "created_at"]
    ordering = ["-starts_on", "-id"]
    roles = {**READ_ONLY, "create": FIRM_STAFF, "destroy": FIRM_STAFF}

    def get_queryset(self):
        return access.planned_breaks_for(self.request.user)

    def create_object(self, data):
        return engagement_services.planned_break_create(user=self.request.user, **data)

    def perform_destroy(self, planned_break):
        engagement_services.planned_break_delete(planned_break=planned_break, user=self.request.user)


# --- Milestones -----------------------------------------------------------------------------------

class MilestoneViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ServiceCreateMixin, ServiceUpdateMixin,
                       mixins.DestroyModelMixin, ApiViewSet):
    """Co-production milestones. Client users see the shared ones; they propose (POST) and approve."""

    serializer_class = serializers.MilestoneSerializer
    filterset_class = filters.MilestoneFilter
    ordering_fields = ["due_date", "position", "created_at"]
    ordering = ["engagement_id", "position", "id"]
    roles = {**READ_ONLY, "create": EVERYONE, "partial_update": FIRM_STAFF, "destroy": FIRM_STAFF,
             "approve": CLIENTS}

    def get_queryset(self):
        return access.milestones_for(self.request.user)

    def get_serializer_class(self):
        if self.action == "create" and self.role == Role.CLIENT:
            return serializers.MilestoneProposalSerializer
        return self.serializer_class

    @extend_schema(description="Firm staff add a milestone. A client user proposes one: only `engagement`, "
                               "`title`, `description`, `phase` and `due_date` are used, and it arrives as "
                               "`proposed` for the consultants to agree.")
    def create(self, request, *args, **kwargs):
        return super().create(request, *args, **kwargs)

    def create_object(self, data):
        user = self.request.user
        if self.role == Role.CLIENT:
            with transaction.atomic():
                milestone = engagement_services.milestone_propose(proposed_by=user, **data)
                _tell_consultant(self.request, milestone, "propose", text=milestone.description)
            return milestone
        data.pop("version", None)
        return engagement_services.milestone_create(created_by=user, **data)

    def update_object(self, milestone, data):
        return engagement_services.milestone_update(milestone=milestone, version=data.pop("version", None), **data)

    def perform_destroy(self, milestone):
        engagement_services.milestone_delete(milestone=milestone)

    @extend_schema(request=None, responses=serializers.MilestoneSerializer)
    @action(detail=True, methods=["post"])
    def approve(self, request, pk=None):
        """The client approves the milestone (a proposed one becomes agreed)."""
        milestone = self.get_object()
        already_approved = milestone.approved_at is not None
        with refusals_as_conflicts(), transaction.atomic():
            milestone = engagement_services.milestone_approve(milestone=milestone, approved_by=request.user)
            if not already_approved:  # approving twice changes nothing, and tells nobody again
                _tell_consultant(request, milestone, "approve")
        return Response(self.read_serializer(milestone).data)


def _tell_consultant(request, milestone, action: str, text: str = "") -> None:
    """E-mail the consultant what a client did through the API, as the portal does (after the commit)."""
    portal_notifications.client_activity(milestone=milestone, actor=request.user, action=action, text=text,
                                         base_url=request.build_absolute_uri("/"))


@extend_schema(parameters=[OpenApiParameter("milestone_pk", OpenApiTypes.INT, OpenApiParameter.PATH,
                                            description="The milestone's id.")])
class MilestoneCommentViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ServiceCreateMixin, ApiViewSet):
    """A milestone's comment thread: everyone who sees the milestone may read and add to it."""

    serializer_class = serializers.MilestoneCommentSerializer
    filter_backends = [OrderingFilter]
    ordering_fields = ["created_at"]
    ordering = ["created_at", "id"]
    roles = {**READ_ONLY, "create": EVERYONE}

    def milestone(self):
        if not hasattr(self, "_milestone"):
            milestone_pk = self.kwargs["milestone_pk"]
            if not milestone_pk.isdigit():
                raise Http404  # routed loosely so that a malformed id gets the API's 404, not an HTML page
            self._milestone = access.get_for(access.milestones_for(self.request.user).select_related("engagement"),
                                             milestone_pk)
        return self._milestone

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return access.milestone_comments_for(None)
        # The milestone first: a thread of a milestone the caller cannot see is a 404, not an empty list.
        return self.milestone().comments.select_related("author")

    def create_object(self, data):
        with transaction.atomic():
            comment = engagement_services.milestone_comment_add(milestone=self.milestone(), author=self.request.user,
                                                                **data)
            if self.role == Role.CLIENT:
                _tell_consultant(self.request, self.milestone(), "comment", text=comment.text)
        return comment


# --- KPIs -----------------------------------------------------------------------------------------

class KPIViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ServiceCreateMixin, ServiceUpdateMixin,
                 mixins.DestroyModelMixin, ApiViewSet):
    """KPIs tracked on an engagement; client users read the shared ones."""

    serializer_class = serializers.KPISerializer
    filterset_class = filters.KPIFilter
    ordering_fields = ["name"]
    ordering = ["engagement_id", "name", "id"]
    roles = {**READ_ONLY, "create": FIRM_STAFF, "partial_update": FIRM_STAFF, "destroy": MANAGERS}

    def get_queryset(self):
        return access.kpis_for(self.request.user)

    def create_object(self, data):
        return engagement_services.kpi_create(**data)

    def update_object(self, kpi, data):
        return engagement_services.kpi_update(kpi=kpi, **data)

    def perform_destroy(self, kpi):
        engagement_services.kpi_delete(kpi=kpi)


class KPIMeasurementViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ServiceCreateMixin,
                            ServiceUpdateMixin, mixins.DestroyModelMixin, ApiViewSet):
    """Dated KPI values. Posting a value for a date that has one corrects it."""

    serializer_class = serializers.KPIMeasurementSerializer
    filterset_class = filters.KPIMeasurementFilter
    ordering_fields = ["date"]
    ordering = ["kpi_id", "date", "id"]
    roles = {**READ_ONLY, "create": FIRM_STAFF, "partial_update": FIRM_STAFF, "destroy": FIRM_STAFF}

    def get_queryset(self):
        return access.kpi_measurements_for(self.request.user)

    def create_object(self, data):
        return engagement_services.kpi_measurement_record(recorded_by=self.request.user, **data)

    def update_object(self, measurement, data):
        if "value" not in data:
            return measurement
        return engagement_services.kpi_measurement_record(kpi=measurement.kpi, date=measurement.date,
                                                          value=data["value"], recorded_by=self.request.user)

    def perform_destroy(self, measurement):
        engagement_services.kpi_measurement_delete(measurement=measurement)


# --- Feedback -------------------------------------------------------------------------------------

class FeedbackResponseViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ServiceCreateMixin, ApiViewSet):
    """Answers to the pulse questions. Client users see their own and answer through ``pulses``."""

    serializer_class = serializers.FeedbackResponseSerializer
    filterset_class = filters.FeedbackResponseFilter
    ordering_fields = ["submitted_at", "rating"]
    ordering = ["-submitted_at", "-id"]
    roles = {**READ_ONLY, "create": FIRM_STAFF}

    def get_queryset(self):
        return access.feedback_responses_for(self.request.user)

    @extend_schema(description="A consultant records their self-assessment (`side` = `consultant`). A manager "
                               "may also record client feedback received by other channels (`side` = `client`, "
                               "with `respondent_contact` and `submitted_at`).")
    def create(self, request, *args, **kwargs):
        return super().create(request, *args, **kwargs)

    def create_object(self, data):
        user = self.request.user
        side = data.pop("side", None) or (Side.CLIENT if self.role == Role.MANAGER else Side.CONSULTANT)
        if side == Side.CLIENT:
            if self.role != Role.MANAGER:
                raise exceptions.PermissionDenied(_("Only managers record client feedback received by other "
                                                    "channels; clients answer their pulses."))
            data.pop("respondent_user", None)
        else:
            data.pop("respondent_contact", None)
            if self.role != Role.MANAGER or data.get("respondent_user") is None:
                # A consultant assesses the relationship for themselves only.
                data["respondent_user"] = user
        if self.role != Role.MANAGER:
            data.pop("submitted_at", None)
        return feedback_services.feedback_record(side=side, recorded_by=user, **data)


class PulseViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ServiceCreateMixin, ApiViewSet):
    """Feedback pulses. Firm staff send them to a client contact; the contact answers theirs."""

    serializer_class = serializers.PulseSerializer
    filterset_class = filters.PulseFilter
    ordering_fields = ["sent_at", "expires_at"]
    ordering = ["-sent_at", "-id"]
    roles = {**READ_ONLY, "create": FIRM_STAFF, "answer": CLIENTS}

    def get_queryset(self):
        return access.pulse_requests_for(self.request.user)

    def create_object(self, data):
        return feedback_services.pulse_request_create(requested_by=self.request.user, **data)

    @extend_schema(request=serializers.PulseAnswerSerializer,
                   responses={201: serializers.FeedbackResponseSerializer})
    @action(detail=True, methods=["post"])
    def answer(self, request, pk=None):
        """Answer the pulse, once, before it expires."""
        pulse = self.get_object()
        serializer = serializers.PulseAnswerSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        with refusals_as_conflicts():
            response = feedback_services.pulse_answer(pulse=pulse, **serializer.validated_data)
        output = serializers.FeedbackResponseSerializer(response, context=self.get_serializer_context())
        return Response(output.data, status=status.HTTP_201_CREATED)


# --- Health ---------------------------------------------------------------------------------------

class HealthSnapshotViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ApiViewSet):
    """Daily health snapshots, computed by the health engine. Firm staff only; read only."""

    serializer_class = serializers.HealthSnapshotSerializer
    filterset_class = filters.HealthSnapshotFilter
    ordering_fields = ["date", "score"]
    ordering = ["-date", "engagement_id", "-id"]
    roles = {**READ_ONLY}

    def get_queryset(self):
        return access.health_snapshots_for(self.request.user)


class FlagViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ApiViewSet):
    """Flags raised by the health engine. Firm staff read them; managers act on them."""

    serializer_class = serializers.FlagSerializer
    filterset_class = filters.FlagFilter
    ordering_fields = ["raised_at", "severity"]
    ordering = ["-raised_on", "-id"]
    roles = {**READ_ONLY, "acknowledge": access.can_manage_flags, "snooze": access.can_manage_flags,
             "resolve": access.can_manage_flags, "dismiss": access.can_manage_flags,
             "assign": access.can_manage_flags}

    def get_queryset(self):
        return access.flags_for(self.request.user)

    @extend_schema(request=None, responses=serializers.FlagSerializer)
    @action(detail=True, methods=["post"])
    def acknowledge(self, request, pk=None):
        """Someone has seen the flag and is on it (a snoozed flag wakes up)."""
        with refusals_as_conflicts():
            flag = health_services.flag_acknowledge(flag=self.get_object(), user=request.user)
        return Response(self.read_serializer(flag).data)

    @extend_schema(request=serializers.FlagSnoozeSerializer, responses=serializers.FlagSerializer)
    @action(detail=True, methods=["post"])
    def snooze(self, request, pk=None):
        """Hide the flag until a date; it opens again then if its condition still holds."""
        flag = self.get_object()
        serializer = serializers.FlagSnoozeSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        with refusals_as_conflicts():
            flag = health_services.flag_snooze(flag=flag, user=request.user, until=data["snoozed_until"],
                                               reason=data["snooze_reason"])
        return Response(self.read_serializer(flag).data)

    @extend_schema(request=serializers.FlagResolveSerializer, responses=serializers.FlagSerializer)
    @action(detail=True, methods=["post"])
    def resolve(self, request, pk=None):
        """Close the flag with an action plan: repair the relationship, or end the engagement well."""
        flag = self.get_object()
        serializer = serializers.FlagResolveSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        with refusals_as_conflicts():
            flag = health_services.flag_resolve(flag=flag, user=request.user, action_plan=data["action_plan"],
                                                note=data["resolution_note"])
        return Response(self.read_serializer(flag).data)

    @extend_schema(request=serializers.FlagDismissSerializer, responses=serializers.FlagSerializer)
    @action(detail=True, methods=["post"])
    def dismiss(self, request, pk=None):
        """Close the flag as not a real problem."""
        flag = self.get_object()
        serializer = serializers.FlagDismissSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        with refusals_as_conflicts():
            flag = health_services.flag_dismiss(flag=flag, user=request.user,
                                                note=serializer.validated_data.get("resolution_note", ""))
        return Response(self.read_serializer(flag).data)

    @extend_schema(request=serializers.FlagAssignSerializer, responses=serializers.FlagSerializer)
    @action(detail=True, methods=["post"])
    def assign(self, request, pk=None):
        """Give the flag to a consultant or manager, or to nobody."""
        flag = self.get_object()
        serializer = serializers.FlagAssignSerializer(data=request.data, context=self.get_serializer_context())
        serializer.is_valid(raise_exception=True)
        with refusals_as_conflicts():
            flag = health_services.flag_assign(flag=flag, owner=serializer.validated_data["owner"])
        return Response(self.read_serializer(flag).data)
