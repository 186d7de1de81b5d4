//! Errors of the export crate.

/// The result type of the crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// What stops a whole export (as opposed to one invoice, which is reported per invoice).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// No format has this name.
    #[error("unknown export format '{name}' (known: {known})")]
    UnknownFormat {
        /// The name asked for.
        name: String,
        /// The known names, comma-separated.
        known: String,
    },
    /// Writing the output failed.
    #[error("writing the export failed: {0}")]
    Io(#[from] std::io::Error),
    /// The core refused something.
    #[error(transparent)]
    Core(#[from] invoice_core::Error),
}

impl Error {
    /// A stable snake_case code.
    pub fn code(&self) -> &'static str {
        match self {
            Error::UnknownFormat { .. } => "unknown_format",
            Error::Io(_) => "io",
            Error::Core(e) => e.code(),
        }
    }
}
