//! Documents for a selection of the book: invoice PDFs, a ZIP of them, compiled backups.
