"""Reading and writing data: files and transaction logs in, column mappings, type coercion, the data-quality report."""
