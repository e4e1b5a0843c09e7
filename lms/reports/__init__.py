"""The roof: exports, transcripts and the certificate register, read across every domain."""
