"""The QR code an authenticator app scans, drawn here (no outside service sees the secret)."""

from base64 import b64encode

import qrcode
import qrcode.image.svg


def qr_data_uri(text: str) -> str:
    """An SVG QR code as a data: address for an <img> (the Content-Security-Policy allows data:
    images, and an image carries no script or style into the page)."""
    image = qrcode.make(text, image_factory=qrcode.image.svg.SvgPathImage, box_size=8, border=2)
    return "data:image/svg+xml;base64," + b64encode(image.to_string()).decode()
