"""Answer.response loses its index of its own: answer_unique_per_question (response, question)
begins with the same column and answers the same look-ups, the fact store's ranges of response
ids included (EXPLAIN on PostgreSQL; see _index_of_its_own)."""

import django.db.models.deletion
from django.db import migrations, models

from cxloop.surveys.migrations._index_of_its_own import drop_index_of_its_own

FIELD = models.ForeignKey(
    db_index=False,
    on_delete=django.db.models.deletion.CASCADE,
    related_name="answers",
    to="surveys.response",
    verbose_name="response",
)


class Migration(migrations.Migration):
    dependencies = [
        ("surveys", "0011_response_survey_index_dropped"),
    ]

    operations = [
        drop_index_of_its_own(
            "answer",
            "response",
            FIELD,
            index="surveys_answer_response_id_5416c873",
            table="surveys_answer",
            column="response_id",
        ),
    ]
