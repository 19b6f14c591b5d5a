//! Eight bytes at a time in a `u64` ("SIMD within a register"): the exact "is there any
//! such byte" tests the byte scanners use to pass over words that need nothing.

const ONES: u64 = 0x0101_0101_0101_0101;
const HIGHS: u64 = 0x8080_8080_8080_8080;

/// Whether any byte of `w` is below `n` (`n` ≤ 128).
#[inline(always)]
pub fn has_byte_below(w: u64, n: u8) -> bool {
    w.wrapping_sub(ONES * u64::from(n)) & !w & HIGHS != 0
}

/// Whether any byte of `w` is `b`.
#[inline(always)]
pub fn has_byte(w: u64, b: u8) -> bool {
    has_byte_below(w ^ (ONES * u64::from(b)), 1)
}
