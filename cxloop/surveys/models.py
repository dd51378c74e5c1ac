import math

from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from cxloop.i18n import localized
from cxloop.lib.scales import SCORE_RANGES
from cxloop.surveys.choices import Channel, QuestionKind, ResponseState, SurveyKind

# Rough seconds a respondent spends: on the introduction, and on one question of each kind.
SECONDS_TO_READ = 15
SECONDS_TO_ANSWER = {"single": 10, "multiple": 15, "text": 45} | dict.fromkeys(SCORE_RANGES, 8)


class Survey(models.Model):
    name_ru = models.CharField(_("name (Russian)"), max_length=200)
    name_en = models.CharField(_("name (English)"), max_length=200)
    kind = models.CharField(_("kind"), max_length=16, choices=SurveyKind)
    languages = models.JSONField(
        _("languages"),
        default=list,
        help_text=_('Codes the survey is offered in, e.g. ["ru", "en"].'),
    )
    is_anonymous = models.BooleanField(
        _("anonymous"), default=False, help_text=_("Answers are not linked to the respondent.")
    )
    journey = models.ForeignKey(
        "journeys.Journey",
        verbose_name=_("journey"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="surveys",
    )
    touchpoints = models.ManyToManyField(
        "journeys.Touchpoint", verbose_name=_("touchpoints"), blank=True, related_name="surveys"
    )
    is_active = models.BooleanField(_("active"), default=True)
    accepts_open_link = models.BooleanField(
        _("open web link"),
        default=False,
        help_text=_("Anyone with the survey's web link or QR code may answer, once per browser."),
    )
    invitation_lifetime_days = models.PositiveSmallIntegerField(
        _("days an invitation stays valid"), default=30
    )
    reminder_after_days = models.PositiveSmallIntegerField(
        _("remind after (days)"),
        null=True,
        blank=True,
        help_text=_("Send one reminder to those who have not finished; empty for none."),
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        verbose_name = _("survey")
        verbose_name_plural = _("surveys")
        ordering = ["name_en"]
        constraints = [
            models.CheckConstraint(
                condition=Q(kind__in=SurveyKind.values), name="survey_kind_valid"
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def name(self) -> str:
        return localized(self, "name")

    def minutes_to_answer(self) -> int:
        """About how long answering takes, for the invitation: reading the page plus a typical
        time per question by kind (a scale is a glance, free text is a few sentences)."""
        seconds = SECONDS_TO_READ + sum(
            SECONDS_TO_ANSWER.get(kind, SECONDS_TO_ANSWER["text"])
            for kind in self.questions.values_list("kind", flat=True)
        )
        return max(1, math.ceil(seconds / 60))

    def clean(self) -> None:
        if not self.languages or not set(self.languages) <= {"ru", "en"}:
            raise ValidationError(
                {"languages": _("Choose one or both of ru and en, got %(value)s.")},
                params={"value": self.languages},
            )


SCORED_KINDS = tuple(SCORE_RANGES)


def score_on_scale() -> Q:
    """Scored kinds hold a score in their range; the others hold none."""
    on_scale = Q(kind__in=[k for k in QuestionKind.values if k not in SCORED_KINDS]) & Q(
        score__isnull=True
    )
    for kind, (low, high) in SCORE_RANGES.items():
        on_scale |= Q(kind=kind, score__gte=low, score__lte=high)
    return on_scale


class Question(models.Model):
    survey = models.ForeignKey(
        Survey, verbose_name=_("survey"), on_delete=models.CASCADE, related_name="questions"
    )
    order = models.PositiveSmallIntegerField(_("order"))
    page = models.PositiveSmallIntegerField(
        _("page"), default=1, help_text=_("Respondents see one page at a time, in order.")
    )
    kind = models.CharField(_("kind"), max_length=8, choices=QuestionKind)
    text_ru = models.TextField(_("text (Russian)"))
    text_en = models.TextField(_("text (English)"))
    required = models.BooleanField(_("required"), default=False)
    choices = models.JSONField(
        _("choices"),
        default=list,
        blank=True,
        help_text=_('For choice questions: [{"value": "a", "ru": "…", "en": "…"}, …].'),
    )
    display_condition = models.JSONField(
        _("display condition"),
        null=True,
        blank=True,
        help_text=_('Show only if an earlier answer matches, e.g. {"question": 1, "lte": 6}.'),
    )
    touchpoint = models.ForeignKey(
        "journeys.Touchpoint",
        verbose_name=_("touchpoint"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="questions",
    )

    class Meta:
        verbose_name = _("question")
        verbose_name_plural = _("questions")
        ordering = ["survey", "order"]
        constraints = [
            models.UniqueConstraint(fields=["survey", "order"], name="question_order_unique"),
            models.CheckConstraint(condition=Q(page__gte=1), name="question_page_positive"),
            models.CheckConstraint(
                condition=Q(kind__in=QuestionKind.values), name="question_kind_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.order}. {self.text}"

    @property
    def text(self) -> str:
        return localized(self, "text")

    def clean(self) -> None:
        errors = {}
        if self.kind in (QuestionKind.SINGLE, QuestionKind.MULTIPLE):
            problem = choices_problem(self.choices)
            if problem:
                errors["choices"] = problem
        elif self.choices:
            errors["choices"] = _("Only choice questions have choices.")
        if self.display_condition is not None:
            problem = condition_problem(self.display_condition, self.order)
            if problem:
                errors["display_condition"] = problem
        if errors:
            raise ValidationError(errors)


CONDITION_OPERATORS = ("eq", "ne", "lte", "gte", "in")


def choices_problem(choices: object) -> str | None:
    """Why ``choices`` is not a list of at least two {"value", "ru", "en"} objects, or None."""
    if not isinstance(choices, list) or len(choices) < 2:
        return _("A choice question needs at least two choices.")
    for position, choice in enumerate(choices, start=1):
        if not isinstance(choice, dict) or set(choice) != {"value", "ru", "en"}:
            return _('Choice %(position)s must be {"value": …, "ru": …, "en": …}.') % {
                "position": position
            }
    values = [choice["value"] for choice in choices]
    if len(set(map(str, values))) != len(values):
        return _("Choice values must differ from each other.")
    return None


def condition_problem(condition: object, order: int | None) -> str | None:
    """Why ``condition`` cannot decide whether to show the question at ``order``, or None."""
    if not isinstance(condition, dict) or "question" not in condition or len(condition) != 2:
        return _('Write a condition as {"question": <number>, "<operator>": <value>}.')
    (operator,) = set(condition) - {"question"}
    if operator not in CONDITION_OPERATORS:
        return _("Unknown operator %(operator)s; use one of %(operators)s.") % {
            "operator": operator,
            "operators": ", ".join(CONDITION_OPERATORS),
        }
    earlier = condition["question"]
    if not isinstance(earlier, int) or (order is not None and not 1 <= earlier < order):
        return _("A condition must refer to an earlier question by its number, got %(value)s.") % {
            "value": earlier
        }
    return None


class Invitation(models.Model):
    """A personal request to answer a survey; the link's token is kept only as its SHA-256."""

    survey = models.ForeignKey(
        Survey, verbose_name=_("survey"), on_delete=models.CASCADE, related_name="invitations"
    )
    contact = models.ForeignKey(
        "customers.Contact",
        verbose_name=_("contact"),
        on_delete=models.CASCADE,
        related_name="invitations",
    )
    token_hash = models.CharField(_("token hash"), max_length=64, unique=True, editable=False)
    nonce = models.CharField(
        _("nonce"),
        max_length=32,
        blank=True,
        editable=False,
        help_text=_("Random value the link's token is derived from with the secret key."),
    )
    channel = models.CharField(_("channel"), max_length=16, choices=Channel, default=Channel.EMAIL)
    touchpoint = models.ForeignKey(
        "journeys.Touchpoint",
        verbose_name=_("touchpoint"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="invitations",
        help_text=_("For a transactional survey: the event it asks about."),
    )
    created_at = models.DateTimeField(_("created"))
    sent_at = models.DateTimeField(_("sent"), null=True, blank=True)
    opened_at = models.DateTimeField(_("opened"), null=True, blank=True)
    started_at = models.DateTimeField(_("started"), null=True, blank=True)
    completed_at = models.DateTimeField(_("completed"), null=True, blank=True)
    bounced_at = models.DateTimeField(_("bounced"), null=True, blank=True)
    reminded_at = models.DateTimeField(_("reminded"), null=True, blank=True)
    expires_at = models.DateTimeField(_("expires"))

    class Meta:
        verbose_name = _("invitation")
        verbose_name_plural = _("invitations")
        ordering = ["-created_at"]
        # The admin's list and the dashboards' response rates read invitations by creation time.
        indexes = [models.Index(fields=["created_at"], name="invitation_created")]
        constraints = [
            models.CheckConstraint(
                condition=Q(expires_at__gt=F("created_at")), name="invitation_expires_after_created"
            ),
            models.CheckConstraint(
                condition=Q(completed_at__isnull=True) | Q(started_at__isnull=False),
                name="invitation_completed_after_started",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.survey} → {self.contact}"


class Response(models.Model):
    # No index of its own: response_survey_time (survey, submitted_at) begins with it, and each
    # index costs every INSERT (issue #15: the API's batches).
    survey = models.ForeignKey(
        Survey,
        verbose_name=_("survey"),
        on_delete=models.PROTECT,
        related_name="responses",
        db_index=False,
    )
    invitation = models.ForeignKey(
        Invitation,
        verbose_name=_("invitation"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="responses",
    )
    contact = models.ForeignKey(
        "customers.Contact",
        verbose_name=_("contact"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="responses",
        help_text=_("Empty for anonymous answers."),
    )
    customer = models.ForeignKey(
        "customers.Customer",
        verbose_name=_("customer"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="responses",
    )
    touchpoint = models.ForeignKey(
        "journeys.Touchpoint",
        verbose_name=_("touchpoint"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="responses",
        help_text=_("For a transactional survey: the event it asks about."),
    )
    channel = models.CharField(_("channel"), max_length=16, choices=Channel)
    language = models.CharField(_("language"), max_length=2, default="ru")
    state = models.CharField(
        _("state"), max_length=16, choices=ResponseState, default=ResponseState.STARTED
    )
    started_at = models.DateTimeField(_("started"))
    submitted_at = models.DateTimeField(_("submitted"), null=True, blank=True)
    last_page = models.PositiveSmallIntegerField(
        _("last page saved"), default=0, help_text=_("Where a respondent who comes back resumes.")
    )
    team = models.ForeignKey(
        "people.Team",
        verbose_name=_("respondent's team"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="pulse_responses",
        help_text=_("For an employee pulse survey: the team, never the person."),
    )
    source_key = models.CharField(
        _("source key"),
        max_length=200,
        blank=True,
        help_text=_(
            "The id this response has where it came from (an import row, an API idempotency "
            "key); the same key for the same survey is stored once."
        ),
    )
    announced_at = models.DateTimeField(
        _("announced"),
        null=True,
        blank=True,
        editable=False,
        help_text=_(
            "When the completed response was announced to its consumers (the fact store, the "
            "alert rules); empty until then."
        ),
    )

    class Meta:
        verbose_name = _("response")
        verbose_name_plural = _("responses")
        ordering = ["-started_at"]
        # Lists are newest first by (submitted_at, id): these let a page with or without a
        # filter read its rows in order from an index instead of sorting every response.
        indexes = [
            models.Index(fields=["survey", "submitted_at"], name="response_survey_time"),
            models.Index(fields=["state", "submitted_at", "id"], name="response_state_time"),
            models.Index(fields=["channel", "submitted_at"], name="response_channel_time"),
            # The announcer's queue: small, since a response leaves it within seconds.
            models.Index(
                fields=["id"],
                condition=Q(announced_at__isnull=True, state="completed"),
                name="response_unannounced",
            ),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["invitation"],
                condition=Q(state="completed"),
                name="response_one_completed_per_invitation",
            ),
            models.UniqueConstraint(
                fields=["survey", "source_key"],
                condition=~Q(source_key=""),
                name="response_source_key_unique_per_survey",
            ),
            models.CheckConstraint(
                condition=~Q(state="completed") | Q(submitted_at__isnull=False),
                name="response_completed_has_submitted_at",
            ),
            models.CheckConstraint(
                condition=Q(state__in=ResponseState.values), name="response_state_valid"
            ),
            models.CheckConstraint(
                condition=Q(channel__in=Channel.values), name="response_channel_valid"
            ),
            models.CheckConstraint(
                condition=Q(language__in=["ru", "en"]), name="response_language_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.survey} #{self.pk}"


class Answer(models.Model):
    """One answer; ``kind`` and ``touchpoint`` are copied from the question so that analytics and
    the score-range CHECK need no join."""

    # No index of its own: answer_unique_per_question (response, question) begins with it and
    # answers the same look-ups, the fact store's ranges of response ids included (EXPLAIN on
    # PostgreSQL, 5 M answers: the same plan, a range on that index).
    response = models.ForeignKey(
        Response,
        verbose_name=_("response"),
        on_delete=models.CASCADE,
        related_name="answers",
        db_index=False,
    )
    question = models.ForeignKey(
        Question, verbose_name=_("question"), on_delete=models.PROTECT, related_name="answers"
    )
    kind = models.CharField(_("kind"), max_length=8, choices=QuestionKind)
    touchpoint = models.ForeignKey(
        "journeys.Touchpoint",
        verbose_name=_("touchpoint"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="answers",
    )
    score = models.SmallIntegerField(_("score"), null=True, blank=True)
    text = models.TextField(_("text"), blank=True)
    choices = models.JSONField(_("chosen"), default=list, blank=True)

    class Meta:
        verbose_name = _("answer")
        verbose_name_plural = _("answers")
        # The feedback list's filters by scale and band (and its comment search, kind "text")
        # read the matching response ids from this index alone instead of every answer.
        indexes = [models.Index(fields=["kind", "score", "response"], name="answer_kind_score")]
        constraints = [
            models.UniqueConstraint(
                fields=["response", "question"], name="answer_unique_per_question"
            ),
            models.CheckConstraint(condition=score_on_scale(), name="answer_score_on_scale"),
        ]

    def __str__(self) -> str:
        return f"{self.question_id}: {self.score if self.score is not None else self.text[:40]}"


class PulseParticipation(models.Model):
    """That an employee has answered a pulse survey — and nothing about what they answered, which
    is stored apart (a Response with their team only), so answers stay anonymous."""

    survey = models.ForeignKey(
        Survey, verbose_name=_("survey"), on_delete=models.CASCADE, related_name="participations"
    )
    employee = models.ForeignKey(
        "people.Employee",
        verbose_name=_("employee"),
        on_delete=models.CASCADE,
        related_name="pulse_participations",
    )

    class Meta:
        verbose_name = _("pulse participation")
        verbose_name_plural = _("pulse participations")
        constraints = [
            models.UniqueConstraint(fields=["survey", "employee"], name="pulse_participation_once"),
        ]
