//! A small length-prefixed binary codec (little-endian) for the files pagesieve writes for
//! itself between its phases: spilled records and the shard files of a distributed run. Decoding checks every
//! length against what is left, so a damaged file is an error, never a panic.

/// Appends values to a buffer.
#[derive(Debug, Default)]
pub struct Enc(pub Vec<u8>);

impl Enc {
    /// One byte.
    pub fn u8(&mut self, v: u8) {
        self.0.push(v);
    }

    /// A bool as one byte.
    pub fn bool(&mut self, v: bool) {
        self.0.push(u8::from(v));
    }

    /// A u32.
    pub fn u32(&mut self, v: u32) {
        self.0.extend_from_slice(&v.to_le_bytes());
    }

    /// A u64.
    pub fn u64(&mut self, v: u64) {
        self.0.extend_from_slice(&v.to_le_bytes());
    }

    /// A u128.
    pub fn u128(&mut self, v: u128) {
        self.0.extend_from_slice(&v.to_le_bytes());
    }

    /// Bytes with their length.
    pub fn bytes(&mut self, v: &[u8]) {
        self.u32(v.len() as u32);
        self.0.extend_from_slice(v);
    }

    /// A string with its length.
    pub fn str(&mut self, v: &str) {
        self.bytes(v.as_bytes());
    }

    /// An optional string.
    pub fn opt_str(&mut self, v: Option<&str>) {
        match v {
            Some(s) => {
                self.u8(1);
                self.str(s);
            }
            None => self.u8(0),
        }
    }
}

/// Reads values back.
#[derive(Debug)]
pub struct Dec<'a>(pub &'a [u8]);

/// A damaged buffer.
pub fn corrupt(what: &str) -> std::io::Error {
    std::io::Error::new(std::io::ErrorKind::InvalidData, format!("corrupt {what}"))
}

impl<'a> Dec<'a> {
    /// Whether everything was read.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The next `n` bytes.
    pub fn take(&mut self, n: usize) -> std::io::Result<&'a [u8]> {
        let (head, rest) = self.0.split_at_checked(n).ok_or_else(|| corrupt("data"))?;
        self.0 = rest;
        Ok(head)
    }

    fn array<const N: usize>(&mut self) -> std::io::Result<[u8; N]> {
        self.take(N)?.try_into().map_err(|_| corrupt("data"))
    }

    /// One byte.
    pub fn u8(&mut self) -> std::io::Result<u8> {
        Ok(self.array::<1>()?[0])
    }

    /// A bool.
    pub fn bool(&mut self) -> std::io::Result<bool> {
        Ok(self.u8()? != 0)
    }

    /// A u32.
    pub fn u32(&mut self) -> std::io::Result<u32> {
        Ok(u32::from_le_bytes(self.array()?))
    }

    /// A u64.
    pub fn u64(&mut self) -> std::io::Result<u64> {
        Ok(u64::from_le_bytes(self.array()?))
    }

    /// A u128.
    pub fn u128(&mut self) -> std::io::Result<u128> {
        Ok(u128::from_le_bytes(self.array()?))
    }

    /// Bytes with their length.
    pub fn bytes(&mut self) -> std::io::Result<&'a [u8]> {
        let n = self.u32()? as usize;
        self.take(n)
    }

    /// A string.
    pub fn string(&mut self) -> std::io::Result<String> {
        crate::text::utf8::as_str(self.bytes()?)
            .map(str::to_owned)
            .ok_or_else(|| corrupt("string"))
    }

    /// An optional string.
    pub fn opt_string(&mut self) -> std::io::Result<Option<String>> {
        match self.u8()? {
            0 => Ok(None),
            _ => self.string().map(Some),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_round_trip_and_short_buffers_are_errors() {
        let mut e = Enc::default();
        e.u8(7);
        e.u64(u64::MAX - 3);
        e.u128(1 << 100);
        e.str("医保");
        e.opt_str(None);
        e.opt_str(Some("x"));
        e.bool(true);
        let mut d = Dec(&e.0);
        assert_eq!(d.u8().unwrap(), 7);
        assert_eq!(d.u64().unwrap(), u64::MAX - 3);
        assert_eq!(d.u128().unwrap(), 1 << 100);
        assert_eq!(d.string().unwrap(), "医保");
        assert_eq!(d.opt_string().unwrap(), None);
        assert_eq!(d.opt_string().unwrap().as_deref(), Some("x"));
        assert!(d.bool().unwrap());
        assert!(d.is_empty());
        let cut = &e.0[..e.0.len() - 3];
        let mut d = Dec(cut);
        d.u8().unwrap();
        d.u64().unwrap();
        d.u128().unwrap();
        d.string().unwrap();
        d.opt_string().unwrap();
        assert!(d.opt_string().is_err());
    }
}
