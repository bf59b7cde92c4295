from celery import shared_task

from .db import traced_atomic
from .models import Course, Enrolment, Invoice


@shared_task
def enrol_student(course_id, student_email):
    course = Course.objects.get(pk=course_id)
    with traced_atomic("enrol"):
        enrolment = Enrolment.objects.create(course=course, student_email=student_email)
        Invoice.objects.create(enrolment=enrolment, amount=course.price)
