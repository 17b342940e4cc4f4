//! Keys in listings asked for with `encoding-type=url`. S3 keys may hold characters that XML 1.0
//! cannot carry (U+0001, U+001B, ...): a listing that holds one raw is unparseable for the
//! whole page. With `encoding-type=url` S3 sends keys, prefixes, common prefixes and key
//! markers form-encoded (a space is `+`, other bytes `%XX`), and says so in the answer's
//! `EncodingType`; we decode them here. A store that ignores the request answers raw, without
//! that element, and its keys must be taken as they are (a `+` in them is a plus).
//!
//! Depends on the SDK's `EncodingType` only.

use aws_sdk_s3::types::EncodingType;

/// How to read the keys of one listing answer: decoded when it says it is URL-encoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Keys {
    encoded: bool,
}

impl Keys {
    /// From the answer's `EncodingType` element and the keys, prefixes and markers it lists.
    /// Some stores (s3s-fs) echo the element while they encode nothing: a listed value that no
    /// encoder would leave as it is (a space, a control or non-ASCII character, a `%` without
    /// two hex digits) shows the page is raw, and it is read as such.
    pub(crate) fn of<'a>(
        answer: Option<&EncodingType>,
        listed: impl IntoIterator<Item = &'a str>,
    ) -> Keys {
        let encoded = answer == Some(&EncodingType::Url);
        Keys {
            encoded: encoded && listed.into_iter().all(looks_encoded),
        }
    }

    /// The key (or prefix, or marker) as stored.
    pub(crate) fn read(self, listed: &str) -> String {
        match self.encoded {
            true => decode(listed),
            false => listed.to_string(),
        }
    }
}

/// Whether `listed` could be the output of URL encoding: printable ASCII only, and every `%`
/// starts a `%XX` escape.
fn looks_encoded(listed: &str) -> bool {
    let bytes = listed.as_bytes();
    bytes.iter().enumerate().all(|(i, &b)| {
        b.is_ascii_graphic()
            && (b != b'%'
                || (i + 2 < bytes.len() && hex_pair(bytes[i + 1], bytes[i + 2]).is_some()))
    })
}

/// Form decoding: `+` is a space, `%XX` a byte. A `%` not followed by two hex digits stays as it
/// is, and bytes that are not UTF-8 once decoded leave the text as listed: a wrong key then
/// fails its own request with the key named, not the whole listing.
pub(crate) fn decode(listed: &str) -> String {
    let bytes = listed.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < bytes.len() && hex_pair(bytes[i + 1], bytes[i + 2]).is_some() => {
                out.extend(hex_pair(bytes[i + 1], bytes[i + 2]));
                i += 2;
            }
            byte => out.push(byte),
        }
        i += 1;
    }
    String::from_utf8(out).unwrap_or_else(|_| listed.to_string())
}

fn hex_pair(high: u8, low: u8) -> Option<u8> {
    let digit = |b: u8| (b as char).to_digit(16);
    Some((digit(high)? * 16 + digit(low)?) as u8)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn form_decoding_of_keys() {
        assert_eq!(decode("a+b%2Bc%25d"), "a b+c%d");
        assert_eq!(decode("ctl%01x%1B"), "ctl\u{1}x\u{1b}");
        assert_eq!(decode("%E6%97%A5/x"), "日/x");
        assert_eq!(decode("100%"), "100%");
        assert_eq!(decode("bad%zz"), "bad%zz");
        assert_eq!(decode("%FF"), "%FF", "not UTF-8: kept as listed");
    }

    #[test]
    fn only_an_answer_that_says_url_is_decoded() {
        let url = Some(&EncodingType::Url);
        assert_eq!(Keys::of(None, ["a+b"]).read("a+b"), "a+b");
        assert_eq!(Keys::of(url, ["a+b", "x%2By"]).read("a+b"), "a b");
        // An echoed element over raw keys: a space, a bare '%' or non-ASCII gives it away.
        for raw in ["with space", "100%", "ü", "ctl\u{1}"] {
            assert_eq!(Keys::of(url, ["a+b", raw]).read("a+b"), "a+b", "{raw:?}");
        }
    }
}
