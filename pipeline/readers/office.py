"""Legacy Office containers: OLE2 compound files told apart by their streams, and the
Word-processor ones (.doc, .wps, also RTF) converted by LibreOffice to .docx.

Each conversion runs in a temporary directory of its own, always removed, with its own
LibreOffice profile inside (-env:UserInstallation), so that parallel workers never share
a profile (a shared one makes the second soffice exit at once, doing nothing); a
conversion that hangs is killed with its whole process group after a timeout.
"""

import os
import shutil
import signal
import subprocess
import tempfile
from pathlib import Path

from pipeline.errors import SourceError

OLE2_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
CONVERT_SECONDS = 120
INSTALL = "apt-get install libreoffice-writer (or brew install --cask libreoffice)"
# The stream that names what an OLE2 file holds → (our format name, what it is).
STREAMS = {
    "workbook": ("xls", "an Excel 97–2003 workbook"),
    "book": ("xls", "an Excel 5/95 workbook"),
    "worddocument": ("doc", "a Word 97–2003 or WPS Writer document"),
    "matost": ("wps", "a Microsoft Works document"),
}


def ole_format(name: str, data: bytes) -> str:
    """ "xls", "doc" or "wps", from the streams of an OLE2 compound file."""
    import olefile

    try:
        with olefile.OleFileIO(data) as ole:
            streams = {str(entry[0]).lower() for entry in ole.listdir(streams=True, storages=True)}
    except Exception as exc:  # olefile raises several types for a damaged directory
        raise SourceError(name, f"a damaged legacy Office file ({exc}); open and re-save it "
                          "in Office, WPS or LibreOffice", "format") from None
    for stream, (kind, _) in STREAMS.items():
        if stream in streams:
            return kind
    if "encryptedpackage" in streams:
        raise SourceError(name, "a password-protected Office file; save an unprotected copy",
                          "format")
    raise SourceError(name, "a legacy Office file that is neither a workbook nor a Word "
                      "document (a presentation?); save the list as .xlsx or .docx", "format")


def convert_to_docx(name: str, data: bytes, suffix: str) -> bytes:
    """The document converted by LibreOffice to .docx; SourceError when that cannot be done."""
    soffice = shutil.which("soffice") or shutil.which("libreoffice")
    if soffice is None:
        raise SourceError(name, f"this is a {suffix} document, read through LibreOffice, which "
                          f"is not installed: {INSTALL}; or convert it yourself with "
                          "soffice --headless --convert-to docx FILE", "format")
    with tempfile.TemporaryDirectory(prefix="dutylists-soffice-") as work:
        folder = Path(work)
        source = folder / f"document{suffix}"
        source.write_bytes(data)
        command = [soffice, f"-env:UserInstallation={(folder / 'profile').as_uri()}",
                   "--headless", "--norestore", "--nolockcheck", "--convert-to", "docx",
                   "--outdir", str(folder / "out"), str(source)]
        # Its own session, so that a timeout kills soffice.bin too, not only the wrapper.
        process = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                   stderr=subprocess.STDOUT, start_new_session=True)
        try:
            output, _ = process.communicate(timeout=CONVERT_SECONDS)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.communicate()
            raise SourceError(name, f"LibreOffice did not convert the document within "
                              f"{CONVERT_SECONDS} s; open and re-save it as .docx", "format") \
                from None
        converted = folder / "out" / "document.docx"
        if process.returncode != 0 or not converted.is_file():
            said = output.decode("utf-8", "replace").strip().splitlines()
            raise SourceError(name, f"LibreOffice could not convert the document "
                              f"({said[-1] if said else f'exit status {process.returncode}'}); "
                              "open and re-save it as .docx", "format")
        return converted.read_bytes()
