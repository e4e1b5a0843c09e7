"""The WSGI entry point: ``gunicorn wsgi:app``."""

from lms import create_app

app = create_app()
