"""The webhooks in the API's OpenAPI document: each event's body as a component and, under
OpenAPI 3.1's ``webhooks``, the POST a receiver gets (docs/webhooks.md)."""

from ninja import NinjaAPI

from cxloop.webhooks.schemas import components
from cxloop.webhooks.signing import EVENT_HEADER, KIND_HEADER, SIGNATURE_HEADER

SIGNED = (
    f'Signed: `{SIGNATURE_HEADER}: t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>" under '
    f"the subscription's secret>`; `{EVENT_HEADER}` is the event's id (the same on a retry or a "
    "replay: use it to drop duplicates). Answer 2xx within 10 s; anything else is retried "
    "(docs/webhooks.md)."
)


def add_webhooks(document: dict) -> dict:
    schemas, names = components()
    document.setdefault("components", {}).setdefault("schemas", {}).update(schemas)
    headers = [
        {"name": SIGNATURE_HEADER, "in": "header", "required": True, "schema": {"type": "string"}},
        {"name": EVENT_HEADER, "in": "header", "required": True, "schema": {"type": "string"}},
        {"name": KIND_HEADER, "in": "header", "required": True, "schema": {"type": "string"}},
    ]
    document["webhooks"] = {
        kind: {
            "post": {
                "summary": kind,
                "description": SIGNED,
                "parameters": headers,
                "requestBody": {
                    "required": True,
                    "content": {
                        "application/json": {"schema": {"$ref": f"#/components/schemas/{name}"}}
                    },
                },
                "responses": {"2XX": {"description": "Taken; not sent again."}},
            }
        }
        for kind, name in names.items()
    }
    return document


class NinjaAPIWithWebhooks(NinjaAPI):
    def get_openapi_schema(self, *, path_prefix=None, path_params=None):
        document = super().get_openapi_schema(path_prefix=path_prefix, path_params=path_params)
        add_webhooks(document)
        return document
