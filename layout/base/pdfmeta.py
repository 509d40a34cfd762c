"""A document's metadata as pypdf writes it, the one finisher of the plates and the archive copies:
the XMP packet and the document information, each written once."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # imported by the finisher that is given a writer (a recompose of cached plates makes none)
    from pypdf import PdfWriter


def write_metadata(writer: PdfWriter, xmp: bytes, info: Mapping[str, str]) -> None:
    """Give ``writer``'s document the XMP packet ``xmp`` and the document information ``info`` (in
    its order; ``/Trapped`` as a name). pypdf's Info setter fills the one Info object it adds or
    the document already has, so no second copy is left beside it."""
    from pypdf.generic import DecodedStreamObject, DictionaryObject, NameObject, TextStringObject

    stream = DecodedStreamObject()
    stream.set_data(xmp)
    stream[NameObject("/Type")], stream[NameObject("/Subtype")] = NameObject("/Metadata"), NameObject("/XML")
    writer.root_object[NameObject("/Metadata")] = writer._add_object(stream)
    writer._info = DictionaryObject({
        NameObject(key): NameObject(value) if key == "/Trapped" else TextStringObject(value)
        for key, value in info.items()})
