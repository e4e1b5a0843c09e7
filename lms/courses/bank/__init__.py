"""Question banks: questions with versions (``questions``), import and export (``transfer``),
quiz settings and practice-exam modules (``quizzes``), item analysis (``analysis``).

Banks and quizzes belong to the school, not to a cohort: every instructor and admin reads
them (item analysis, exports); only content authors (admins, and instructors an admin named
authors) change them, and every change is audited. Students never see a bank."""

BANK_STAFF_ONLY = "Only instructors and admins manage question banks."
#: What a content author alone may do, for ``catalogue.require_author``.
EDIT_BANKS = "write questions, import banks and change quizzes"
