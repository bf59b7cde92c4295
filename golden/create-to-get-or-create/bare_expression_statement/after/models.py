from django.db import models


class Course(models.Model):
    slug = models.SlugField(unique=True)


class Student(models.Model):
    email = models.EmailField(unique=True)


class Enrollment(models.Model):
    course = models.ForeignKey(Course, on_delete=models.CASCADE, related_name="enrollments")
    student = models.ForeignKey(Student, on_delete=models.CASCADE, related_name="enrollments")
    source = models.CharField(max_length=20)
    enrolled_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["course", "student"], name="enrollment_course_student_uniq"),
        ]
