"""DiscoveryValidator: requests checked against Google Discovery documents, uploads included."""

from __future__ import annotations

import gzip
import json
from pathlib import Path
from typing import Any

import httpx
import pytest

from sagemcp.testing import ContractViolation, DiscoveryMethod, DiscoveryValidator
from sagemcp.testing.discovery import CHUNK_GRANULARITY

AUTH = {"Authorization": "Bearer test-token"}
SCOPE = "https://www.googleapis.com/auth/drive"

FILES: dict[str, Any] = {
    "kind": "discovery#restDescription",
    "discoveryVersion": "v1",
    "name": "files",
    "version": "v1",
    "rootUrl": "https://files.googleapis.com/",
    "servicePath": "files/v1/",
    "parameters": {
        "fields": {"type": "string", "location": "query"},
        "prettyPrint": {"type": "boolean", "location": "query"},
        "uploadType": {"type": "string", "location": "query"},
    },
    "resources": {
        "files": {
            "methods": {
                "list": {
                    "id": "files.files.list",
                    "path": "files",
                    "httpMethod": "GET",
                    "parameters": {
                        "pageSize": {"type": "integer", "location": "query", "minimum": "1", "maximum": "100"},
                        "q": {"type": "string", "location": "query"},
                        "orderBy": {"type": "string", "location": "query", "enum": ["name", "modifiedTime"]},
                        "spaces": {"type": "string", "location": "query", "repeated": True},
                    },
                    "scopes": [SCOPE],
                },
                "get": {
                    "id": "files.files.get",
                    "path": "files/{fileId}",
                    "httpMethod": "GET",
                    "parameters": {
                        "fileId": {
                            "type": "string",
                            "location": "path",
                            "required": True,
                            "pattern": "^[A-Za-z0-9_-]+$",
                        }
                    },
                    "scopes": [SCOPE],
                },
                "export": {
                    "id": "files.files.export",
                    "path": "files/{fileId}/export",
                    "httpMethod": "GET",
                    "parameters": {
                        "fileId": {"type": "string", "location": "path", "required": True},
                        "mimeType": {"type": "string", "location": "query", "required": True},
                    },
                    "scopes": [SCOPE],
                },
                "create": {
                    "id": "files.files.create",
                    "path": "files",
                    "httpMethod": "POST",
                    "request": {"$ref": "File"},
                    "response": {"$ref": "File"},
                    "supportsMediaUpload": True,
                    "mediaUpload": {
                        "accept": ["text/*", "image/png"],
                        "maxSize": "8388608",
                        "protocols": {
                            "simple": {"multipart": True, "path": "/upload/files/v1/files"},
                            "resumable": {"multipart": True, "path": "/resumable/upload/files/v1/files"},
                        },
                    },
                    "scopes": [SCOPE],
                },
            }
        },
        "documents": {
            "methods": {
                "batchUpdate": {
                    "id": "files.documents.batchUpdate",
                    "path": "v1/documents/{documentId}:batchUpdate",
                    "flatPath": "v1/documents/{documentId}:batchUpdate",
                    "httpMethod": "POST",
                    "parameters": {"documentId": {"type": "string", "location": "path", "required": True}},
                    "request": {"$ref": "Batch"},
                    "scopes": [SCOPE],
                }
            }
        },
    },
    "schemas": {
        "File": {
            "id": "File",
            "type": "object",
            "properties": {
                "name": {"type": "string"},
                "size": {"type": "string", "format": "int64"},
                "parents": {"type": "array", "items": {"type": "string"}},
                "appProperties": {"type": "object", "additionalProperties": {"type": "string"}},
                "kind": {"type": "string", "enum": ["file", "folder"]},
            },
        },
        "Batch": {
            "id": "Batch",
            "type": "object",
            "properties": {"requests": {"type": "array", "items": {"$ref": "Request"}}},
        },
        "Request": {
            "id": "Request",
            "type": "object",
            "properties": {"insertText": {"type": "object", "properties": {"text": {"type": "string"}}}},
        },
    },
}
UPLOAD = "https://files.googleapis.com/upload/files/v1/files"
SESSION = f"{UPLOAD}?uploadType=resumable&upload_id=xa298sd_sdlkj2"


@pytest.fixture
def files() -> DiscoveryValidator:
    return DiscoveryValidator([FILES])


def request(method: str, url: str, **kwargs: Any) -> httpx.Request:
    headers = {**AUTH, **kwargs.pop("headers", {})}
    return httpx.Request(method, url, headers=headers, **kwargs)


def violation(validator: DiscoveryValidator, sent: httpx.Request) -> str:
    with pytest.raises(ContractViolation) as failure:
        validator.validate_request(sent)
    return str(failure.value)


def multipart(metadata: dict[str, Any], media: bytes, media_type: str) -> tuple[bytes, str]:
    boundary = "b0undary"
    body = (
        (
            f"--{boundary}\r\nContent-Type: application/json; charset=UTF-8\r\n\r\n{json.dumps(metadata)}\r\n"
            f"--{boundary}\r\nContent-Type: {media_type}\r\n\r\n"
        ).encode()
        + media
        + f"\r\n--{boundary}--\r\n".encode()
    )
    return body, f"multipart/related; boundary={boundary}"


def test_a_request_is_matched_to_its_method(files: DiscoveryValidator) -> None:
    found = files.validate_request(request("GET", "https://files.googleapis.com/files/v1/files/abc_1?fields=id"))
    assert isinstance(found, DiscoveryMethod)
    assert (found.id, found.api, found.http_method) == ("files.files.get", "files", "GET")
    assert found.template == "files/v1/files/{fileId}" and found.path_params == {"fileId": "abc_1"}
    assert found.scopes == (SCOPE,) and found.upload is None and not found.session
    batch = files.validate_request(
        request(
            "POST",
            "https://files.googleapis.com/files/v1/v1/documents/d%201:batchUpdate",
            json={"requests": [{"insertText": {"text": "x"}}]},
        )
    )
    assert batch.id == "files.documents.batchUpdate" and batch.path_params == {"documentId": "d 1"}
    assert files.method_ids == {
        "files.files.list",
        "files.files.get",
        "files.files.export",
        "files.files.create",
        "files.documents.batchUpdate",
    }
    assert len(files) == 5 and "files" in repr(files)


@pytest.mark.parametrize(
    ("method", "url"),
    [
        ("GET", "https://files.googleapis.com/files/v1/nothing"),
        ("DELETE", "https://files.googleapis.com/files/v1/files/abc"),
        ("GET", "https://files.googleapis.com/files/v2/files"),
        ("GET", "https://evil.example.com/files/v1/files"),
        ("GET", "http://files.googleapis.com/files/v1/files"),
    ],
)
def test_an_undescribed_request_matches_nothing(files: DiscoveryValidator, method: str, url: str) -> None:
    assert files.find_method(method, url) is None
    assert "no method of the Google discovery documents matches" in violation(files, request(method, url))


def test_query_parameters_are_checked_against_their_declaration(files: DiscoveryValidator) -> None:
    ok = files.validate_request(
        request("GET", "https://files.googleapis.com/files/v1/files?pageSize=10&spaces=a&spaces=b&prettyPrint=false")
    )
    assert ok.id == "files.files.list"
    message = violation(
        files,
        request(
            "GET",
            "https://files.googleapis.com/files/v1/files?pageSize=ten&q=a&q=b&orderBy=size&colour=red&prettyPrint=no",
        ),
    )
    assert "query parameter 'pageSize' must be an integer, got 'ten'" in message
    assert "query parameter 'q' is not repeated but was given 2 times" in message
    assert "query parameter 'orderBy' must be one of ['name', 'modifiedTime'], got 'size'" in message
    assert "unknown query parameter 'colour'; files.files.list takes:" in message
    assert "query parameter 'prettyPrint' must be true or false" in message
    bounds = violation(files, request("GET", "https://files.googleapis.com/files/v1/files?pageSize=500"))
    assert "above its maximum 100" in bounds
    assert "missing required query parameter 'mimeType'" in violation(
        files, request("GET", "https://files.googleapis.com/files/v1/files/abc/export")
    )
    assert "does not match '^[A-Za-z0-9_-]+$'" in violation(
        files, request("GET", "https://files.googleapis.com/files/v1/files/a.b")
    )


def test_the_credential_header_is_required(files: DiscoveryValidator) -> None:
    bare = httpx.Request("GET", "https://files.googleapis.com/files/v1/files")
    assert "no `Authorization: Bearer <token>` header" in violation(files, bare)


def test_a_json_body_is_checked_with_unknown_fields_refused(files: DiscoveryValidator) -> None:
    url = "https://files.googleapis.com/files/v1/v1/documents/d1:batchUpdate"
    message = violation(files, request("POST", url, json={"requests": [{"insertText": {"text": 1, "colour": "red"}}]}))
    assert "body /requests/0/insertText: Additional properties are not allowed ('colour' was unexpected)" in message
    assert "body /requests/0/insertText/text: 1 is not of type 'string'" in message
    assert "takes no request body" in violation(
        files, request("GET", "https://files.googleapis.com/files/v1/files", content=b"{}")
    )
    created = files.validate_request(
        request(
            "POST",
            "https://files.googleapis.com/files/v1/files",
            json={"name": "a", "size": 12, "appProperties": {"k": "v"}, "kind": "file"},
        )
    )
    assert created.id == "files.files.create"
    assert "'box' is not one of ['file', 'folder']" in violation(
        files, request("POST", "https://files.googleapis.com/files/v1/files", json={"kind": "box"})
    )
    assert "the body must be application/json, not text/plain" in violation(
        files,
        request(
            "POST",
            "https://files.googleapis.com/files/v1/files",
            content=b'{"name": "a"}',
            headers={"Content-Type": "text/plain"},
        ),
    )


def test_a_multipart_upload_has_metadata_then_accepted_media(files: DiscoveryValidator) -> None:
    body, content_type = multipart({"name": "a.txt", "parents": ["p1"]}, b"hello", "text/plain")
    found = files.validate_request(
        request("POST", f"{UPLOAD}?uploadType=multipart", content=body, headers={"Content-Type": content_type})
    )
    assert found.id == "files.files.create" and found.upload == "multipart" and not found.session
    bad, content_type = multipart({"name": "a", "colour": "red"}, b"%PDF", "application/pdf")
    message = violation(
        files, request("POST", f"{UPLOAD}?uploadType=multipart", content=bad, headers={"Content-Type": content_type})
    )
    assert "the media type application/pdf is not accepted (text/*, image/png)" in message
    assert "'colour' was unexpected" in message
    assert "must be multipart/related, not application/json" in violation(
        files, request("POST", f"{UPLOAD}?uploadType=multipart", json={"name": "a"})
    )
    assert "needs uploadType=multipart, media or resumable, not None" in violation(
        files, request("POST", UPLOAD, content=body, headers={"Content-Type": content_type})
    )


def test_a_media_upload_is_the_media_alone(files: DiscoveryValidator) -> None:
    found = files.validate_request(
        request("POST", f"{UPLOAD}?uploadType=media", content=b"\x89PNG", headers={"Content-Type": "image/png"})
    )
    assert found.upload == "media"
    assert "the media type application/zip is not accepted" in violation(
        files, request("POST", f"{UPLOAD}?uploadType=media", content=b"PK", headers={"Content-Type": "application/zip"})
    )


def test_a_resumable_upload_session_is_opened_with_metadata_and_the_media_size(files: DiscoveryValidator) -> None:
    opened = files.validate_request(
        request(
            "POST",
            f"{UPLOAD}?uploadType=resumable&fields=id",
            json={"name": "big.txt"},
            headers={"X-Upload-Content-Type": "text/plain", "X-Upload-Content-Length": "6000000"},
        )
    )
    assert opened.id == "files.files.create" and opened.upload == "resumable" and not opened.session
    legacy = files.validate_request(
        request("POST", "https://files.googleapis.com/resumable/upload/files/v1/files?uploadType=resumable")
    )
    assert legacy.upload == "resumable" and legacy.template == "resumable/upload/files/v1/files"
    message = violation(
        files,
        request(
            "POST",
            f"{UPLOAD}?uploadType=resumable",
            content=b"name=a",
            headers={
                "Content-Type": "application/x-www-form-urlencoded",
                "X-Upload-Content-Type": "video/mp4",
                "X-Upload-Content-Length": "9000000",
            },
        ),
    )
    assert "X-Upload-Content-Type video/mp4 is not accepted" in message
    assert "X-Upload-Content-Length 9000000 is over the method's maxSize 8388608" in message
    assert "carries JSON metadata, not application/x-www-form-urlencoded" in message
    assert "takes uploadType=resumable only" in violation(
        files, request("POST", "https://files.googleapis.com/resumable/upload/files/v1/files?uploadType=media")
    )


def test_chunks_of_a_resumable_session_follow_the_protocol(files: DiscoveryValidator) -> None:
    total = 2 * CHUNK_GRANULARITY + 10
    first = files.validate_request(
        request(
            "PUT",
            SESSION,
            content=b"x" * CHUNK_GRANULARITY,
            headers={"Content-Range": f"bytes 0-{CHUNK_GRANULARITY - 1}/{total}"},
        )
    )
    assert first.id == "files.files.create" and first.session and first.upload == "resumable"
    assert first.http_method == "POST" and first.content_range == (0, CHUNK_GRANULARITY - 1, total)
    last = files.validate_request(
        request(
            "PUT",
            SESSION,
            content=b"x" * (CHUNK_GRANULARITY + 10),
            headers={"Content-Range": f"bytes {CHUNK_GRANULARITY}-{total - 1}/{total}"},
        )
    )
    assert last.content_range == (CHUNK_GRANULARITY, total - 1, total)
    status = files.validate_request(request("PUT", SESSION, headers={"Content-Range": f"bytes */{total}"}))
    assert status.session and status.content_range == (None, None, total)
    streaming = files.validate_request(
        request("PUT", SESSION, content=b"x" * CHUNK_GRANULARITY, headers={"Content-Range": "bytes 0-262143/*"})
    )
    assert streaming.content_range == (0, CHUNK_GRANULARITY - 1, None)


@pytest.mark.parametrize(
    ("method", "content", "content_range", "expected"),
    [
        ("PUT", b"x" * 1000, "bytes 0-999/5000000", "must be a multiple of 262144 bytes (256 KiB), not 1000"),
        ("PUT", b"x" * 10, "bytes 0-99/100", "names 100 bytes, but 10 were sent"),
        ("PUT", b"x" * 10, "bytes 95-104/100", "goes past the total of 100 bytes"),
        ("PUT", b"x" * 10, None, "needs Content-Range"),
        ("PUT", b"x" * 10, "items 0-9/10", "is not bytes FIRST-LAST/TOTAL"),
        ("PUT", b"x", "bytes */100", "a status question (bytes */TOTAL) has no body"),
        ("PUT", b"", "bytes */*", "a status question names the total size"),
        ("PUT", b"x" * 10, "bytes 0-9/9999999999", "over the method's maxSize 8388608"),
        ("POST", b"x" * 10, "bytes 0-9/10", "requests to a resumable session are PUT, not POST"),
    ],
)
def test_a_chunk_that_breaks_the_protocol_fails(
    files: DiscoveryValidator, method: str, content: bytes, content_range: str | None, expected: str
) -> None:
    headers = {"Content-Range": content_range} if content_range else {}
    assert expected in violation(files, request(method, SESSION, content=content, headers=headers))


def test_a_session_request_takes_no_undeclared_parameter(files: DiscoveryValidator) -> None:
    url = f"{UPLOAD}?uploadType=media&upload_id=abc&colour=red"
    message = violation(files, request("PUT", url, content=b"x", headers={"Content-Range": "bytes 0-0/1"}))
    assert "uploadType=resumable" in message and "unknown query parameter 'colour'" in message


def test_schema_validator_checks_response_fixtures(files: DiscoveryValidator) -> None:
    validator = files.schema_validator("files", "File")
    assert not list(validator.iter_errors({"name": "a", "parents": ["p"]}))
    assert [e.message for e in validator.iter_errors({"owner": "x"})] == [
        "Additional properties are not allowed ('owner' was unexpected)"
    ]
    with pytest.raises(KeyError, match="no schema 'Nope'"):
        files.schema_validator("files", "Nope")
    with pytest.raises(KeyError, match="no discovery document for the API 'mail'"):
        files.schema_validator("mail", "File")


def test_only_discovery_documents_are_read() -> None:
    with pytest.raises(ValueError, match="not a Google Discovery document"):
        DiscoveryValidator([{"openapi": "3.0.3", "paths": {}}])
    with pytest.raises(ValueError, match="two documents describe the API 'files'"):
        DiscoveryValidator([FILES, FILES])


def test_from_files_reads_gzip_under_the_json_name_and_caches(tmp_path: Path) -> None:
    (tmp_path / "files.v1.json.gz").write_bytes(gzip.compress(json.dumps(FILES).encode()))
    first = DiscoveryValidator.from_files([tmp_path / "files.v1.json"])
    assert first is DiscoveryValidator.from_files([str(tmp_path / "files.v1.json")])
    assert first.find_method("GET", "https://files.googleapis.com/files/v1/files") is not None


SPECS = Path(__file__).resolve().parents[2] / "specs" / "google"
"""Google's own Discovery documents, kept in the repository (see specs/README.md)."""


def test_googles_drive_and_sheets_documents() -> None:
    google = DiscoveryValidator.from_files([SPECS / "drive.v3.json", SPECS / "sheets.v4.json"])
    listing = google.validate_request(
        request("GET", "https://www.googleapis.com/drive/v3/files?pageSize=10&corpora=allDrives&q=trashed%3Dfalse")
    )
    assert listing.id == "drive.files.list" and "https://www.googleapis.com/auth/drive.readonly" in listing.scopes
    values = google.validate_request(
        request("GET", "https://sheets.googleapis.com/v4/spreadsheets/s1/values/Sheet1%21A1%3AB2?majorDimension=ROWS")
    )
    assert values.id == "sheets.spreadsheets.values.get" and values.path_params["range"] == "Sheet1!A1:B2"
    opened = google.validate_request(
        request(
            "POST",
            "https://www.googleapis.com/upload/drive/v3/files?uploadType=resumable&supportsAllDrives=true",
            json={"name": "big.bin", "parents": ["root"]},
            headers={"X-Upload-Content-Type": "application/octet-stream", "X-Upload-Content-Length": "7340032"},
        )
    )
    assert opened.id == "drive.files.create" and opened.upload == "resumable"
    chunk = google.validate_request(
        request(
            "PUT",
            "https://www.googleapis.com/upload/drive/v3/files?uploadType=resumable&upload_id=ADPycdt",
            content=b"\0" * CHUNK_GRANULARITY,
            headers={"Content-Range": f"bytes 0-{CHUNK_GRANULARITY - 1}/7340032"},
        )
    )
    assert chunk.id == "drive.files.create" and chunk.session
