"""One gate per boundary: every value that crosses from outside into a header, a setting, the
terminal, a spreadsheet or the web server passes exactly one function here (issue 12).

- `headers`: header values and addresses (controls refused before and after RFC 2047 decoding).
- `values`: settings (whole numbers in a range, URLs and mailto addresses that carry only
  what they are for).
- `cells`: CSV exports (cells a spreadsheet would read as a formula are neutralised).
- `text`: data quoted in messages and printed to the terminal (short, no control characters).
- `address`: email addresses and display names (syntax, no control characters, length).

May import: `errors` only. Everything else may import the gates.
"""
