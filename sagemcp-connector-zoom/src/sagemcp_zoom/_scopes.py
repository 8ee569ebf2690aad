"""Zoom's granular OAuth scopes, one name per use (`@tool(scopes=...)` is the one place tools declare them).

These are the user-level scopes of a General (OAuth) app, from Zoom's "Granular scopes"
reference (https://developers.zoom.us/docs/integrations/oauth-scopes-granular/). A
Server-to-Server OAuth app has the same scopes with `:admin` appended (`meeting:read:meeting:admin`),
chosen in the app's settings rather than requested.
"""

from __future__ import annotations

__all__ = [
    "MEETING_READ",
    "PAST_MEETING_READ",
    "RECORDING_FILES_READ",
    "TRANSCRIPT_READ",
    "USER_READ",
]

MEETING_READ = "meeting:read:meeting"
PAST_MEETING_READ = "meeting:read:past_meeting"
RECORDING_FILES_READ = "cloud_recording:read:list_recording_files"
"""A meeting's recording files: read by the recordings tool and by the transcript tool, which finds its file."""
TRANSCRIPT_READ = "cloud_recording:read:meeting_transcript"
USER_READ = "user:read:user"
