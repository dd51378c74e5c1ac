"""The specialist's answer to a customer's inquiry, posted from the case page."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from cxloop.cases import inquiries
from cxloop.cases.forms import AnswerForm
from cxloop.cases.queries import may_act, visible_cases
from cxloop.cases.services import CaseError
from cxloop.people.queries import employee_of


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def case_answer(request: HttpRequest, pk: int) -> HttpResponse:
    """E-mail the answer to the customer (404 for a case the user may not see, 403 for one they
    may only read); what went wrong is shown on the case page. A GET — a reload after the
    answer, a stale link — goes to the case page, where the form is."""
    case = get_object_or_404(visible_cases(request.user), pk=pk)
    if request.method != "POST":
        return redirect("case_detail", pk=case.pk)
    if not may_act(request.user, case):
        raise PermissionDenied
    form = AnswerForm(request.POST)
    if not form.is_valid():
        messages.error(request, form.errors["text"][0])
        return redirect("case_detail", pk=case.pk)
    try:
        inquiries.answer(
            case, form.cleaned_data["text"], by=employee_of(request.user), now=timezone.now()
        )
    except CaseError as error:
        messages.error(request, str(error))
    else:
        messages.success(request, _("The answer has been e-mailed to the customer."))
    return redirect("case_detail", pk=case.pk)
