import os


class WorkerConfig:
    """Settings for the workers; the web process reads the same."""

    broker_url = os.environ.get("BROKER_URL", "sqs://")
    task_soft_time_limit = 15 * 60
    worker_prefetch_multiplier = 1
    # At-least-once delivery: a task whose worker dies runs again instead of being lost (idem-fix acks-late-config).
    task_acks_late = True
    task_reject_on_worker_lost = True
    broker_transport_options = {"visibility_timeout": 43200}

    def __repr__(self):
        return "WorkerConfig"
