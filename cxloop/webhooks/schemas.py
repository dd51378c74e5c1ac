"""The JSON of each webhook event, as pydantic models: their JSON Schemas are the OpenAPI
document's components (``WebhookEvent…``) and its ``webhooks`` section (cxloop.api), and the
tests check every payload emitted against them. :mod:`cxloop.webhooks.payloads` and the
emitters in cases, improvements and surveys build the dicts; these models only describe them."""

import json
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from cxloop.webhooks.choices import EventKind


class _Data(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ResponseRecorded(_Data):
    response: int
    survey: int
    customer: int | None
    contact: int | None
    touchpoint: int | None
    team: int | None
    channel: str
    language: str
    submitted_at: str | None = Field(description="ISO 8601")


class CaseData(_Data):
    case: int
    reference: str = Field(examples=["C-000042"])
    origin: str
    state: str
    priority: str
    customer: int | None
    team: int | None
    owner: int | None = Field(description="the employee who owns the case")
    opened_at: str | None


class CaseStateChanged(CaseData):
    before: str
    after: str
    by: int | None = Field(
        description="the employee who changed it; null: the system or the customer"
    )


class CaseClosed(CaseStateChanged):
    closed_at: str | None


class InquiryReceived(_Data):
    inquiry: int
    case: int
    reference: str
    topic: int
    language: str
    contact: int | None
    received_at: str | None


class Standard(_Data):
    id: int
    touchpoint: int
    version: int


class InitiativeFinished(_Data):
    initiative: int
    team: int | None
    effective_from: str | None
    touchpoints: list[int]
    standards: list[Standard]
    finished_at: str


class RollbackAlertRaised(_Data):
    alert: int
    touchpoint: int
    initiative: int | None
    grain: str = Field(examples=["month", "quarter"])
    period_start: str
    period_end: str
    baseline_level: float
    level: float
    answers: int
    detected_at: str | None


DATA: dict[str, type[_Data]] = {
    EventKind.RESPONSE_RECORDED: ResponseRecorded,
    EventKind.CASE_OPENED: CaseData,
    EventKind.CASE_STATE_CHANGED: CaseStateChanged,
    EventKind.CASE_CLOSED: CaseClosed,
    EventKind.INQUIRY_RECEIVED: InquiryReceived,
    EventKind.INITIATIVE_FINISHED: InitiativeFinished,
    EventKind.ROLLBACK_ALERT_RAISED: RollbackAlertRaised,
}


def envelope_model(kind: str) -> type[BaseModel]:
    """The whole body of an event of ``kind``: its envelope around its data."""
    kind = str(kind)
    name = "WebhookEvent" + "".join(part.title() for part in kind.replace(".", "_").split("_"))
    data = DATA[kind]
    return type(
        name,
        (BaseModel,),
        {
            "__annotations__": {
                "id": str,
                "type": Literal[kind],  # type: ignore[valid-type]
                "created": str,
                "data": data,
            },
            "__doc__": f"The body POSTed for {kind}: X-Cxloop-Event is {kind!r}.",
            "model_config": ConfigDict(extra="forbid", title=name),
        },
    )


def components() -> tuple[dict[str, dict], dict[str, str]]:
    """(JSON Schemas by component name, the component name of each kind's body)."""
    schemas: dict[str, dict] = {}
    names: dict[str, str] = {}
    for kind in map(str, DATA):
        model = envelope_model(kind)
        schema = model.model_json_schema(ref_template="#/components/schemas/{model}")
        for name, definition in schema.pop("$defs", {}).items():
            schemas["WebhookData" + name if not name.startswith("Webhook") else name] = definition
        names[kind] = model.__name__
        schemas[model.__name__] = schema
    # The data models are referenced as "#/components/schemas/<Name>": keep the names pydantic
    # gave them, prefixed, and point the references at the prefixed names.
    return _prefixed(schemas), names


def _prefixed(schemas: dict[str, dict]) -> dict[str, dict]:
    text = json.dumps(schemas)
    for name in list(schemas):
        if name.startswith("WebhookData"):
            plain = name.removeprefix("WebhookData")
            text = text.replace(f'"#/components/schemas/{plain}"', f'"#/components/schemas/{name}"')
    return json.loads(text)
