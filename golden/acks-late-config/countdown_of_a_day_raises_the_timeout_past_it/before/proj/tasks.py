from celery import shared_task


@shared_task
def send_renewal_reminder(subscription_id):
    return subscription_id


@shared_task
def schedule_reminders(subscription_id):
    send_renewal_reminder.apply_async((subscription_id,), countdown=24 * 60 * 60)
