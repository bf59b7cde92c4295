"""The Django model index: fields, relations, uniqueness, inheritance."""


def test_fields_relations_and_every_kind_of_uniqueness(make_project):
    project = make_project({"shop/__init__.py": "", "shop/models.py": """
        from django.db import models
        from django.db.models import Q, UniqueConstraint

        class Account(models.Model):
            email = models.EmailField(unique=True)

        class Profile(models.Model):
            account = models.OneToOneField(Account, on_delete=models.CASCADE)

        class Payout(models.Model):
            account = models.ForeignKey("shop.Account", on_delete=models.CASCADE, related_name="payouts")
            period = models.CharField(max_length=7)
            status = models.CharField(max_length=10)

            class Meta:
                unique_together = ("account", "status")
                constraints = [
                    UniqueConstraint(fields=["account", "period"], name="uniq_period"),
                    models.UniqueConstraint(fields=["account"], condition=Q(status="OPEN"), name="one_open"),
                    models.CheckConstraint(check=Q(period__gt=""), name="period_set"),
                ]
    """}, load_everything=True)
    models = {m.name: m for m in project.all_models()}
    assert set(models) == {"Account", "Profile", "Payout"}
    assert models["Payout"].label == "shop.Payout"
    assert models["Payout"].fields["account"].kind == "ForeignKey"
    assert models["Payout"].fields["account"].related_name == "payouts"
    assert [(c.fields, c.conditional) for c in models["Payout"].constraints] == [
        (("account", "status"), False),
        (("account", "period"), False),
        (("account",), True),
    ]
    assert [c.fields for c in models["Account"].constraints] == [("email",)]
    assert [c.fields for c in models["Profile"].constraints] == [("account",)]  # OneToOne is unique


def test_fields_and_constraints_inherited_from_abstract_bases(make_project):
    project = make_project({"models.py": """
        from django.db import models

        class Stamped(models.Model):
            external_id = models.CharField(max_length=40, unique=True)
            created = models.DateTimeField(auto_now_add=True)

            class Meta:
                abstract = True

        class Order(Stamped):
            total = models.IntegerField()

        class NotAModel:
            name = "x"
    """}, load_everything=True)
    models = {m.name: m for m in project.all_models()}
    assert set(models) == {"Stamped", "Order"}
    assert set(models["Order"].fields) == {"external_id", "created", "total"}
    assert [c.fields for c in models["Order"].constraints] == [("external_id",)]


def test_related_managers_by_related_name_and_default_set_name(make_project):
    project = make_project({"models.py": """
        from django.db import models

        class Order(models.Model):
            pass

        class Line(models.Model):
            order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="lines")

        class Note(models.Model):
            order = models.ForeignKey(Order, on_delete=models.CASCADE)
    """}, load_everything=True)
    assert [(m.name, f) for m, f in project.related_manager("lines")] == [("Line", "order")]
    assert [(m.name, f) for m, f in project.related_manager("note_set")] == [("Note", "order")]
    assert project.related_manager("missing") == []
