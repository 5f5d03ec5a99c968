"""How the OpenAPI schema describes what the generic introspection cannot see:

- fields a client user does not receive (``Meta.staff_only_fields``) are optional, and say so;
- every operation lists the error responses it can give, all with the one error body of
  api/exceptions.py, so a client generated from the schema knows every status it may meet.
"""

from __future__ import annotations

from drf_spectacular.extensions import OpenApiSerializerFieldExtension
from drf_spectacular.openapi import AutoSchema
from drf_spectacular.plumbing import is_patched_serializer
from rest_framework import serializers

STAFF_ONLY_NOTE = "Firm staff only: left out for client users."


class ErrorSerializer(serializers.Serializer):
    status = serializers.IntegerField(help_text="The HTTP status, repeated for convenience.")
    code = serializers.CharField(help_text="A stable machine-readable code, e.g. `invalid`, `not_found`, "
                                           "`stale_version`.")
    detail = serializers.CharField(help_text="A human-readable message.")
    errors = serializers.DictField(
        child=serializers.ListField(child=serializers.CharField()),
        help_text="For `invalid`: messages by field name; `non_field_errors` for the request as a whole. "
                  "Empty otherwise.")
    current_version = serializers.IntegerField(
        required=False, help_text="For `stale_version` (409): the version the object has now.")


ERROR_DESCRIPTIONS = {
    "400": "The data sent is not valid (see `errors`).",
    "401": "No valid credentials: sign in or send `Authorization: Token <key>`.",
    "403": "Your role may not do this.",
    "404": "No such object, or not one you may see.",
    "409": "Conflict: a stale `version`, or the object is still in use.",
    "413": "The request body is too large.",
    "415": "Send `application/json`.",
    "429": "Too many requests: wait for the time given in `Retry-After`.",
}


class DecimalStringFieldExtension(OpenApiSerializerFieldExtension):
    target_class = "api.fields.DecimalStringField"

    def map_serializer_field(self, auto_schema, direction):
        field = self.target
        whole_digits = field.max_digits - field.decimal_places
        return {"type": "string", "format": "decimal",
                "pattern": rf"^-?\d{{1,{whole_digits}}}(?:\.\d{{1,{field.decimal_places}}})?$"}


class RapportAutoSchema(AutoSchema):
    def _map_serializer_field(self, field, direction, bypass_extensions=False):
        schema = super()._map_serializer_field(field, direction, bypass_extensions)
        if (direction == "request" and isinstance(field, serializers.CharField) and not field.allow_blank
                and field.trim_whitespace and not {"pattern", "format", "enum"} & set(schema)):
            # DRF trims the value, so a string of spaces is blank: say the schema needs a visible character.
            schema["pattern"] = r"\S"
        return schema

    def _map_basic_serializer(self, serializer, direction):
        schema = super()._map_basic_serializer(serializer, direction)
        required_on_update = [name for name in getattr(serializer, "required_on_update", ())
                              if name in schema.get("properties", {})]
        if direction == "request" and is_patched_serializer(serializer, direction) and required_on_update:
            # A PATCH is partial, so nothing is required: except what the API refuses an update without.
            schema["required"] = sorted({*schema.get("required", []), *required_on_update})
        staff_only = set(getattr(getattr(serializer, "Meta", None), "staff_only_fields", ()))
        if staff_only and direction == "response":
            schema["required"] = [name for name in schema.get("required", []) if name not in staff_only]
            if not schema["required"]:
                del schema["required"]
            for name in staff_only & set(schema.get("properties", {})):
                field_schema = schema["properties"][name]
                if "$ref" in field_schema:
                    field_schema = schema["properties"][name] = {"allOf": [field_schema]}
                description = field_schema.get("description", "")
                field_schema["description"] = f"{description} {STAFF_ONLY_NOTE}".strip()
        return schema

    def _error_codes(self) -> list[str]:
        method = self.method
        codes = ["401", "403", "429"] if self.get_auth() else ["429"]
        is_detail = "{" in self.path
        if method == "GET" and self._is_list_view():
            codes += ["400", "404"]  # a bad filter; a page past the end
        elif is_detail:
            codes.append("404")
        if method in ("POST", "PATCH", "PUT"):
            codes += ["400", "413", "415"]
        if method in ("PATCH", "DELETE") or (method == "POST" and is_detail):
            codes.append("409")
        return sorted(set(codes))

    def _get_response_bodies(self, direction="response"):
        responses = super()._get_response_bodies(direction)
        for code in self._error_codes():
            if code not in responses:
                response = self._get_response_for_code(ErrorSerializer, code, direction=direction)
                response["description"] = ERROR_DESCRIPTIONS[code]
                responses[code] = response
        return responses
