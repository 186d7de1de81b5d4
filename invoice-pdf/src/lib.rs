//! invoice-pdf: the documents a person or an accountant receives — one PDF per invoice, a ZIP
//! of a selection's PDFs, and compiled backups (one PDF per billing period holding each
//! invoice followed by its attachments).
#![forbid(unsafe_code)]
#![deny(missing_docs)]
