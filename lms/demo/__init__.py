"""Demo data: the courses, credentials, cohorts and accounts ``make run`` starts with."""
