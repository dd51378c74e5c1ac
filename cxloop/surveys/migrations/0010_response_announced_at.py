from django.db import migrations, models
from django.db.models import F


def mark_stored_as_announced(apps, schema_editor):
    """Responses stored before the one way in were followed by their writers (the fact store);
    announcing the whole history now would only make the alert rules read it again."""
    Response = apps.get_model("surveys", "Response")
    Response.objects.filter(state="completed").update(announced_at=F("submitted_at"))


class Migration(migrations.Migration):
    dependencies = [
        ("surveys", "0009_answer_kind_score_index"),
    ]

    operations = [
        migrations.AddField(
            model_name="response",
            name="announced_at",
            field=models.DateTimeField(
                blank=True,
                editable=False,
                help_text=(
                    "When the completed response was announced to its consumers (the fact "
                    "store, the alert rules); empty until then."
                ),
                null=True,
                verbose_name="announced",
            ),
        ),
        migrations.RunPython(mark_stored_as_announced, migrations.RunPython.noop),
        migrations.AddIndex(
            model_name="response",
            index=models.Index(
                condition=models.Q(("announced_at__isnull", True), ("state", "completed")),
                fields=["id"],
                name="response_unannounced",
            ),
        ),
    ]
