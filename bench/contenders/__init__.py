"""The three contenders: the framework floor, simplejwt, Authcore. Each sets itself up
(database, seed data, gunicorn) and hands back the scenarios it can be measured on."""
