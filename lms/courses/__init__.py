"""Courses, modules, lessons, quizzes, questions and attempts."""
