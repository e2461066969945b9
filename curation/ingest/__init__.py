"""Files to stored examples: readers for every supported format, chat transcripts, and the ingest step."""
