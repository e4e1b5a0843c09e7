"""Attempts at quizzes: loading them (``loading``), grading them (``grading``), and a
student's sitting: start, autosave, submit (``sitting``)."""
