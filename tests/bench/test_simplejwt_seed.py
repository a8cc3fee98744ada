"""The competitor's user is seeded with any secret token_urlsafe can make, and a failed seed
never prints it (the secret travels in the environment, not on the command line)."""

from __future__ import annotations

import os
import secrets

import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat

from bench.contenders.base import RunContext
from bench.contenders.simplejwt import SETTINGS, seed_user
from bench.databases import drop_database, recreate_database
from bench.servers import BenchError, run_django

pytestmark = pytest.mark.slow


@pytest.fixture
def empty_database(tmp_path):
    base_url = os.environ["DATABASE_URL"]  # the suite's PostgreSQL (make test starts it)
    context = RunContext(database_url=base_url, redis_url="", workdir=tmp_path)
    name = context.database_name("seedtest")
    key_file = tmp_path / "rs256.pem"  # the project's settings load its signing key
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    key_file.write_bytes(key.private_bytes(Encoding.PEM, PrivateFormat.PKCS8, NoEncryption()))
    env = {
        **context.base_env(),
        "DATABASE_URL": recreate_database(base_url, name),
        "BENCH_PRIVATE_KEY_FILE": str(key_file),
    }
    yield env
    drop_database(base_url, name)


def test_a_secret_that_starts_with_a_dash_is_seeded(empty_database):
    # One in 64 of token_urlsafe's secrets starts with "-", which argparse took for an option.
    secret = "-" + secrets.token_urlsafe(32)
    run_django(SETTINGS, ["migrate", "--noinput", "-v", "0"], empty_database)
    assert seed_user(empty_database, "bench-simplejwt", secret) > 0


def test_a_failed_seed_does_not_print_the_secret(empty_database):
    secret = secrets.token_urlsafe(32)
    with pytest.raises(BenchError) as failure:  # not migrated: there is no user table
        seed_user(empty_database, "bench-simplejwt", secret)
    assert "simplejwt_seed" in str(failure.value)
    assert secret not in str(failure.value)
