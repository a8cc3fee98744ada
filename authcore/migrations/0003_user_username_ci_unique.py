"""Usernames unique whatever their case, in the database (not only in application code).

Before this constraint, two concurrent sign-ups of "Carol" and "carol" could both succeed.
Such pairs are renamed first, or the index could not be built: the earliest account keeps its
username and each later one gets ``<username>-<8 hex digits>``, as the email sign-up already
does on a clash. The renamed user ids are printed (a username is no secret, but ids suffice).
"""

import secrets

from django.db import migrations, models
from django.db.models import Count, Value
from django.db.models.functions import Lower


def _rename_case_duplicates(apps, schema_editor):
    User = apps.get_model("authcore", "User")
    folded_users = User.objects.annotate(folded=Lower("username"))
    clashing = (
        folded_users.values("folded")
        .annotate(count=Count("id"))
        .filter(count__gt=1)
        .values_list("folded", flat=True)
    )
    renamed = []
    for folded in list(clashing):
        later = folded_users.filter(folded=folded).order_by("date_joined", "id")[1:]
        for user in later:
            while True:
                candidate = f"{user.username[:141]}-{secrets.token_hex(4)}"
                if not folded_users.filter(folded=Lower(Value(candidate))).exists():
                    break
            User.objects.filter(pk=user.pk).update(username=candidate)
            renamed.append(str(user.pk))
    if renamed:
        print(f"\n  Renamed {len(renamed)} user(s) whose username differed only by case:")
        print("  " + ", ".join(renamed))


class Migration(migrations.Migration):
    dependencies = [
        ("auth", "0012_alter_user_first_name_max_length"),
        ("authcore", "0002_audit_event"),
    ]

    operations = [
        migrations.RunPython(_rename_case_duplicates, migrations.RunPython.noop),
        migrations.AddConstraint(
            model_name="user",
            constraint=models.UniqueConstraint(
                Lower("username"),
                name="user_username_ci_unique",
                violation_error_message="A user with that username already exists.",
            ),
        ),
    ]
