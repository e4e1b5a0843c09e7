"""Read models built on cohorts, one module a page: the study plan (``plan``), the matrix with
its at-risk flags (``matrix``), progress over time (``chart``), the student's dashboard
(``dashboard``) and one student's record (``record``). Each loads its facts in a fixed number
of queries, whatever the number of students."""
