"""HTTP: the JSON API, the public pages and the media files. Read-only without the admin token."""
