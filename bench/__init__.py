"""`make bench`: Authcore against the framework floor and against simplejwt (issue 11).

Run as ``python -m bench``; see docs/benchmarks.md for what is measured and how to read it.
"""
