//! Exporting a posted batch of the book to a file: write, then record the results.
