from django.db import models


class Course(models.Model):
    title = models.CharField(max_length=200)
    price = models.DecimalField(max_digits=8, decimal_places=2)


class Enrolment(models.Model):
    course = models.ForeignKey(Course, on_delete=models.PROTECT)
    student_email = models.EmailField()


class Invoice(models.Model):
    enrolment = models.OneToOneField(Enrolment, on_delete=models.PROTECT)
    amount = models.DecimalField(max_digits=8, decimal_places=2)
