"""Response.survey loses its index of its own: response_survey_time (survey, submitted_at)
begins with the same column (see _index_of_its_own)."""

import django.db.models.deletion
from django.db import migrations, models

from cxloop.surveys.migrations._index_of_its_own import drop_index_of_its_own

FIELD = models.ForeignKey(
    db_index=False,
    on_delete=django.db.models.deletion.PROTECT,
    related_name="responses",
    to="surveys.survey",
    verbose_name="survey",
)


class Migration(migrations.Migration):
    dependencies = [
        ("surveys", "0010_response_announced_at"),
    ]

    operations = [
        drop_index_of_its_own(
            "response",
            "survey",
            FIELD,
            index="surveys_response_survey_id_907701cf",
            table="surveys_response",
            column="survey_id",
        ),
    ]
