"""Answers the operations build themselves: the documented schema describes them, and the
schemathesis suite (tests/api/) checks that they agree, so the hot paths skip a second
validation of their own output."""

import orjson
from django.http import HttpResponse


def json_response(data, status: int = 200) -> HttpResponse:
    return HttpResponse(orjson.dumps(data), status=status, content_type="application/json")
