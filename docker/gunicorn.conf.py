"""gunicorn settings of the Docker image and the compose file (``gunicorn -c``).

The access log leaves out what may carry a secret: the query string (an email sign-in link's
``token``, an OIDC callback's ``code`` and ``state``: single-use, but valid until used), the
``Referer`` (a page opened from such a link sends its URL along) and the Basic-auth user
name. The app's own JSON log redacts those values (``authcore.logging``); gunicorn's access
log is written by gunicorn, outside it. Each line ends with the response's ``X-Request-ID``,
which joins it to the app's log lines of the same request.

Metrics are aggregated across workers by the app itself: nothing here for them.
"""

bind = "0.0.0.0:8000"
worker_class = "gthread"
workers = 2
threads = 4
accesslog = "-"
access_log_format = (
    '%(h)s %(t)s "%(m)s %(U)s %(H)s" %(s)s %(B)s %(M)sms "%(a)s" %({x-request-id}o)s'
)
