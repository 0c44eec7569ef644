"""The transport step: HTTP to the router (bounded in time and size, key redacted) and multipart forms."""
