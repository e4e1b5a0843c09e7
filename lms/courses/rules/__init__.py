"""Pure rules for quizzes: plain data in, results out (no Flask, no database, no clock: ``now``
and the random source are passed in). One module per concern: grading, drawing, timing,
questions (authoring checks), quizzes (settings and presets), items (item statistics)."""
