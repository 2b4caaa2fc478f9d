//! Journal lines carry a checksum, so a line changed after it was written (a flipped
//! byte, an edit) is found instead of undone on the strength of whatever it now says.
//! A sealed line is the JSON, a space, `#` and the CRC-32 of the JSON in hex:
//!
//! ```text
//! {"op":{"op":"netns_add","name":"red","lo":true}} #1c291ca3
//! ```
//!
//! Lines written before checksums (no ` #xxxxxxxx` at the end) are read as they are.

use crate::error::Error;

/// The line for `json` (without its newline).
pub fn seal(json: &str) -> String {
    format!("{json} #{:08x}", crc32(json.as_bytes()))
}

/// The JSON of a line, checked against its checksum if it has one.
pub fn open(line: &str) -> Result<&str, Error> {
    let Some((json, sum)) = line.rsplit_once(" #") else {
        return Ok(line);
    };
    if sum.len() != 8 || !sum.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Ok(line);
    }
    match u32::from_str_radix(sum, 16) {
        Ok(s) if s == crc32(json.as_bytes()) => Ok(json),
        _ => Err(Error::Invalid(
            "its checksum does not match (the line was changed after it was written)".into(),
        )),
    }
}

/// CRC-32 (IEEE, as zlib and gzip): small and fast enough for lines of a few hundred bytes.
fn crc32(bytes: &[u8]) -> u32 {
    let mut crc = !0u32;
    for &b in bytes {
        crc ^= b as u32;
        for _ in 0..8 {
            crc = (crc >> 1) ^ (0xEDB8_8320 & (crc & 1).wrapping_neg());
        }
    }
    !crc
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crc32_is_the_standard_one() {
        assert_eq!(crc32(b"123456789"), 0xCBF4_3926);
    }

    #[test]
    fn a_sealed_line_opens_to_its_json() {
        let json = r#"{"op":{"op":"netns_add","name":"red","lo":true}}"#;
        assert_eq!(open(&seal(json)).ok(), Some(json));
    }

    #[test]
    fn a_changed_byte_breaks_the_seal() {
        let line = seal(r#"{"op":{"op":"netns_add","name":"red","lo":true}}"#);
        let changed = line.replacen("red", "rod", 1);
        assert!(open(&changed).unwrap_err().to_string().contains("checksum"));
    }

    #[test]
    fn an_unsealed_line_is_read_as_it_is() {
        let id = r#"{"id":{"netns":{"dev":1,"ino":2}}}"#;
        assert_eq!(open(id).ok(), Some(id));
        // A line cut inside its checksum is no sealed line (it then fails as JSON).
        assert_eq!(open("{} #1c29").ok(), Some("{} #1c29"));
    }
}
