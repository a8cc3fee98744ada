"""The competitor: what a Django team would build with djangorestframework-simplejwt.

RS256, the token_blacklist app, and a per-request blacklist query on the access token's
``jti`` (simplejwt's own ``BlacklistMixin``, applied to access tokens).
"""
