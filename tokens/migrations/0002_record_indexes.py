"""Token records: no foreign-key constraint on the signing key, no LIKE index twins.

Every INSERT of a token record paid for eight indexes and two foreign-key checks. PostgreSQL
checks a foreign key by locking the referenced row (``FOR KEY SHARE``, a written lock, a
MultiXact when several transactions hold it), so every token issued at the same time locked
the one current signing key's row. ``varchar_pattern_ops`` twins serve LIKE queries, which
nothing makes on these columns. See docs/adr/0002-token-record-indexes.md.
"""

import django.db.models.deletion
from django.db import migrations, models

# The twin Django's PostgreSQL schema editor made for the varchar primary key in 0001.
JTI_LIKE_INDEX = "tokens_tokenrecord_jti_1aeb0a56_like"


def drop_jti_like_index(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f"DROP INDEX IF EXISTS {JTI_LIKE_INDEX}")


def restore_jti_like_index(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(
            f"CREATE INDEX IF NOT EXISTS {JTI_LIKE_INDEX} "
            "ON tokens_tokenrecord (jti varchar_pattern_ops)"
        )


class Migration(migrations.Migration):
    dependencies = [
        ("tokens", "0001_initial"),
    ]

    operations = [
        migrations.AlterField(
            model_name="tokenrecord",
            name="client_id",
            field=models.CharField(blank=True, default="", max_length=64),
        ),
        migrations.AlterField(
            model_name="tokenrecord",
            name="signing_key",
            field=models.ForeignKey(
                db_constraint=False,
                db_index=False,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="token_records",
                to="tokens.signingkey",
                to_field="kid",
            ),
        ),
        migrations.AddIndex(
            model_name="tokenrecord",
            index=models.Index(fields=["client_id"], name="tokens_record_client"),
        ),
        migrations.AddIndex(
            model_name="tokenrecord",
            index=models.Index(fields=["signing_key"], name="tokens_record_signing_key"),
        ),
        migrations.RunPython(drop_jti_like_index, restore_jti_like_index, elidable=True),
    ]
