"""`smartb.api.operation`: a view method's schema and its answer, declared once."""

from __future__ import annotations

import pytest
from django.urls import path
from drf_spectacular.generators import SchemaGenerator
from rest_framework import serializers
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.test import APIRequestFactory
from rest_framework.views import APIView

from smartb.api import ErrorOutput, answers, operation


class ThingOutput(serializers.Serializer):
    name = serializers.CharField()
    size = serializers.IntegerField()


class Thing:
    def __init__(self, name: str, size: int) -> None:
        self.name, self.size = name, size


class ThingsApi(APIView):
    permission_classes = [AllowAny]

    @operation(
        responses=answers(200, ThingOutput(many=True), 404),
        tags=["test"],
        operation_id="things",
    )
    def get(self, request):
        return [Thing("a", 1), Thing("b", 2)]

    @operation(
        request=None,
        responses=answers(201, ThingOutput, 400, 409),
        tags=["test"],
        operation_id="thing_create",
        description="Make a thing.",
    )
    def post(self, request):
        if request.query_params.get("own"):
            return Response({"made": "by hand"}, status=202)
        return Thing("new", 3)


class BareApi(APIView):
    permission_classes = [AllowAny]

    @operation(responses=ThingOutput, tags=["test"], operation_id="bare")
    def get(self, request):
        return Thing("bare", 0)

    @operation(responses=answers(200, ErrorOutput), tags=["test"], operation_id="unserializable")
    def put(self, request):
        return {"not": "a serializer class"}


factory = APIRequestFactory()


def test_the_returned_object_is_answered_through_the_documented_serializer_and_status():
    response = ThingsApi.as_view()(factory.post("/things"))
    assert response.status_code == 201
    assert response.data == {"name": "new", "size": 3}


def test_a_many_serializer_answers_the_returned_list():
    response = ThingsApi.as_view()(factory.get("/things"))
    assert response.status_code == 200
    assert response.data == [{"name": "a", "size": 1}, {"name": "b", "size": 2}]


def test_responses_given_as_a_bare_serializer_answer_200():
    response = BareApi.as_view()(factory.get("/bare"))
    assert response.status_code == 200
    assert response.data == {"name": "bare", "size": 0}


def test_a_response_made_by_the_method_goes_out_as_it_is():
    response = ThingsApi.as_view()(factory.post("/things?own=1"))
    assert response.status_code == 202
    assert response.data == {"made": "by hand"}


def test_a_value_the_documented_answer_cannot_serialize_is_a_programming_error():
    with pytest.raises(TypeError, match="return a Response"):
        BareApi.as_view()(factory.put("/bare"))


def test_the_schema_is_what_extend_schema_makes_of_the_same_arguments():
    schema = SchemaGenerator(
        patterns=[path("things", ThingsApi.as_view()), path("bare", BareApi.as_view())]
    ).get_schema(request=None, public=True)
    things = schema["paths"]["/things"]
    assert things["get"]["operationId"] == "things"
    assert set(things["get"]["responses"]) == {"200", "404"}
    listed = things["get"]["responses"]["200"]["content"]["application/json"]["schema"]
    assert listed["type"] == "array"
    assert things["post"]["operationId"] == "thing_create"
    assert things["post"]["description"] == "Make a thing."
    assert things["post"]["tags"] == ["test"]
    assert "requestBody" not in things["post"]
    assert set(things["post"]["responses"]) == {"201", "400", "409"}
    refused = things["post"]["responses"]["409"]["content"]["application/json"]["schema"]
    assert refused == {"$ref": "#/components/schemas/ApiError"}
    assert set(schema["paths"]["/bare"]["get"]["responses"]) == {"200"}
