//! What exp1-sockets adds around the seed-like program: the command
//! line's values (the addresses, the authkey; the numbers the clients
//! send are [`ipc_cli::Clients`]), each checked once with its rule in
//! words, and the fresh key of a run.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};

use ipc_core::connection::Address;

/// Where the roles listen and connect unless told: `127.0.0.1:6000`, as
/// Python's documentation does (`('localhost', 6000)`).
pub const DEFAULT_PORT: u16 = 6000;

/// The longest authkey `--authkey` takes, in bytes.
pub const MAX_KEY: usize = 256;

/// The longest Unix socket path (`sun_path` holds 108 bytes with the
/// final NUL).
pub const MAX_PATH: usize = 107;

/// `HOST:PORT` with HOST an IP address or `localhost`; `None` otherwise.
fn ip_and_port(text: &str) -> Option<SocketAddr> {
    text.parse::<SocketAddr>().ok().or_else(|| {
        let port = text.strip_prefix("localhost:")?.parse::<u16>().ok()?;
        Some(SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), port))
    })
}

/// `--listen`'s parser: an IP address of this machine and a port
/// (`127.0.0.1:6000`; `0.0.0.0:6000` for every interface, so that other
/// machines reach it; port 0 lets the kernel choose), or the rule in
/// words.
///
/// ```
/// use exp1_sockets::extras::listen_address;
/// assert_eq!(listen_address("0.0.0.0:6000").unwrap().to_string(), "0.0.0.0:6000");
/// assert_eq!(listen_address("localhost:0").unwrap().to_string(), "127.0.0.1:0");
/// for bad in ["", "6000", "lab-pc:6000", "127.0.0.1", "127.0.0.1:70000", "/tmp/sock"] {
///     assert!(listen_address(bad).unwrap_err().contains("expected IP:PORT"), "{bad:?}");
/// }
/// ```
///
/// # Errors
/// The rule, whatever was wrong.
pub fn listen_address(text: &str) -> std::result::Result<Address, String> {
    ip_and_port(text).map(Address::Tcp).ok_or_else(|| {
        "expected IP:PORT, an address of this machine and a port (127.0.0.1:6000; 0.0.0.0:6000 \
         for every interface; port 0 lets the kernel choose; --unix PATH for a Unix socket)"
            .to_string()
    })
}

/// `--connect`'s parser: the server's IP address (or `localhost`) and its
/// port, from 1 to 65535 (`192.168.1.20:6000`, `[::1]:6000`), or the rule
/// in words. Host names are not looked up: a lookup is a wait this program
/// could not bound (`getent hosts NAME` gives the address).
///
/// ```
/// use exp1_sockets::extras::connect_address;
/// assert_eq!(connect_address("192.168.1.20:6000").unwrap().to_string(), "192.168.1.20:6000");
/// assert_eq!(connect_address("[::1]:6000").unwrap().to_string(), "[::1]:6000");
/// for bad in ["", "lab-pc:6000", "127.0.0.1:0", "127.0.0.1", "6000"] {
///     assert!(connect_address(bad).unwrap_err().contains("expected HOST:PORT"), "{bad:?}");
/// }
/// ```
///
/// # Errors
/// The rule, whatever was wrong.
pub fn connect_address(text: &str) -> std::result::Result<Address, String> {
    ip_and_port(text)
        .filter(|addr| addr.port() != 0)
        .map(Address::Tcp)
        .ok_or_else(|| {
            "expected HOST:PORT, the server's IP address (or localhost) and its port from 1 to \
             65535 (192.168.1.20:6000, [::1]:6000); host names are not looked up: \
             `getent hosts NAME` gives the address"
                .to_string()
        })
}

/// `--unix`'s parser: a Unix socket's path (`/tmp/exp1.sock`, or `@name`
/// for a Linux abstract name, which leaves no file), at most 107 bytes,
/// or the rule in words.
///
/// ```
/// use exp1_sockets::extras::unix_address;
/// use ipc_core::connection::Address;
/// assert!(matches!(unix_address("/tmp/exp1.sock"), Ok(Address::Unix(_))));
/// assert!(matches!(unix_address("@exp1"), Ok(Address::Abstract(_))));
/// for bad in ["", "@", &"x".repeat(108)] {
///     assert!(unix_address(bad).unwrap_err().contains("expected a path"), "{bad:?}");
/// }
/// ```
///
/// # Errors
/// The rule, whatever was wrong.
pub fn unix_address(text: &str) -> std::result::Result<Address, String> {
    if text.is_empty() || text == "@" || text.len() > MAX_PATH || text.contains('\0') {
        return Err(format!(
            "expected a path of 1 to {MAX_PATH} bytes for the Unix socket (/tmp/exp1.sock), \
             or @NAME for an abstract one"
        ));
    }
    Ok(match Address::from(text) {
        Address::Tcp(_) => Address::Unix(text.into()),
        address => address,
    })
}

/// An authkey given with `--authkey`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Authkey(pub String);

/// `--authkey`'s parser: 1 to 256 bytes of printable text without
/// spaces, or the rule in words.
///
/// ```
/// use exp1_sockets::extras::authkey;
/// assert_eq!(authkey("s3cret").unwrap().0, "s3cret");
/// for bad in ["", "two words", "tab\t", &"k".repeat(257)] {
///     assert!(authkey(bad).unwrap_err().contains("expected 1 to 256"), "{bad:?}");
/// }
/// ```
///
/// # Errors
/// The rule, whatever was wrong.
pub fn authkey(text: &str) -> std::result::Result<Authkey, String> {
    let printable = text.chars().all(|c| !c.is_whitespace() && !c.is_control());
    if text.is_empty() || text.len() > MAX_KEY || !printable {
        return Err(format!(
            "expected 1 to {MAX_KEY} bytes of printable text without spaces for the authkey"
        ));
    }
    Ok(Authkey(text.to_owned()))
}

/// A fresh authkey: 16 random bytes (`rand`'s generator, a CSPRNG
/// seeded by the kernel), as 32 hex digits: the key is that text, so that
/// it can be typed on another machine's command line.
pub fn fresh_key() -> String {
    let bytes: [u8; 16] = rand::random();
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fresh_keys_are_32_hex_digits_and_differ() {
        let (a, b) = (fresh_key(), fresh_key());
        assert_eq!(a.len(), 32);
        assert!(a.bytes().all(|c| c.is_ascii_hexdigit()));
        assert_ne!(a, b);
        assert!(authkey(&a).is_ok());
    }
}
