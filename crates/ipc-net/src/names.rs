//! Checked names: server URLs, subjects, key-value buckets and keys.
//!
//! Each is checked when it is parsed (`"…".parse()`, or clap's
//! `value_parser`), before anything connects, so that a typo ends the
//! program with exit code 2 and a message that says what is wrong.

use std::fmt;
use std::str::FromStr;

use crate::error::{Error, Result};

/// The port a NATS server listens on for clients unless told otherwise.
pub const DEFAULT_PORT: u16 = 4222;

/// What every name type here has besides its rule: `as_str`, `Display`
/// (the text as given) and `FromStr`, which keeps the text if `$check`
/// passes it and otherwise is [`Error::Invalid`] naming `$what` and the
/// reason `$check` gives. `$name` is a `String` newtype.
macro_rules! text_name {
    ($name:ident, $what:literal, $check:expr) => {
        impl $name {
            /// The name as text.
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl std::str::FromStr for $name {
            type Err = $crate::Error;

            fn from_str(text: &str) -> $crate::Result<Self> {
                match ($check)(text) {
                    Ok(()) => Ok($name(text.to_owned())),
                    Err(reason) => Err($crate::Error::invalid($what, text, reason)),
                }
            }
        }
    };
}
pub(crate) use text_name;

/// A name's rule: `Err` with the reason when the text breaks it.
pub(crate) type Rule = std::result::Result<(), String>;

/// The rule every name here starts with: not empty, at most `max` bytes.
fn sized(text: &str, max: usize) -> Rule {
    if text.is_empty() {
        return Err("it is empty".into());
    }
    if text.len() > max {
        return Err(format!("it is longer than {max} bytes"));
    }
    Ok(())
}

/// The rule of a plain name: [`sized`], and every byte an ASCII letter, a
/// digit or one of `extra` (`only` says which otherwise).
fn plain(text: &str, max: usize, extra: &[u8], only: &str) -> Rule {
    sized(text, max)?;
    if !only_letters_and(text, extra) {
        return Err(only.into());
    }
    Ok(())
}

/// Whether every byte of `text` is an ASCII letter, a digit or one of
/// `extra`.
pub(crate) fn only_letters_and(text: &str, extra: &[u8]) -> bool {
    text.bytes()
        .all(|b| b.is_ascii_alphanumeric() || extra.contains(&b))
}

/// One or more NATS server URLs, `nats://HOST[:PORT]`, comma-separated
/// (the nodes of one cluster; the client tries them in turn).
///
/// ```
/// use ipc_net::ServerUrls;
///
/// let urls: ServerUrls = "nats://127.0.0.1:4222,nats://[::1]".parse().unwrap();
/// assert_eq!(urls.to_string(), "nats://127.0.0.1:4222,nats://[::1]:4222");
/// assert!("http://127.0.0.1:4222".parse::<ServerUrls>().is_err());
/// assert!("nats://127.0.0.1:99999".parse::<ServerUrls>().is_err());
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerUrls(Vec<String>);

impl ServerUrls {
    /// The URLs, each normalised to `nats://HOST:PORT`.
    pub fn as_slice(&self) -> &[String] {
        &self.0
    }

    /// The URL of one server on this machine: `nats://127.0.0.1:PORT`.
    pub fn loopback(port: u16) -> ServerUrls {
        ServerUrls(vec![format!("nats://127.0.0.1:{port}")])
    }
}

impl fmt::Display for ServerUrls {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0.join(","))
    }
}

impl FromStr for ServerUrls {
    type Err = Error;

    fn from_str(text: &str) -> Result<Self> {
        let bad = |reason: &str| Err(Error::invalid("server URL", text, reason));
        if text.trim().is_empty() {
            return bad("it is empty; give nats://HOST:PORT");
        }
        let mut urls = Vec::new();
        for part in text.split(',') {
            if part.trim().is_empty() {
                return bad("an empty entry in the comma-separated list");
            }
            match parse_url(part.trim()) {
                Ok(url) => urls.push(url),
                Err(reason) => return bad(&reason),
            }
        }
        Ok(ServerUrls(urls))
    }
}

/// `nats://HOST[:PORT]` normalised to `nats://HOST:PORT`, or why not.
fn parse_url(url: &str) -> std::result::Result<String, String> {
    let Some(rest) = url.strip_prefix("nats://") else {
        return Err(match url.split_once("://") {
            Some((scheme, _)) => format!("the scheme is {scheme}://; only nats:// is supported"),
            None => "a URL starts with nats:// (for example nats://127.0.0.1:4222)".into(),
        });
    };
    if rest.contains('@') {
        return Err("user names and passwords in the URL are not supported".into());
    }
    if let Some(c) = rest.chars().find(|c| matches!(c, '/' | '?' | '#')) {
        return Err(format!(
            "a NATS URL is nats://HOST:PORT, with no path ({c:?} found)"
        ));
    }
    let (host, port) = if let Some(v6) = rest.strip_prefix('[') {
        let Some((address, after)) = v6.split_once(']') else {
            return Err("an IPv6 address opened with [ is not closed with ]".into());
        };
        if address.parse::<std::net::Ipv6Addr>().is_err() {
            return Err(format!("{address:?} is not an IPv6 address"));
        }
        let port = match after {
            "" => None,
            _ => match after.strip_prefix(':') {
                Some(port) => Some(port),
                None => return Err("after ] comes :PORT or nothing".into()),
            },
        };
        (format!("[{address}]"), port)
    } else {
        match rest.split_once(':') {
            Some((host, port)) => (host.to_owned(), Some(port)),
            None => (rest.to_owned(), None),
        }
    };
    if !host.starts_with('[') {
        if host.is_empty() {
            return Err("the host is missing".into());
        }
        if !host
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.'))
        {
            return Err(format!(
                "the host {host:?} may only have ASCII letters, digits, '-' and '.'"
            ));
        }
        if host.starts_with(['-', '.']) || host.ends_with('-') {
            return Err(format!("the host {host:?} is not a host name"));
        }
    }
    let port = match port {
        None => DEFAULT_PORT,
        Some(digits) => match digits.parse::<u16>() {
            Ok(0) => return Err("port 0 is not a port a server listens on".into()),
            // parse() also takes "+1": a port is digits only.
            Ok(port) if digits.bytes().all(|b| b.is_ascii_digit()) => port,
            _ => {
                return Err(format!(
                    "the port {digits:?} is not a number from 1 to 65535"
                ));
            }
        },
    };
    Ok(format!("nats://{host}:{port}"))
}

/// A NATS subject to publish to or listen on: tokens of ASCII letters,
/// digits, `-` and `_`, separated by dots (`ipc-lab.exp1-mom`). Wildcards
/// (`*`, `>`) are refused: every subject here names one place.
///
/// ```
/// use ipc_net::Subject;
///
/// let s: Subject = "ipc-lab.exp1-rpc.square_list".parse().unwrap();
/// assert_eq!(s.as_str(), "ipc-lab.exp1-rpc.square_list");
/// assert_eq!(s.child("ready").as_str(), "ipc-lab.exp1-rpc.square_list.ready");
/// for bad in ["", "a..b", ".a", "a.", "a b", "a.*", "a.>", "é"] {
///     assert!(bad.parse::<Subject>().is_err(), "{bad}");
/// }
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Subject(String);

/// The longest subject accepted here.
pub const MAX_SUBJECT_LEN: usize = 255;

impl Subject {
    /// `self.token`: a subject below this one. `token` must be one valid
    /// token (checked in debug builds).
    pub fn child(&self, token: &str) -> Subject {
        debug_assert!(Subject::from_str(token).is_ok() && !token.contains('.'));
        Subject(format!("{}.{token}", self.0))
    }

    /// A name derived from the subject that JetStream accepts as a stream
    /// name: the dots become underscores (`ipc-lab_exp1-mom`).
    pub fn stream_name(&self) -> String {
        self.0.replace('.', "_")
    }
}

text_name!(Subject, "subject", subject_rule);

fn subject_rule(text: &str) -> Rule {
    sized(text, MAX_SUBJECT_LEN)?;
    if text.contains(['*', '>']) {
        return Err("wildcards (* and >) name many subjects; give one subject".into());
    }
    for token in text.split('.') {
        if token.is_empty() {
            return Err("it has an empty token (a leading, trailing or double dot)".into());
        }
        if !only_letters_and(token, b"-_") {
            return Err(
                "only ASCII letters, digits, '-' and '_', in tokens separated by dots".into(),
            );
        }
    }
    Ok(())
}

/// The name of a key-value bucket: ASCII letters, digits, `-` and `_`
/// (what the NATS server accepts), at most 64 bytes.
///
/// ```
/// use ipc_net::BucketName;
///
/// assert!("ipc-lab-exp1-dsm".parse::<BucketName>().is_ok());
/// assert!("my.bucket".parse::<BucketName>().is_err());
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BucketName(String);

text_name!(BucketName, "bucket name", |text| {
    plain(
        text,
        64,
        b"-_",
        "only ASCII letters, digits, '-' and '_' are allowed",
    )
});

/// A key in a key-value bucket: ASCII letters, digits and `-/_=.`, not
/// starting or ending with a dot (what the NATS server accepts).
///
/// ```
/// use ipc_net::Key;
///
/// assert!("counter".parse::<Key>().is_ok());
/// assert!("a b".parse::<Key>().is_err());
/// assert!(".hidden".parse::<Key>().is_err());
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Key(String);

text_name!(Key, "key", key_rule);

fn key_rule(text: &str) -> Rule {
    plain(
        text,
        255,
        b"-/_=.",
        "only ASCII letters, digits and - / _ = . are allowed",
    )?;
    if text.starts_with('.') || text.ends_with('.') {
        return Err("it starts or ends with a dot".into());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn url_reason(text: &str) -> String {
        match text.parse::<ServerUrls>() {
            Err(Error::Invalid { reason, .. }) => reason,
            other => panic!("{text:?} gave {other:?}"),
        }
    }

    #[test]
    fn urls_are_normalised() {
        let urls: ServerUrls = "nats://localhost, nats://10.0.0.2:4223".parse().unwrap();
        assert_eq!(
            urls.as_slice(),
            ["nats://localhost:4222", "nats://10.0.0.2:4223"]
        );
        assert_eq!(
            ServerUrls::loopback(5).to_string(),
            "nats://127.0.0.1:5".to_owned()
        );
    }

    #[test]
    fn bad_urls_say_why() {
        assert!(url_reason("").contains("empty"));
        assert!(url_reason("127.0.0.1:4222").contains("starts with nats://"));
        assert!(url_reason("tls://h:1").contains("tls://"));
        assert!(url_reason("nats://").contains("host is missing"));
        assert!(url_reason("nats://h:0").contains("port 0"));
        assert!(url_reason("nats://h:65536").contains("1 to 65535"));
        assert!(url_reason("nats://h:+1").contains("1 to 65535"));
        assert!(url_reason("nats://h:x").contains("1 to 65535"));
        assert!(url_reason("nats://h/path").contains("no path"));
        assert!(url_reason("nats://u:p@h").contains("passwords"));
        assert!(url_reason("nats://h a").contains("ASCII"));
        assert!(url_reason("nats://[::1").contains("not closed"));
        assert!(url_reason("nats://[zz]:1").contains("IPv6"));
        assert!(url_reason("nats://h:1,").contains("empty entry"));
    }

    #[test]
    fn subjects_have_tokens() {
        assert_eq!(
            "ipc-lab.exp1-mom".parse::<Subject>().unwrap().stream_name(),
            "ipc-lab_exp1-mom"
        );
        assert!("x".repeat(256).parse::<Subject>().is_err());
        assert!("a\tb".parse::<Subject>().is_err());
    }

    #[test]
    fn bucket_names_and_keys() {
        assert!("x".repeat(65).parse::<BucketName>().is_err());
        assert!("".parse::<BucketName>().is_err());
        assert!("a/b=c.d".parse::<Key>().is_ok());
        assert!("a.".parse::<Key>().is_err());
        assert!("".parse::<Key>().is_err());
    }
}
