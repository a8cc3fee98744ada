"""OpenID Connect relying-party code of the sessions app (docs/adr/0001-oidc-client-library.md).

``providers``: configured providers; ``discovery``: cached discovery documents; ``jwks``: cached
provider key sets; ``jwt_verification``: ID-token and bearer-JWT checks; ``provisioning``: JIT
users by (issuer, subject); ``flow``: the authorization-code flow with PKCE.
"""
