"""Deployments nobody here wrote, built the way their own documentation builds them: a Django
project under gunicorn, a Flask app with flask-talisman and Flask-Limiter, Debian's stock
nginx serving its default page. tests/test_foreign_stacks.py starts them on loopback and
asserts the verdicts a careful engineer would give."""
