"""Users' email addresses in their canonical form (authcore.emails): lookups compare it
exactly from now on. A row whose canonical form another row already holds is left as it was
(staff decide which account keeps the address); a row mail cannot reach is left too."""

from django.db import migrations
from django.db.models.functions import Lower


def canonicalize(apps, schema_editor):
    from authcore.emails import canonical_email

    User = apps.get_model("authcore", "User")
    users = User.objects.exclude(email="").order_by("date_joined", "pk")
    for pk, email in users.values_list("pk", "email").iterator():
        canonical = canonical_email(email)
        if canonical is None or canonical == email:
            continue
        taken = (
            User.objects.alias(email_lower=Lower("email"))
            .filter(email_lower=canonical)
            .exclude(pk=pk)
            .exists()
        )
        if taken:
            # The earlier account keeps the address; staff decide about this one.
            print(f"\n  authcore.0004: user {pk} keeps its email as typed (another user has it)")
        else:
            User.objects.filter(pk=pk).update(email=canonical)


class Migration(migrations.Migration):
    dependencies = [("authcore", "0003_user_username_ci_unique")]

    operations = [migrations.RunPython(canonicalize, migrations.RunPython.noop)]
