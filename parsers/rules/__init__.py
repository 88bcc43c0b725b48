"""Extraction rules as data, one module per concern; code elsewhere interprets these tables.

`core`: metadata labels, identity, prose headline rules, the national2014 table.
`gov`: the 2019 and 2021 unified tables. `forms`: charsets, HTML structure, attachment links.
"""
