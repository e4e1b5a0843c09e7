"""Question banks: questions with versions (``questions``), import and export (``transfer``),
quiz settings and practice-exam modules (``quizzes``), item analysis (``analysis``).

Banks and quizzes belong to the school, not to a cohort: every instructor and admin may
manage them (students never)."""

BANK_STAFF_ONLY = "Only instructors and admins manage question banks."
