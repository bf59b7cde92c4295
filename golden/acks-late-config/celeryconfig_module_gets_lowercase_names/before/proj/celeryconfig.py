broker_url = "sqs://"
task_default_queue = "proj"
worker_prefetch_multiplier = 1
