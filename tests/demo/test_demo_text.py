"""What customers say, on the full demo (issue #14): every comment carries its language,
sentiment and themes, the fact store copies them, each touchpoint's comments are mostly about
the themes planted for it, sentiment follows the scores, and the journey map's top complaint of
billing after the roll-back is billing."""

import datetime as dt
from collections import Counter, defaultdict

import pyarrow.parquet as pq
from django.contrib.auth import get_user_model
from django.urls import reverse

from cxloop import text
from cxloop.comments import queries
from cxloop.comments.models import CommentInsight
from cxloop.facts import store
from cxloop.insights.negative_themes import TopComplaintQuery
from cxloop.insights.store import Scope
from cxloop.surveys.models import Answer
from tests.demo.test_demo import TRUTH

MIN_COMMENTS = 30  # a touchpoint with fewer comments says little about its themes


class FullDemoTextTruths:
    """Mixed into tests/demo/test_full_demo.py's FullDemoTests."""

    def test_every_comment_carries_language_sentiment_and_themes_and_is_in_the_fact_store(self):
        taxonomy = queries.taxonomy()
        self.assertEqual(sorted(taxonomy.phrases), sorted(TRUTH.comments["themes"]))
        total, current = queries.comment_counts(text.engine_name(), taxonomy.version)
        self.assertGreater(total, 1000)
        self.assertEqual(current, total)
        stored = sum(
            pq.read_metadata(store.month_path("comments", month)).num_rows
            for month in store.read_manifest().months
        )
        self.assertEqual(stored, total)
        languages = Counter(CommentInsight.objects.values_list("language", flat=True))
        self.assertLessEqual(set(languages), {"ru", "en", "other"})
        self.assertGreater(languages["ru"], languages["en"])
        self.assertGreater(CommentInsight.objects.filter(language="en").count(), 100)

    def test_each_touchpoints_comments_are_mostly_about_its_planted_themes(self):
        found: dict[str, Counter] = defaultdict(Counter)
        comments: Counter = Counter()
        insights = CommentInsight.objects.filter(response__touchpoint__isnull=False)
        for code, theme in insights.values_list("response__touchpoint__code", "themes__code"):
            found[code][theme] += 1
        for code in insights.values_list("response__touchpoint__code", flat=True):
            comments[code] += 1
        planted = TRUTH.comments["touchpoint_themes"]
        checked = [code for code, n in comments.items() if n >= MIN_COMMENTS]
        self.assertGreaterEqual(len(checked), 10)
        for code in checked:
            top, n = next((t, n) for t, n in found[code].most_common() if t is not None)
            self.assertIn(top, planted[code], (code, found[code].most_common(3)))
            share = sum(found[code][t] for t in planted[code]) / comments[code]
            self.assertGreater(share, 0.7, (code, share))

    def test_comments_of_unhappy_customers_are_read_as_negative_more_often(self):
        first_score = {}
        answers = Answer.objects.filter(kind__in=["nps", "csat"], score__isnull=False)
        for response, kind, score in answers.values_list("response_id", "kind", "score"):
            first_score.setdefault(response, (kind, score))
        negative, seen = Counter(), Counter()
        for response, sentiment, language in CommentInsight.objects.values_list(
            "response_id", "sentiment", "language"
        ):
            if response not in first_score or language not in ("ru", "en"):
                continue
            kind, score = first_score[response]
            low, high = (6, 9) if kind == "nps" else (2, 4)
            band = "low" if score <= low else "high" if score >= high else None
            if band:
                seen[band, language] += 1
                negative[band, language] += sentiment == "negative"
        for language in ("ru", "en"):
            share = {
                band: negative[band, language] / seen[band, language] for band in ("low", "high")
            }
            # The engine's accuracy is what docs/text-model-card.md reports; the direction holds.
            self.assertGreater(share["low"], share["high"] + 0.15, (language, share))

    def test_the_top_complaint_about_billing_after_the_roll_back_is_billing(self):
        since = dt.date.fromisoformat(TRUTH.rollback["from_month"] + "-01")
        found = TopComplaintQuery(scope=Scope(since=since, until=TRUTH.end)).run(cache=False)
        billing = self.by_code[TRUTH.rollback["touchpoint"]]
        top = found[billing.pk]
        self.assertEqual(queries.themes().get(pk=top.theme_id).code, "billing")
        self.assertGreaterEqual(top.negative, top.comments)
        self.assertGreaterEqual(top.comments, 5)

    def test_the_journey_maps_billing_card_links_its_top_complaint_to_the_comments(self):
        self.client.force_login(get_user_model().objects.get(username="cx.lead"))
        since = TRUTH.rollback["from_month"] + "-01"
        url = reverse("journey_map") + f"?since={since}&until={TRUTH.end}&segment=all"
        page = self.client.get(url).content.decode()
        billing = self.by_code[TRUTH.rollback["touchpoint"]]
        card = page.split(f'id="tp-{billing.pk}"', 1)[1].split("</article>", 1)[0]
        self.assertIn("cx-tp-complaint", card)
        theme = queries.themes().get(code="billing")
        link = f"touchpoint={billing.pk}&amp;theme={theme.pk}&amp;sentiment=negative"
        self.assertIn(link, card)
        self.assertIn(theme.name_ru, card)  # the page's language, Russian by default
        comments = self.client.get(
            reverse("comment_list"),
            {"touchpoint": billing.pk, "theme": theme.pk, "sentiment": "negative", "since": since},
        )
        self.assertEqual(comments.status_code, 200)
        self.assertGreater(comments.context["page"].paginator.count, 0)
