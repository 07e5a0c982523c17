"""Schemas every part of the API shares: strict input, the error object, the documented errors."""

from typing import Annotated

from ninja import Schema
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field
from pydantic_core import PydanticUseDefault


class Input(BaseModel):
    """A request body or query: an unknown field is a 400, never silently ignored.

    A plain pydantic model, not ninja's Schema: Schema's wrapper validator (for reading Django
    model instances) validates a model with ``extra="forbid"`` twice, and input is only JSON.
    """

    model_config = ConfigDict(extra="forbid")


def _empty_is_the_default(value):
    if value == "":
        raise PydanticUseDefault
    return value


# A whole number in the query string, where an empty value (``?page=``) means the default.
QueryInt = Annotated[int, BeforeValidator(_empty_is_the_default)]


class Error(Schema):
    error: str = Field(description="What went wrong, for a person to read.")
    fields: dict[str, list[str]] | None = Field(
        None, description="Validation errors by field (a dotted path inside the body); only for validation errors."
    )


def errors(*statuses: int) -> dict:
    """The ``response`` entries for the error statuses an operation can answer with."""
    return dict.fromkeys(statuses, Error)
