"""Token authentication: ``Authorization: Bearer <token>``, acting as the token's employee."""

from django.http import HttpRequest
from ninja.errors import AuthorizationError
from ninja.security import HttpBearer

from cxloop.api.models import ApiToken
from cxloop.api.services import token_in_use
from cxloop.people.queries import role_records_feedback


class BearerToken(HttpBearer):
    """Lets in the holder of an unrevoked token of an active user (401 otherwise); with
    ``write``, only one whose role may record feedback (403 for viewers)."""

    def __init__(self, *, write: bool = False):
        super().__init__()
        self.write = write

    def authenticate(self, request: HttpRequest, token: str) -> ApiToken | None:
        api_token = token_in_use(token)
        if api_token is None:
            return None
        if self.write and not role_records_feedback(api_token.employee.role):
            raise AuthorizationError(message="This token's user may read but not submit.")
        return api_token


read = BearerToken()
write = BearerToken(write=True)
