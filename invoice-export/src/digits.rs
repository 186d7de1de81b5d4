//! Writing the decimal digits of an integer, two at a time, into the end of a buffer (shared
//! by the CSV and XML number formatting).

/// The two-digit numbers `00` to `99`.
const PAIRS: &[u8; 200] = b"0001020304050607080910111213141516171819\
2021222324252627282930313233343536373839\
4041424344454647484950515253545556575859\
6061626364656667686970717273747576777879\
8081828384858687888990919293949596979899";

/// Write the two digits of `pair` (below 100) at `buf[at..at + 2]`.
#[inline]
pub(crate) fn write_pair(pair: usize, buf: &mut [u8], at: usize) {
    buf[at..at + 2].copy_from_slice(&PAIRS[pair * 2..pair * 2 + 2]);
}

/// Write the digits of `m` (at least one) so that they end just before `buf[end]`; returns
/// the index of the first digit. `buf[..end]` must have room for 20 digits.
pub(crate) fn write_u64_back(mut m: u64, buf: &mut [u8], end: usize) -> usize {
    let mut i = end;
    while m >= 100 {
        let pair = (m % 100) as usize * 2;
        m /= 100;
        i -= 2;
        buf[i..i + 2].copy_from_slice(&PAIRS[pair..pair + 2]);
    }
    if m >= 10 {
        let pair = m as usize * 2;
        i -= 2;
        buf[i..i + 2].copy_from_slice(&PAIRS[pair..pair + 2]);
    } else {
        i -= 1;
        buf[i] = b'0' + m as u8;
    }
    i
}
