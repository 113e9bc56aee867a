"""Which uploaded content may be shown inline (pure). One policy for the form definitions (what an
image or signature field may accept), the upload declaration, the presigned GET and the service report.

Active content is anything a browser may run or render with scripts when it opens the object from our
bucket's origin: SVG, HTML/XHTML, XML (XSLT, *+xml), JavaScript. Image and signature fields never
take it; a file field may hold it, but it is served only as a download (attachment) typed
application/octet-stream. Only the raster image types below are served inline (and drawn in <img>)."""
from __future__ import annotations

import re
import unicodedata
from urllib.parse import quote

RASTER_IMAGE_TYPES = frozenset({"image/png", "image/jpeg", "image/gif", "image/webp", "image/avif", "image/bmp",
                                "image/heic", "image/heif"})
ACTIVE_TYPES = frozenset({"text/html", "application/xhtml+xml", "image/svg+xml", "text/xml", "application/xml",
                          "text/javascript", "application/javascript", "application/x-javascript", "application/ecmascript",
                          "text/ecmascript", "text/jscript", "text/xsl", "application/xslt+xml",
                          "application/x-shockwave-flash", "multipart/x-mixed-replace", "text/x-component",
                          "application/hta"})
ACTIVE_WORDS = ("html", "svg", "script", "xsl")  # in a subtype: xhtml, x-ecmascript, vbscript, ...
XML_ENDINGS = ("+xml", "-xml", ".xml")  # rss+xml, mathml+xml, x-xml: XML a browser may render
DOWNLOAD_TYPE = "application/octet-stream"
_TOKEN = re.compile(r"[a-z0-9][a-z0-9.+\-]*/[a-z0-9][a-z0-9.+\-]*")


def essence(content_type: object) -> str:
    """'Image/SVG+XML; charset=x' → 'image/svg+xml' ('' when it is not text)."""
    return content_type.split(";", 1)[0].strip().lower() if isinstance(content_type, str) else ""


def is_active(content_type: object) -> bool:
    """True for content a browser may execute (and for anything that is not a plain type/subtype)."""
    kind = essence(content_type)
    if not _TOKEN.fullmatch(kind):
        return True
    subtype = kind.split("/", 1)[1]
    return (kind in ACTIVE_TYPES or subtype == "xml" or subtype.endswith(XML_ENDINGS)
            or any(word in subtype for word in ACTIVE_WORDS))


def is_raster_image(content_type: object) -> bool:
    return essence(content_type) in RASTER_IMAGE_TYPES


def serving(content_type: object, filename: object, fallback: str = "file") -> tuple[str, str]:
    """(Content-Disposition, Content-Type) to serve an object with: a raster image inline with its own
    type; anything else as an attachment, active content typed application/octet-stream."""
    kind = essence(content_type)
    name = safe_filename(filename, fallback)
    disposition = "inline" if kind in RASTER_IMAGE_TYPES else "attachment"
    served = kind if kind in RASTER_IMAGE_TYPES or (_TOKEN.fullmatch(kind) and not is_active(kind)) else DOWNLOAD_TYPE
    return f"{disposition}; filename=\"{_ascii(name)}\"; filename*=UTF-8''{quote(name, safe='')}", served


def safe_filename(filename: object, fallback: str = "file") -> str:
    """A name for a download: letters, digits and ._-() and spaces only, no leading dots, ≤ 100 chars."""
    text = unicodedata.normalize("NFC", filename) if isinstance(filename, str) else ""
    text = text.replace("\\", "/").rsplit("/", 1)[-1]  # a path's last part
    kept = "".join(c if c.isalnum() or c in "._-() " else "_" for c in text if c.isprintable())
    kept = kept.strip(" .")[:100].strip(" .")
    return kept or fallback


def _ascii(name: str) -> str:
    text = "".join(c if c.isascii() and (c.isalnum() or c in "._-() ") else "_" for c in name)
    return text or "file"


__all__ = ["RASTER_IMAGE_TYPES", "DOWNLOAD_TYPE", "essence", "is_active", "is_raster_image", "serving", "safe_filename"]
