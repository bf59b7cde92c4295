"""Celery runs each task at least once here: these settings make a task whose worker dies run again
instead of being lost (written by idem-fix acks-late-config). A change that turns one off fails this
test rather than silently losing tasks again."""

import unittest

from proj.celery import app


class CeleryAtLeastOnceTests(unittest.TestCase):
    def test_a_task_is_acknowledged_after_it_runs(self):
        self.assertIs(app.conf.task_acks_late, True)

    def test_a_task_whose_worker_is_killed_is_delivered_again(self):
        self.assertIs(app.conf.task_reject_on_worker_lost, True)

    def test_a_worker_process_reserves_one_message_at_a_time(self):
        self.assertEqual(app.conf.worker_prefetch_multiplier, 1)
