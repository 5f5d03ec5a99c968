"""The calendar import's API (registered in api/urls.py): upload an .ics, list, confirm and ignore
meetings to confirm, manage subscribed calendars. Same rules as the pages: firm staff only, each
person sees only their own meetings and subscriptions (404 otherwise), writes through
calendars.services."""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django_filters import rest_framework as filters
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import exceptions, mixins, serializers, status
from rest_framework.decorators import action
from rest_framework.parsers import JSONParser, MultiPartParser
from rest_framework.response import Response

import access
from api.exceptions import Conflict, refusals_as_conflicts
from api.fields import ScopedPrimaryKeyRelatedField, StrictBooleanField, StrictCharField, StrictChoiceField
from api.permissions import FIRM_STAFF
from api.schema import ErrorSerializer
from api.serializers import ApiModelSerializer
from api.views import ApiViewSet
from calendars import services
from calendars.models import CalendarFeed, CalendarMeeting
from engagements.models import Session, Side

STAFF_ONLY = {"list": FIRM_STAFF, "retrieve": FIRM_STAFF, "metadata": FIRM_STAFF}
# An absolute http(s) or webcal address with a host name (no user:password@, no IPv6 literal).
FEED_URL_PATTERN = r"^(https?|webcal)://[A-Za-z0-9][A-Za-z0-9.-]*(:[0-9]{1,5})?([/?#]\S*)?$"


# --- Serializers ----------------------------------------------------------------------------------

class CalendarMeetingSerializer(ApiModelSerializer):
    """A client meeting found in the caller's calendar."""

    suggested_focus = serializers.CharField(
        read_only=True, help_text=_("A session focus the title suggests, or empty when its words suggest none."))

    class Meta:
        model = CalendarMeeting
        fields = ["id", "title", "description", "location", "start", "duration_minutes", "state", "review",
                  "engagement", "candidate_engagements", "contacts", "consultants", "attendee_emails",
                  "suggested_focus", "suggested_channel", "session", "confirmed_start",
                  "confirmed_duration_minutes", "feed", "created_at", "updated_at"]
        read_only_fields = fields
        extra_kwargs = {
            "engagement": {"help_text": _("Set when exactly one of your engagements fits; otherwise choose one "
                                          "of `candidate_engagements` when confirming.")},
            "review": {"help_text": _("For a confirmed meeting: `changed` or `cancelled` in the calendar "
                                      "since; apply the change or keep the session.")},
        }


def _open_engagements_for(user):
    return access.engagements_for(user)


class MeetingConfirmSerializer(serializers.Serializer):
    focus = StrictChoiceField(choices=Session.Focus.choices)
    engagement = ScopedPrimaryKeyRelatedField(_open_engagements_for, required=False, allow_null=True,
                                              help_text=_("Required when several engagements fit."))
    channel = StrictChoiceField(choices=Session.Channel.choices, required=False,
                                help_text=_("Defaults to the suggested channel."))
    initiated_by = StrictChoiceField(choices=Side.choices, required=False, default=Side.CONSULTANT)
    advice_requested = StrictBooleanField(required=False, default=False)


class MeetingChoiceSerializer(MeetingConfirmSerializer):
    id = ScopedPrimaryKeyRelatedField(access.calendar_meetings_for, help_text=_("The meeting's id."))


class MeetingsConfirmSerializer(serializers.Serializer):
    meetings = serializers.ListField(child=MeetingChoiceSerializer(), allow_empty=False, min_length=1, max_length=200)


class MeetingsConfirmedSerializer(serializers.Serializer):
    meetings = CalendarMeetingSerializer(many=True, help_text=_("The meetings confirmed, each with its session."))


class CalendarImportSerializer(serializers.Serializer):
    file = serializers.FileField(required=False, help_text=_("The .ics file (multipart/form-data)."))
    content = StrictCharField(required=False, trim_whitespace=False, max_length=10 * 1024 * 1024,
                              help_text=_("Or the calendar's text (JSON)."))

    def validate(self, attrs):
        if bool(attrs.get("file")) == bool(attrs.get("content")):
            raise serializers.ValidationError(_("Send either a file or the calendar's text."))
        return attrs


class CalendarImportSummarySerializer(serializers.Serializer):
    events = serializers.IntegerField(help_text=_("Timed events in the window read."))
    matched = serializers.IntegerField(help_text=_("Of those, meetings with someone from a client."))
    created = serializers.IntegerField()
    updated = serializers.IntegerField()
    cancelled = serializers.IntegerField()
    to_review = serializers.IntegerField()
    unchanged = serializers.IntegerField()
    skipped_all_day = serializers.IntegerField()
    skipped_unreadable = serializers.IntegerField()
    skipped_declined = serializers.IntegerField()


class CalendarFeedSerializer(ApiModelSerializer):
    """A subscribed calendar. The address is write-only: it comes back masked."""

    url = serializers.RegexField(FEED_URL_PATTERN, write_only=True, max_length=2000,
                                 help_text=_("The calendar's private ICS address (http, https or webcal)."),
                                 error_messages={"invalid": _("Enter an http://, https:// or webcal:// address.")})
    masked_url = serializers.CharField(read_only=True)

    class Meta:
        model = CalendarFeed
        fields = ["id", "name", "url", "masked_url", "last_polled_at", "last_success_at", "last_error",
                  "next_poll_at", "created_at"]
        read_only_fields = ["last_polled_at", "last_success_at", "last_error", "next_poll_at", "created_at"]


# --- Filters --------------------------------------------------------------------------------------

class CalendarMeetingFilter(filters.FilterSet):
    state = filters.ChoiceFilter(choices=CalendarMeeting.State.choices)
    engagement = filters.NumberFilter(method="filter_engagement",
                                      help_text="Meetings of this engagement, or that could be.")
    start_after = filters.IsoDateTimeFilter(field_name="start", lookup_expr="gte")
    start_before = filters.IsoDateTimeFilter(field_name="start", lookup_expr="lt")

    class Meta:
        model = CalendarMeeting
        fields = ["state", "engagement", "start_after", "start_before"]

    def filter_engagement(self, queryset, name, value):
        return queryset.filter(Q(engagement=value) | Q(candidate_engagements=value)).distinct()


# --- Views ----------------------------------------------------------------------------------------

def _flat_errors(errors, prefix: str = "") -> dict[str, list[str]]:
    """Nested serializer errors as ``{"meetings.0.focus": ["…"]}``."""
    flat: dict[str, list[str]] = {}
    if isinstance(errors, dict):
        items = errors.items()
    elif isinstance(errors, list) and errors and all(isinstance(e, dict | list) for e in errors):
        items = ((str(index), error) for index, error in enumerate(errors))
    else:
        return {prefix or "non_field_errors": [str(e) for e in (errors if isinstance(errors, list) else [errors])]}
    for key, value in items:
        name = str(key) if key != "non_field_errors" or not prefix else ""
        flat.update(_flat_errors(value, ".".join(part for part in (prefix, name) if part)))
    return {key: value for key, value in flat.items() if value}

class CalendarMeetingViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ApiViewSet):
    """Client meetings found in your calendar: confirm them as sessions, or ignore them."""

    serializer_class = CalendarMeetingSerializer
    filterset_class = CalendarMeetingFilter
    ordering_fields = ["start", "created_at"]
    ordering = ["-start", "-id"]
    roles = {**STAFF_ONLY, "confirm": FIRM_STAFF, "confirm_many": FIRM_STAFF, "ignore": FIRM_STAFF,
             "restore": FIRM_STAFF, "apply_change": FIRM_STAFF, "keep_session": FIRM_STAFF}

    def get_queryset(self):
        return access.calendar_meetings_for(self.request.user).with_choices().order_by("-start", "-id")

    def _answer(self, meeting):
        meeting = self.get_queryset().get(pk=meeting.pk)
        return Response(self.read_serializer(meeting).data)

    @extend_schema(request=MeetingConfirmSerializer, responses=CalendarMeetingSerializer)
    @action(detail=True, methods=["post"])
    def confirm(self, request, pk=None):
        """Confirm the meeting: it becomes a session, logged as through the session form."""
        meeting = self.get_object()
        serializer = MeetingConfirmSerializer(data=request.data, context=self.get_serializer_context())
        serializer.is_valid(raise_exception=True)
        with refusals_as_conflicts():
            services.meeting_confirm(meeting=meeting, user=request.user, **serializer.validated_data)
        return self._answer(meeting)

    @extend_schema(request=MeetingsConfirmSerializer, responses={
        200: MeetingsConfirmedSerializer,
        409: OpenApiResponse(ErrorSerializer, description="A meeting is not waiting to be confirmed (any more, or "
                                                          "yet): re-read it.")})
    @action(detail=False, methods=["post"], url_path="confirm-many")
    def confirm_many(self, request):
        """Confirm several meetings at once, all or none (errors are keyed by meeting id)."""
        serializer = MeetingsConfirmSerializer(data=request.data, context=self.get_serializer_context())
        if not serializer.is_valid():
            # One flat list of messages per field ("meetings.0.focus"), as every error body of the API.
            raise exceptions.ValidationError(_flat_errors(serializer.errors))
        choices = []
        for item in serializer.validated_data["meetings"]:
            options = dict(item)
            options["meeting"] = options.pop("id")
            choices.append(options)
        # A meeting already answered (or not yet held) is a conflict with its state, not a bad body.
        now = timezone.now()
        stale = [c["meeting"].pk for c in choices
                 if c["meeting"].state != CalendarMeeting.State.WAITING or c["meeting"].start > now]
        if stale:
            raise Conflict(_("These meetings are not waiting to be confirmed (any more, or yet): %(ids)s.")
                           % {"ids": ", ".join(str(pk) for pk in stale)})
        with refusals_as_conflicts():
            services.meetings_confirm(user=request.user, choices=choices)
        ids = [choice["meeting"].pk for choice in choices]
        confirmed = self.get_queryset().filter(pk__in=ids)
        context = self.get_serializer_context()
        return Response(MeetingsConfirmedSerializer({"meetings": confirmed}, context=context).data)

    def _transition(self, service):
        meeting = self.get_object()
        with refusals_as_conflicts():
            service(meeting=meeting, user=self.request.user)
        return self._answer(meeting)

    @extend_schema(request=None, responses=CalendarMeetingSerializer)
    @action(detail=True, methods=["post"])
    def ignore(self, request, pk=None):
        """Not a client session: hidden, and kept hidden on later imports."""
        return self._transition(services.meeting_ignore)

    @extend_schema(request=None, responses=CalendarMeetingSerializer)
    @action(detail=True, methods=["post"])
    def restore(self, request, pk=None):
        """Undo an ignore."""
        return self._transition(services.meeting_restore)

    @extend_schema(request=None, responses=CalendarMeetingSerializer)
    @action(detail=True, methods=["post"], url_path="apply-change")
    def apply_change(self, request, pk=None):
        """Move the confirmed session to the time and length the calendar now says."""
        return self._transition(services.meeting_apply_change)

    @extend_schema(request=None, responses=CalendarMeetingSerializer)
    @action(detail=True, methods=["post"], url_path="keep-session")
    def keep_session(self, request, pk=None):
        """Keep the confirmed session as it is despite the calendar's change or cancellation."""
        return self._transition(services.meeting_keep_session)


class CalendarImportViewSet(ApiViewSet):
    """Import an .ics calendar into your meetings to confirm (all or nothing)."""

    parser_classes = [MultiPartParser, JSONParser]
    serializer_class = CalendarImportSerializer
    roles = {"create": FIRM_STAFF}
    filter_backends = []

    def get_queryset(self):
        return CalendarMeeting.objects.none()

    @extend_schema(request={"multipart/form-data": CalendarImportSerializer,
                            "application/json": CalendarImportSerializer},
                   responses={200: CalendarImportSummarySerializer})
    def create(self, request):
        serializer = CalendarImportSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        upload = serializer.validated_data.get("file")
        if upload is not None:
            if upload.size > settings.CALENDAR_MAX_BYTES:
                raise DjangoValidationError(_("The calendar is larger than %(size)s MB, the most we read.")
                                            % {"size": settings.CALENDAR_MAX_BYTES // (1024 * 1024)})
            data = upload.read()
        else:
            data = serializer.validated_data["content"].encode()
        summary = services.calendar_import(owner=request.user, data=data)
        return Response(CalendarImportSummarySerializer(summary.as_dict()).data, status=status.HTTP_200_OK)


class CalendarFeedViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.DestroyModelMixin, ApiViewSet):
    """Your subscribed calendars, read every CALENDAR_POLL_MINUTES by the scheduler."""

    serializer_class = CalendarFeedSerializer
    roles = {**STAFF_ONLY, "create": FIRM_STAFF, "destroy": FIRM_STAFF}
    filter_backends = []

    def get_queryset(self):
        return access.calendar_feeds_for(self.request.user).order_by("created_at", "id")

    def create(self, request):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        with refusals_as_conflicts():  # already subscribed, or too many subscriptions: 409
            feed = services.feed_create(owner=request.user, url=serializer.validated_data["url"],
                                        name=serializer.validated_data.get("name", ""))
        return Response(self.read_serializer(feed).data, status=status.HTTP_201_CREATED)

    def perform_destroy(self, feed):
        services.feed_delete(feed=feed)
