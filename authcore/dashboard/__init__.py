"""The security dashboard of the admin (``/admin/authcore/auditevent/dashboard/``).

``events`` reads the audit trail into per-bucket series, ``chart`` draws them as SVG on the
server (no script, no CDN), ``key_timeline`` says what each signing key does next, ``views``
puts it on one page.
"""
