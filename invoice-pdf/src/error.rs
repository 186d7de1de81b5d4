//! The one error type of the crate. Every variant has a stable snake_case code
//! ([`Error::code`]) that callers and bindings match on; messages are for people.

use std::fmt;
use std::path::PathBuf;

/// The result type of the crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Why an attachment (or a supplied signed PDF) cannot go into a backup.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Unreadable {
    /// The caller's [`AttachmentSource`](crate::AttachmentSource) could not supply the bytes.
    Io {
        /// The I/O error, as text.
        message: String,
    },
    /// The bytes do not start like a PDF (no `%PDF-` header).
    NotPdf,
    /// The PDF is encrypted; backups only take unencrypted PDFs.
    Encrypted,
    /// The PDF could not be parsed, or its page tree is broken.
    Corrupt {
        /// What the parser said.
        message: String,
    },
    /// The PDF parsed but has no pages.
    NoPages,
}

impl Unreadable {
    /// A stable snake_case code: `io`, `not_pdf`, `encrypted`, `corrupt`, `no_pages`.
    pub fn code(&self) -> &'static str {
        match self {
            Unreadable::Io { .. } => "io",
            Unreadable::NotPdf => "not_pdf",
            Unreadable::Encrypted => "encrypted",
            Unreadable::Corrupt { .. } => "corrupt",
            Unreadable::NoPages => "no_pages",
        }
    }
}

impl fmt::Display for Unreadable {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Unreadable::Io { message } => write!(f, "it could not be read: {message}"),
            Unreadable::NotPdf => f.write_str("it is not a PDF"),
            Unreadable::Encrypted => f.write_str("it is encrypted"),
            Unreadable::Corrupt { message } => write!(f, "it is corrupt: {message}"),
            Unreadable::NoPages => f.write_str("it has no pages"),
        }
    }
}

/// Everything that can go wrong while producing documents.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A character of the invoice is in none of the registered fonts. printpdf would silently
    /// drop it, so the invoice is refused instead; register a fallback font that has it.
    #[error("invoice {invoice}: no registered font has a glyph for {character:?} (U+{:04X})", u32::from(*character))]
    MissingGlyph {
        /// The invoice (its number, or `draft #id`).
        invoice: String,
        /// The character.
        character: char,
    },
    /// A font file could not be parsed.
    #[error("font {name:?} could not be parsed")]
    InvalidFont {
        /// The name the font was registered under.
        name: String,
    },
    /// A logo's pixel buffer does not match its size and format.
    #[error("logo: {reason}")]
    InvalidLogo {
        /// What is wrong.
        reason: String,
    },
    /// A ZIP or backup was asked for an empty selection.
    #[error("the selection is empty: select at least one invoice")]
    EmptySelection,
    /// Invoices without a billing period cannot be placed in a backup. Names every one of them.
    #[error("no billing period on {}: every invoice of a backup needs one", .invoices.join(", "))]
    MissingBillingPeriod {
        /// Every invoice of the selection that has no billing period.
        invoices: Vec<String>,
    },
    /// An attachment (or a signed PDF) of an invoice cannot be read as a PDF.
    #[error("invoice {invoice}: attachment {attachment:?} cannot be used: {reason}")]
    UnreadableAttachment {
        /// The invoice.
        invoice: String,
        /// The attachment's name.
        attachment: String,
        /// Why.
        reason: Unreadable,
    },
    /// The totals of an invoice could not be computed.
    #[error("invoice {invoice}: {source}")]
    Totals {
        /// The invoice.
        invoice: String,
        /// The core's error.
        source: invoice_core::Error,
    },
    /// An error of the core, for example an unknown invoice id in a selection.
    #[error(transparent)]
    Core(#[from] invoice_core::Error),
    /// Writing a PDF failed (a font that cannot be subset, an unsupported logo, pages missing
    /// from a rendered chunk).
    #[error("writing the PDF failed: {message}")]
    Render {
        /// What failed.
        message: String,
    },
    /// Merging PDFs (lopdf) failed.
    #[error("merging PDFs failed: {0}")]
    Merge(#[from] lopdf::Error),
    /// Writing the ZIP failed.
    #[error("writing the ZIP failed: {0}")]
    Zip(#[from] zip::result::ZipError),
    /// Writing an output file failed.
    #[error("writing {path:?} failed: {source}")]
    File {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// Writing to the caller's writer failed.
    #[error("writing failed: {0}")]
    Io(#[from] std::io::Error),
}

impl Error {
    /// A stable snake_case code for the error. [`Error::Core`] passes the core's code through.
    pub fn code(&self) -> &'static str {
        match self {
            Error::MissingGlyph { .. } => "missing_glyph",
            Error::InvalidFont { .. } => "invalid_font",
            Error::InvalidLogo { .. } => "invalid_logo",
            Error::EmptySelection => "empty_selection",
            Error::MissingBillingPeriod { .. } => "missing_billing_period",
            Error::UnreadableAttachment { .. } => "unreadable_attachment",
            Error::Totals { .. } => "totals",
            Error::Core(e) => e.code(),
            Error::Render { .. } => "render",
            Error::Merge(_) => "merge",
            Error::Zip(_) => "zip",
            Error::File { .. } => "file",
            Error::Io(_) => "io",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_snake_case_and_messages_name_things() {
        let e = Error::MissingGlyph { invoice: "INV-1".into(), character: '中' };
        assert_eq!(e.code(), "missing_glyph");
        assert!(e.to_string().contains("INV-1") && e.to_string().contains("U+4E2D"), "{e}");
        let e = Error::MissingBillingPeriod { invoices: vec!["A".into(), "B".into()] };
        assert!(e.to_string().contains("A, B"));
        let e = Error::UnreadableAttachment {
            invoice: "INV-2".into(),
            attachment: "receipts.pdf".into(),
            reason: Unreadable::Encrypted,
        };
        assert_eq!(e.code(), "unreadable_attachment");
        assert!(e.to_string().contains("INV-2") && e.to_string().contains("receipts.pdf"));
        assert_eq!(Error::Core(invoice_core::Error::EmptySelection).code(), "empty_selection");
    }
}
