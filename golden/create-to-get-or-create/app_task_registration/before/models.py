from django.db import models


class Subscriber(models.Model):
    email = models.EmailField(unique=True)


class Issue(models.Model):
    number = models.PositiveIntegerField(unique=True)
    subject = models.CharField(max_length=200)


class Delivery(models.Model):
    issue = models.ForeignKey(Issue, on_delete=models.CASCADE, related_name="deliveries")
    subscriber = models.ForeignKey(Subscriber, on_delete=models.CASCADE, related_name="deliveries")
    provider_message_id = models.CharField(max_length=100, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["issue", "subscriber"], name="delivery_issue_subscriber_uniq"),
        ]
