"""The admin API: pydantic schemas, one module per resource, errors and authentication."""
