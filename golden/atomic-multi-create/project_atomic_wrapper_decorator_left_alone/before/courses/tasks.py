from celery import shared_task

from .db import traced_atomic
from .models import Course, Enrolment, Invoice


@traced_atomic
def enrol(course, student_email):
    enrolment = Enrolment.objects.create(course=course, student_email=student_email)
    Invoice.objects.create(enrolment=enrolment, amount=course.price)
    return enrolment


@shared_task
@traced_atomic
def enrol_free(course_id, student_email):
    enrolment = Enrolment.objects.create(course_id=course_id, student_email=student_email)
    Invoice.objects.create(enrolment=enrolment, amount=0)


@shared_task
def enrol_student(course_id, student_email):
    return enrol(Course.objects.get(pk=course_id), student_email).pk
