import os


class WorkerConfig:
    """Settings for the workers; the web process reads the same."""

    broker_url = os.environ.get("BROKER_URL", "sqs://")
    task_soft_time_limit = 15 * 60
    worker_prefetch_multiplier = 1

    def __repr__(self):
        return "WorkerConfig"
