"""Cohorts, enrolments and the instructor's view of a cohort."""
