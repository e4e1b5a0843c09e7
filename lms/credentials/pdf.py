"""The printable certificate: a one-page PDF with a QR code to its verification page."""

from __future__ import annotations

import io
from datetime import datetime

import segno
from reportlab.lib.pagesizes import A4, landscape
from reportlab.lib.units import mm
from reportlab.lib.utils import simpleSplit
from reportlab.pdfgen.canvas import Canvas

from lms.credentials.certificates import wording
from lms.credentials.models import Certificate, CertificateStatus


def qr_matrix(url: str) -> list[list[bool]]:
    """The modules of the QR code of ``url`` (True is dark), without the quiet zone."""
    return [[bool(cell) for cell in row] for row in segno.make(url, error="m").matrix]


def _draw_qr(canvas: Canvas, url: str, x: float, y: float, size: float) -> None:
    matrix = qr_matrix(url)
    cell = size / (len(matrix) + 8)  # four modules of quiet zone on each side
    canvas.setFillColorRGB(1, 1, 1)
    canvas.rect(x, y, size, size, stroke=0, fill=1)
    canvas.setFillColorRGB(0, 0, 0)
    for row_index, row in enumerate(matrix):
        for col_index, dark in enumerate(row):
            if dark:
                canvas.rect(
                    x + (col_index + 4) * cell,
                    y + size - (row_index + 5) * cell,
                    cell,
                    cell,
                    stroke=0,
                    fill=1,
                )
    canvas.linkURL(url, (x, y, x + size, y + size), relative=0)


def _centred_lines(
    canvas: Canvas, text: str, font: str, size: float, x: float, y: float, width: float
) -> float:
    """Draw ``text`` centred on ``x``, wrapped to ``width``, from the baseline ``y`` down;
    the baseline of its last line."""
    canvas.setFont(font, size)
    for line in simpleSplit(text, font, size, width):
        canvas.drawCentredString(x, y, line)
        y -= size * 1.35
    return y + size * 1.35


def _date(moment: datetime | None) -> str:
    return moment.strftime("%d %B %Y") if moment else ""


STAMPS = {
    CertificateStatus.REVOKED: "REVOKED",
    CertificateStatus.EXPIRED: "EXPIRED",
    CertificateStatus.SUPERSEDED: "SUPERSEDED",
}


def _stamp(canvas: Canvas, word: str, width: float, height: float) -> None:
    """Mark the page across its middle, so a printout of a certificate that is no longer
    valid cannot pass for one that is."""
    canvas.saveState()
    canvas.setFillColorRGB(0.65, 0.1, 0.1)
    canvas.setFont("Helvetica-Bold", 110)
    canvas.translate(width / 2, height / 2)
    canvas.rotate(28)
    canvas.setFillAlpha(0.28)
    canvas.drawCentredString(0, -35, word)
    canvas.restoreState()
    canvas.setFillColorRGB(0.65, 0.1, 0.1)
    canvas.setFont("Helvetica-Bold", 13)
    canvas.drawCentredString(
        width / 2, height - 22 * mm, f"{word}: this certificate is no longer valid."
    )
    canvas.setFillColorRGB(0, 0, 0)


def certificate_pdf(
    certificate: Certificate,
    school: str,
    verify_url: str,
    standing: CertificateStatus = CertificateStatus.ISSUED,
) -> bytes:
    """The PDF of a loaded certificate (student, credential and requirement set loaded); one
    no longer valid (``standing``) is stamped REVOKED, EXPIRED or SUPERSEDED on every page."""
    buffer = io.BytesIO()
    width, height = landscape(A4)
    canvas = Canvas(buffer, pagesize=(width, height), invariant=1)
    student = certificate.student.full_name
    words = wording.of_certificate(certificate, school)
    canvas.setTitle(f"{words.title}: {student}")
    canvas.setAuthor(school)
    canvas.setLineWidth(2)
    canvas.rect(12 * mm, 12 * mm, width - 24 * mm, height - 24 * mm)
    centre, text_width = width / 2, width - 60 * mm

    canvas.setFont("Helvetica-Bold", 16)
    canvas.drawCentredString(centre, height - 32 * mm, school)
    # Each block starts below the last line of the one above: long names wrap, never overlap.
    y = _centred_lines(canvas, words.title, "Helvetica", 24, centre, height - 48 * mm, text_width)
    canvas.setFont("Helvetica-Bold", 22)
    canvas.drawCentredString(centre, y - 16 * mm, student)
    y = _centred_lines(canvas, words.statement, "Helvetica", 13, centre, y - 26 * mm, text_width)
    y = _centred_lines(canvas, words.credential, "Helvetica", 11, centre, y - 7 * mm, text_width)
    # The disclaimer is body text, as large as the statement: no one reads the certificate
    # without reading that it is not the credential.
    _centred_lines(canvas, words.disclaimer, "Helvetica-Bold", 12, centre, y - 10 * mm, text_width)

    canvas.setFont("Helvetica", 11)
    lines = [
        f"Issued: {_date(certificate.issued_at)}",
        f"Valid until: {_date(certificate.expires_at)}"
        if certificate.expires_at
        else "Valid until: no end date",
        f"Requirements version: {certificate.requirement_set.version}",
        f"Code: {certificate.code}",
        f"Check it at: {verify_url}",
    ]
    for index, line in enumerate(lines):
        canvas.drawString(25 * mm, 66 * mm - index * 6.5 * mm, line)
    canvas.drawString(
        25 * mm, 32 * mm, "Scan the code or open the address to see whether it is still valid."
    )
    canvas.setFont("Helvetica", 9)
    canvas.drawString(25 * mm, 17 * mm, words.attribution)
    _draw_qr(canvas, verify_url, width - 75 * mm, 22 * mm, 50 * mm)
    if standing in STAMPS:
        _stamp(canvas, STAMPS[standing], width, height)
    canvas.showPage()
    canvas.save()
    return buffer.getvalue()
