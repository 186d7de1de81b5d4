//! Document identity: the creation date and the document id a caller supplies so that the same
//! input always gives the same bytes (PDF-NOTES, printpdf 6: printpdf's own ids come from a
//! process-wide counter, and its dates default to 1970).

use std::fmt;

use chrono::{DateTime, Utc};
use sha2::{Digest, Sha256};

/// The 16-byte id written into a PDF's trailer `/ID` (both halves) and from which the font
/// subset tags are derived.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct DocumentId(pub [u8; 16]);

impl DocumentId {
    /// An id derived from any text (for example `"acme/2026-11/INV-000123"`).
    ///
    /// ```
    /// use invoice_pdf::DocumentId;
    /// assert_eq!(DocumentId::from_name("a"), DocumentId::from_name("a"));
    /// assert_ne!(DocumentId::from_name("a"), DocumentId::from_name("b"));
    /// assert_eq!(DocumentId::from_name("a").to_string().len(), 32);
    /// ```
    pub fn from_name(name: &str) -> DocumentId {
        DocumentId::digest(&[b"invoice-pdf/id", name.as_bytes()])
    }

    /// An id for a part of this document (one invoice of a ZIP, one period of a backup):
    /// the same parent and `part` always give the same id, different parts different ids.
    pub fn derive(&self, part: &str) -> DocumentId {
        DocumentId::digest(&[b"invoice-pdf/part", &self.0, part.as_bytes()])
    }

    fn digest(parts: &[&[u8]]) -> DocumentId {
        let mut h = Sha256::new();
        for p in parts {
            h.update((p.len() as u64).to_le_bytes());
            h.update(p);
        }
        let full = h.finalize();
        let mut id = [0u8; 16];
        id.copy_from_slice(&full[..16]);
        DocumentId(id)
    }

    /// The six upper-case letters that prefix the subset font names (`ABCDEF+DejaVuSans`) of
    /// face `face` in this document.
    pub(crate) fn subset_tag(&self, face: usize) -> String {
        let d = DocumentId::digest(&[b"invoice-pdf/subset", &self.0, &(face as u64).to_le_bytes()]);
        d.0.iter().take(6).map(|b| char::from(b'A' + b % 26)).collect()
    }
}

impl fmt::Display for DocumentId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for b in self.0 {
            write!(f, "{b:02x}")?;
        }
        Ok(())
    }
}

/// When a document was created and its id: everything that would otherwise make two renders of
/// the same invoice differ.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Stamp {
    /// Written as the PDF's creation and modification date, and as the ZIP entries' time.
    pub created: DateTime<Utc>,
    /// The document id.
    pub id: DocumentId,
}

impl Stamp {
    /// A stamp from a creation time and an id.
    pub fn new(created: DateTime<Utc>, id: DocumentId) -> Stamp {
        Stamp { created, id }
    }

    /// The stamp of a part (same time, [derived](DocumentId::derive) id).
    pub fn derive(&self, part: &str) -> Stamp {
        Stamp { created: self.created, id: self.id.derive(part) }
    }

    /// `D:YYYYMMDDHHmmSS+00'00'`, the PDF date format.
    pub(crate) fn pdf_date_string(&self) -> String {
        self.created.format("D:%Y%m%d%H%M%S+00'00'").to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn derived_ids_and_tags_are_stable_and_distinct() {
        let id = DocumentId::from_name("x");
        assert_eq!(id.derive("INV-1"), id.derive("INV-1"));
        assert_ne!(id.derive("INV-1"), id.derive("INV-2"));
        let tag = id.subset_tag(0);
        assert_eq!(tag.len(), 6);
        assert!(tag.chars().all(|c| c.is_ascii_uppercase()));
        assert_ne!(tag, id.subset_tag(1));
    }
}
