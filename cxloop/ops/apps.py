from django.apps import AppConfig


class OpsConfig(AppConfig):
    name = "cxloop.ops"
    label = "ops"

    def ready(self):
        # In every process (a web worker, ``cxloop worker``): the task queue's signals carry the
        # request id into tasks' logs and time the tasks for the metrics.
        from cxloop.ops import logs, metrics

        logs.connect_receivers()
        metrics.connect_receivers()
