"""The framework's ceiling for the HTTP benchmarks: a Flask application with nothing in it,
served by the same gunicorn (``gunicorn.conf.py``) and driven by the same locust users as the
real app. Whatever the real app costs above it is the app's own work."""

from flask import Flask

app = Flask(__name__)

PAGE = "<!doctype html><title>Bare</title><p>Nothing here but Flask.</p>"


@app.get("/healthz")
def healthz():
    return {"status": "ok"}


@app.get("/bare")
def bare():
    return PAGE
