"""Simulated students for the HTTP load benchmark (``bench/load_bench.py`` runs it).

Each ``Student`` is one synthetic student with their own account: they log in, open their
dashboard, read a lesson (the page's script sends a heartbeat), start its quiz, answer the
questions with an autosave on the way, submit, read the result, and go back to the
dashboard, with a few seconds of think time between steps. ``Bare`` asks the bare Flask
endpoint at the same pace, for the framework's ceiling.

    LOAD_ACCOUNTS=accounts.txt LOAD_PASSWORD=... locust -f bench/load/locustfile.py \
        --headless -u 500 -r 10 -t 2m --host http://127.0.0.1:8000 Student
"""

from __future__ import annotations

import itertools
import json
import os
import random
import re
import time
from http.cookiejar import DefaultCookiePolicy
from pathlib import Path

from locust import between, constant, events, task
from locust.contrib.fasthttp import FastHttpUser

CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"|data-csrf-token="([^"]+)"')
MODULE_LINK = re.compile(r'href="/modules/(\d+)"')
ATTEMPT_URL = re.compile(r"/attempts/(\d+)")
CHOICE = re.compile(r'name="q-(\d+)" value="(\d+)"')

_accounts_file = os.environ.get("LOAD_ACCOUNTS")
ACCOUNTS = Path(_accounts_file).read_text().split() if _accounts_file else []
PASSWORD = os.environ.get("LOAD_PASSWORD", "synthetic-password")
_next_account = itertools.count()
_codes_file = os.environ.get("VERIFY_CODES")
CODES = Path(_codes_file).read_text().split() if _codes_file else []
# Every request, kept for load_bench.py to cut into phases (ramp, settling, steady state):
# (start, name, milliseconds, failed), plus when the last user was spawned; written to
# LOAD_LOG when locust quits.
LOG: dict = {"requests": [], "spawned_at": None}


@events.request.add_listener
def _keep(name: str, response_time: float, exception, start_time: float = 0.0, **_kw) -> None:
    LOG["requests"].append((round(start_time, 3), name, round(response_time, 2), bool(exception)))


@events.spawning_complete.add_listener
def _spawned(**_kw) -> None:
    LOG["spawned_at"] = LOG["spawned_at"] or time.time()


@events.quitting.add_listener
def _write_log(**_kw) -> None:
    if os.environ.get("LOAD_LOG"):
        Path(os.environ["LOAD_LOG"]).write_text(json.dumps(LOG))


# Send the app's Secure cookies over plain HTTP: the benchmark talks to gunicorn on loopback,
# where production has a TLS proxy in front.
LOOPBACK_COOKIES = DefaultCookiePolicy(secure_protocols=("https", "wss", "http"))


def _token(html: str) -> str | None:
    found = CSRF.search(html)
    return (found.group(1) or found.group(2)) if found else None


class Student(FastHttpUser):
    """One student working through their modules, a few seconds between steps."""

    wait_time = between(2, 6)

    def on_start(self) -> None:
        self.client.cookiejar.set_policy(LOOPBACK_COOKIES)
        self.email = ACCOUNTS[next(_next_account) % len(ACCOUNTS)]
        self.rng = random.Random(self.email)
        self.modules: list[str] = []
        self.csrf: str | None = None
        page = self.client.get("/login", name="login page")
        self.csrf = _token(page.text or "")
        with self.client.post(
            "/login",
            data={"email": self.email, "password": PASSWORD, "csrf_token": self.csrf or ""},
            name="log in",
            catch_response=True,
        ) as response:
            if response.status_code != 200 or 'name="password"' in (response.text or ""):
                response.failure(f"not logged in ({response.status_code})")
                return
        self._read(response.text)

    def _read(self, html: str | None) -> None:
        html = html or ""
        self.csrf = _token(html) or self.csrf
        links = MODULE_LINK.findall(html)
        if links:
            self.modules = list(dict.fromkeys(links))

    @task
    def study(self) -> None:
        dashboard = self.client.get("/dashboard", name="dashboard")
        self._read(dashboard.text)
        if not self.modules:
            return
        module = self.rng.choice(self.modules)
        self.wait()
        lesson = self.client.get(f"/modules/{module}", name="lesson")
        self._read_token(lesson.text)
        self.wait()
        self.client.post(
            f"/modules/{module}/heartbeat",
            data={"csrf_token": self.csrf or ""},
            headers={"Accept": "application/json"},
            name="heartbeat",
        )
        text = lesson.text or ""
        if f'action="/modules/{module}/attempts"' not in text and "Resume your attempt" not in text:
            return  # no quiz to take here (a lesson only, or every attempt used)
        self.wait()
        self._take_quiz(module)

    def _read_token(self, html: str | None) -> None:
        self.csrf = _token(html or "") or self.csrf

    def _take_quiz(self, module: str) -> None:
        with self.client.post(
            f"/modules/{module}/attempts",
            data={"csrf_token": self.csrf or ""},
            name="start quiz",
            allow_redirects=False,
            catch_response=True,
        ) as started:
            if started.status_code in (403, 409):
                started.success()  # locked or used up: the app said so, correctly
                self.modules.remove(module)
                return
            attempt = ATTEMPT_URL.search(started.headers.get("Location") or "")
            if started.status_code != 302 or attempt is None:
                started.failure(f"no attempt opened ({started.status_code})")
                return
        player = self.client.get(f"/attempts/{attempt.group(1)}", name="quiz player")
        self._read_token(player.text)
        questions: dict[str, list[str]] = {}
        for question, choice in CHOICE.findall(player.text or ""):
            questions.setdefault(question, []).append(choice)
        answers = {f"q-{q}": self.rng.choice(choices) for q, choices in questions.items()}
        half = dict(list(answers.items())[: len(answers) // 2])
        self.wait()
        self.client.post(
            f"/attempts/{attempt.group(1)}/answers",
            data={**half, "csrf_token": self.csrf or ""},
            headers={"Accept": "application/json"},
            name="autosave",
        )
        self.wait()
        result = self.client.post(
            f"/attempts/{attempt.group(1)}/submit",
            data={**answers, "csrf_token": self.csrf or ""},
            name="submit",
        )
        self._read_token(result.text)


class Bare(FastHttpUser):
    """The same pace on the bare Flask endpoint."""

    wait_time = between(2, 6)

    @task
    def bare(self) -> None:
        self.client.get("/bare", name="bare")


# --- as fast as they can: the verification benchmark (bench/verify_bench.py) --------------


class Verifier(FastHttpUser):
    """An employer's script checking certificates: the page and its JSON, back to back."""

    wait_time = constant(0)

    @task(3)
    def page(self) -> None:
        self.client.get(f"/verify/{random.choice(CODES)}", name="verify page")

    @task(1)
    def json(self) -> None:
        self.client.get(f"/verify/{random.choice(CODES)}.json", name="verify json")


class PdfFetcher(FastHttpUser):
    """Certificates downloaded as PDFs, back to back."""

    wait_time = constant(0)

    @task
    def pdf(self) -> None:
        self.client.get(f"/verify/{random.choice(CODES)}/certificate.pdf", name="certificate pdf")


class BareFetcher(FastHttpUser):
    """The bare endpoint, back to back: the ceiling for the two above."""

    wait_time = constant(0)

    @task
    def bare(self) -> None:
        self.client.get("/bare", name="bare")
