"""The task that builds an export too long for one request."""

from django_tasks import task

from cxloop.exports import services


@task()
def build_export(job_id: int) -> None:
    services.run_job(job_id)
