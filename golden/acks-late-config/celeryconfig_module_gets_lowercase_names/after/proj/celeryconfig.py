broker_url = "sqs://"
task_default_queue = "proj"
worker_prefetch_multiplier = 1
# At-least-once delivery: a task whose worker dies runs again instead of being lost (idem-fix acks-late-config).
task_acks_late = True
task_reject_on_worker_lost = True
broker_transport_options = {"visibility_timeout": 43200}
