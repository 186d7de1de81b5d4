//! The XML and JSON targets: qbXML, QuickBooks Online JSON, Sage Intacct, UBL and CII.

use crate::Format;

/// The XML and JSON formats of this module.
pub(crate) fn formats() -> Vec<&'static dyn Format> {
    Vec::new()
}
