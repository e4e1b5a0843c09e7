"""The code sets coders are tested on: the real ICD-10-CM tabular list (from the
``simple-icd-10-cm`` package) and form checks for CPT, HCPCS Level II and ICD-10-PCS.

No Flask and no database: plain functions a view, a command or a grader can call."""

MAX_CODES = 50  # the most codes one check takes
