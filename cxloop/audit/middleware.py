"""Sets who acts for the length of a request, and logs reads of pages and API endpoints that
show a customer's or contact's data (:mod:`cxloop.audit.registry`)."""

from django.http import HttpRequest, HttpResponse

from cxloop.audit import context, registry, services
from cxloop.audit.choices import Action
from cxloop.lib.params import clean_text

# Query parameters whose values may be a person's name or address: logged by name only.
_PRIVATE_PARAMETERS = ("email", "name", "phone", "q", "search", "comment", "text")


def _query(request: HttpRequest) -> dict[str, str]:
    return {
        # Cleaned: a NUL is legal in a URL and PostgreSQL refuses it in a JSON value.
        clean_text(key[:50]): "…"
        if any(p in key.lower() for p in _PRIVATE_PARAMETERS)
        else clean_text(value[:100])
        for key, value in list(request.GET.items())[:20]
    }


class _RequestActor:
    """Resolves the actor only when an event is written: reading ``request.user`` costs a
    session lookup that most requests (survey pages, API submissions) never need."""

    def __init__(self, request: HttpRequest):
        self.request = request

    def __call__(self) -> context.Actor:
        request = self.request
        address = request.META.get("REMOTE_ADDR", "")
        employee = getattr(getattr(request, "auth", None), "employee", None)  # an API token
        user = employee.user if employee is not None else getattr(request, "user", None)
        return context.actor_of_user(user, address)


class AuditMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        token = context.set_actor(_RequestActor(request))
        try:
            response = self.get_response(request)
            self._log(request, response)
        finally:
            context.reset(token)
        return response

    def _log(self, request: HttpRequest, response: HttpResponse) -> None:
        match = request.resolver_match
        if match is None or response.status_code >= 400:
            return
        name = match.view_name
        if request.method == "GET" and response.status_code == 200:
            read = registry.personal_read(name)
            if read is not None:
                kind, keyword = read
                services.record(
                    Action.READ,
                    kind=kind,
                    object_id=match.kwargs.get(keyword, "") if keyword else "",
                    details={"path": clean_text(request.path[:200]), "query": _query(request)},
                )
