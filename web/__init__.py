"""The read-only web view of the archive (issue 17): the board, reports, captures, runs."""
