"""The OpenAPI document served at ``/api/schema`` and rendered at ``/api/docs``.

drf-spectacular builds it from the DRF views; this package adds what it cannot infer, without
touching the apps' view modules (``SPECTACULAR_SETTINGS["DEFAULT_GENERATOR_CLASS"]`` names
``generator.SchemaGenerator``, whose import registers everything here):

- ``security``: the security schemes (Bearer, ``x-api-key``, master Basic, session cookie with
  ``X-CSRF-Token``);
- ``shapes`` and ``views``: request and response bodies of the views that do not declare them;
- ``errors``: the ``{"detail", "code"}`` body and, per operation, the codes it can answer;
- ``documents``: the plain-Django public documents (JWKS, discovery) and health probes.

``tests/docs/test_openapi_schema.py`` checks the result against the URL conf, the contract and
the running server.
"""
