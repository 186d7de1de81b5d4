//! Plain spellings of accented letters, for targets whose code page lacks them (QuickBooks
//! Desktop's Latin-1, the Windows-1252 of the CSV-like targets).

/// Latin Extended-A (U+0100..U+017F) without its accents.
const LATIN_EXT_A: [&str; 128] = [
    "A", "a", "A", "a", "A", "a", "C", "c", "C", "c", "C", "c", "C", "c", "D", "d", // 0100
    "D", "d", "E", "e", "E", "e", "E", "e", "E", "e", "E", "e", "G", "g", "G", "g", // 0110
    "G", "g", "G", "g", "H", "h", "H", "h", "I", "i", "I", "i", "I", "i", "I", "i", // 0120
    "I", "i", "IJ", "ij", "J", "j", "K", "k", "k", "L", "l", "L", "l", "L", "l", "L", // 0130
    "l", "L", "l", "N", "n", "N", "n", "N", "n", "n", "N", "n", "O", "o", "O", "o", // 0140
    "O", "o", "OE", "oe", "R", "r", "R", "r", "R", "r", "S", "s", "S", "s", "S", "s", // 0150
    "S", "s", "T", "t", "T", "t", "T", "t", "U", "u", "U", "u", "U", "u", "U", "u", // 0160
    "U", "u", "U", "u", "W", "w", "Y", "y", "Y", "Z", "z", "Z", "z", "Z", "z", "s", // 0170
];

/// The plain spelling of a letter of Latin Extended-A (`Ł` → `L`, `Œ` → `OE`), `None` for
/// any other character.
pub(crate) fn latin_ext_a(c: char) -> Option<&'static str> {
    let i = u32::from(c).checked_sub(0x100)?;
    LATIN_EXT_A.get(usize::try_from(i).ok()?).copied()
}
