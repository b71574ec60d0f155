"""Completion (结业) and certificates: who completes a class, serials, PDFs, verification."""
