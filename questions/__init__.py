"""The questions users ask of the archive: statuses, evidence, copies, findings, figures,
publishers, reports, export. Reads only: nothing here writes the record."""
