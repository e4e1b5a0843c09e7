"""Pure rules of the enrollment domain: no Flask, no database, no clock (``today`` comes in).
One module per concern: ``cohorts`` (a cohort's settings, join codes, enrolling by email,
overrides), ``roster_file`` (reading a roster CSV), ``plan`` (study plans and exam dates) and
``risk`` (at-risk flags). A check returns every problem, each with the form field it belongs
to (``lms.errors.Problem``)."""
