from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from cxloop.comments.choices import CommentLanguage, SentimentLabel
from cxloop.i18n import localized


class Theme(models.Model):
    """A theme customers speak of, as the CX lead defines it: the words and phrases that mean
    it, one per line, in Russian and in English (matched on lemmas by :mod:`cxloop.text`)."""

    code = models.SlugField(_("code"), max_length=40, unique=True)
    name_ru = models.CharField(_("name (Russian)"), max_length=120)
    name_en = models.CharField(_("name (English)"), max_length=120)
    phrases_ru = models.TextField(_("phrases in Russian"), blank=True)
    phrases_en = models.TextField(_("phrases in English"), blank=True)
    is_active = models.BooleanField(_("active"), default=True)
    order = models.PositiveSmallIntegerField(_("order"), default=0)

    class Meta:
        verbose_name = _("theme")
        verbose_name_plural = _("themes")
        ordering = ["order", "pk"]

    def __str__(self) -> str:
        return self.name

    @property
    def name(self) -> str:
        return localized(self, "name")

    @property
    def phrases(self) -> list[str]:
        """Every phrase of both languages, one per non-empty line."""
        lines = f"{self.phrases_ru}\n{self.phrases_en}".splitlines()
        return [line.strip() for line in lines if line.strip()]


class CommentInsight(models.Model):
    """What :mod:`cxloop.text` found in one comment: its language, sentiment and themes, with
    the engine and the taxonomy's version it was found with (so that a rebuild knows what is
    stale)."""

    answer = models.OneToOneField(
        "surveys.Answer",
        verbose_name=_("answer"),
        primary_key=True,
        on_delete=models.CASCADE,
        related_name="insight",
    )
    response = models.ForeignKey(
        "surveys.Response",
        verbose_name=_("response"),
        on_delete=models.CASCADE,
        related_name="comment_insights",
    )
    language = models.CharField(_("language"), max_length=8, choices=CommentLanguage)
    sentiment = models.CharField(_("sentiment"), max_length=8, choices=SentimentLabel)
    score = models.FloatField(_("sentiment score"))
    engine = models.CharField(_("engine"), max_length=40)
    taxonomy = models.CharField(_("taxonomy version"), max_length=16)
    enriched_at = models.DateTimeField(_("enriched at"))
    themes = models.ManyToManyField(
        Theme, verbose_name=_("themes"), through="CommentTheme", related_name="comments"
    )

    class Meta:
        verbose_name = _("comment insight")
        verbose_name_plural = _("comment insights")
        constraints = [
            models.CheckConstraint(
                condition=Q(score__gte=-1.0) & Q(score__lte=1.0), name="comment_score_in_range"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.answer_id}: {self.sentiment}"


class CommentTheme(models.Model):
    """That a comment speaks of a theme."""

    insight = models.ForeignKey(
        CommentInsight, on_delete=models.CASCADE, related_name="theme_links"
    )
    theme = models.ForeignKey(Theme, on_delete=models.CASCADE, related_name="comment_links")

    class Meta:
        verbose_name = _("theme of a comment")
        verbose_name_plural = _("themes of comments")
        constraints = [
            models.UniqueConstraint(fields=["insight", "theme"], name="comment_theme_once"),
        ]
        indexes = [models.Index(fields=["theme", "insight"], name="comment_theme_by_theme")]


class ThemeCheck(models.Model):
    """A CX lead's verdict on one comment a theme matched: right or wrong. The theme's
    precision is the share found right among those checked, against the phrases as they were
    (``taxonomy``: the taxonomy's version when checked)."""

    theme = models.ForeignKey(
        Theme, verbose_name=_("theme"), on_delete=models.CASCADE, related_name="checks"
    )
    answer = models.ForeignKey(
        "surveys.Answer",
        verbose_name=_("comment"),
        on_delete=models.CASCADE,
        related_name="theme_checks",
    )
    is_right = models.BooleanField(_("right"))
    checked_by = models.ForeignKey(
        "people.Employee",
        verbose_name=_("checked by"),
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    checked_at = models.DateTimeField(_("checked at"))
    taxonomy = models.CharField(_("taxonomy version"), max_length=16)

    class Meta:
        verbose_name = _("theme check")
        verbose_name_plural = _("theme checks")
        constraints = [
            models.UniqueConstraint(fields=["theme", "answer"], name="theme_check_once"),
        ]
