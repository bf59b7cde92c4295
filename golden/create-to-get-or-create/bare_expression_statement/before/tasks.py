from celery import shared_task
from django.utils import timezone

from .models import Course, Enrollment, Student


@shared_task
def enroll_student(course_slug, student_id):
    course = Course.objects.get(slug=course_slug)
    student = Student.objects.get(pk=student_id)
    Enrollment.objects.create(course=course, student=student, source="checkout", enrolled_at=timezone.now())
