//! Scanning text for the few bytes that need a closer look, eight bytes at a time.
//!
//! Each test on a `u64` of eight bytes is exact as to whether *some* lane matches (the
//! classic "has a zero byte" bit trick); a chunk that matches is then looked at byte by
//! byte, so the answers are exactly those of the byte-by-byte predicate.

const ONES: u64 = 0x0101_0101_0101_0101;
const HIGHS: u64 = 0x8080_8080_8080_8080;

/// Nonzero when a byte of `x` is below `n` (`n` at most 0x80).
pub(crate) const fn below(x: u64, n: u8) -> u64 {
    x.wrapping_sub(ONES * n as u64) & !x & HIGHS
}

/// Nonzero when a byte of `x` equals `b`.
pub(crate) const fn equal(x: u64, b: u8) -> u64 {
    let y = x ^ (ONES * b as u64);
    y.wrapping_sub(ONES) & !y & HIGHS
}

/// Nonzero when a byte of `x` is 0x80 or above.
pub(crate) const fn high(x: u64) -> u64 {
    x & HIGHS
}

/// The index of the first byte of `s` for which `byte` holds. `chunk` must be nonzero for
/// every eight bytes (read little-endian) holding such a byte; it may be nonzero for others.
#[inline]
pub(crate) fn position(s: &[u8], chunk: impl Fn(u64) -> u64, byte: impl Fn(u8) -> bool) -> Option<usize> {
    let mut chunks = s.chunks_exact(8);
    let mut at = 0;
    for c in &mut chunks {
        let mut lanes = [0u8; 8];
        lanes.copy_from_slice(c);
        if chunk(u64::from_le_bytes(lanes)) != 0 {
            if let Some(i) = c.iter().position(|&b| byte(b)) {
                return Some(at + i);
            }
        }
        at += 8;
    }
    chunks.remainder().iter().position(|&b| byte(b)).map(|i| at + i)
}

/// True when `byte` holds for a byte of `s` (see [`position`] for `chunk`).
#[inline]
pub(crate) fn any(s: &[u8], chunk: impl Fn(u64) -> u64, byte: impl Fn(u8) -> bool) -> bool {
    position(s, chunk, byte).is_some()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lane_tests_are_exact() {
        for v in 0..=255u8 {
            for fill in [0u8, 0x20, 0x41, 0x7f, 0x80, 0xff] {
                for lane in 0..8 {
                    let mut bytes = [fill; 8];
                    bytes[lane] = v;
                    let x = u64::from_le_bytes(bytes);
                    let any_below = bytes.iter().any(|&b| b < 0x20);
                    assert_eq!(below(x, 0x20) != 0, any_below, "{bytes:?}");
                    for b in [b'"', b',', b'\t', b';', 0xef, 0x00, 0xff] {
                        assert_eq!(equal(x, b) != 0, bytes.contains(&b), "{bytes:?} {b}");
                    }
                    assert_eq!(high(x) != 0, bytes.iter().any(|&b| b >= 0x80));
                }
            }
        }
    }

    #[test]
    fn position_is_the_first_match() {
        let s = b"plain text, then a comma; and more text here";
        for i in 0..s.len() {
            let t = &s[i..];
            let expected = t.iter().position(|&b| b == b';');
            assert_eq!(position(t, |x| equal(x, b';'), |b| b == b';'), expected);
        }
    }
}
