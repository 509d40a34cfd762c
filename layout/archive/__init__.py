"""The archive's files: PDF/A plates, ALTO, METS and page images."""
