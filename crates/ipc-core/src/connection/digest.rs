//! The two hashes Python's authkey handshake uses, HMAC on top of them,
//! and a comparison of digests whose time does not depend on where they
//! differ.
//!
//! Python 3.11 and older answer a challenge with HMAC-MD5; 3.12 and newer
//! offer HMAC-SHA256 (`{sha256}`) and still accept HMAC-MD5 from older
//! peers. Both hashes are written here from their standards (MD5:
//! RFC 1321; SHA-256: FIPS 180-4; HMAC: RFC 2104), about a hundred lines,
//! rather than taken from crates: the handshake hashes a few dozen bytes
//! per connection, and the unit tests check every function against the
//! standards' own test vectors (the interop tests check them against
//! Python's `hmac` too).
//!
//! MD5 is broken as a collision-resistant hash; HMAC-MD5 is still an
//! unforged MAC in practice, and it is what Python 3.11 speaks. It is used
//! only when the peer asks for it.

/// A hash the handshake may use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Hash {
    /// MD5 (RFC 1321): 16-byte digests.
    Md5,
    /// SHA-256 (FIPS 180-4): 32-byte digests.
    Sha256,
}

/// Both hashes work on 64-byte blocks.
const BLOCK: usize = 64;

impl Hash {
    /// The name Python gives it in a `{name}` prefix.
    pub(crate) fn name(self) -> &'static str {
        match self {
            Hash::Md5 => "md5",
            Hash::Sha256 => "sha256",
        }
    }

    /// The hash whose Python name is `name`, if it is one of ours.
    pub(crate) fn from_name(name: &[u8]) -> Option<Hash> {
        match name {
            b"md5" => Some(Hash::Md5),
            b"sha256" => Some(Hash::Sha256),
            _ => None,
        }
    }

    /// The length of a digest in bytes.
    pub(crate) fn len(self) -> usize {
        match self {
            Hash::Md5 => 16,
            Hash::Sha256 => 32,
        }
    }

    /// The digest of `data`.
    pub(crate) fn digest(self, data: &[u8]) -> Vec<u8> {
        match self {
            Hash::Md5 => md5(data).to_vec(),
            Hash::Sha256 => sha256(data).to_vec(),
        }
    }

    /// HMAC (RFC 2104) of `message` under `key`.
    pub(crate) fn hmac(self, key: &[u8], message: &[u8]) -> Vec<u8> {
        let mut block = [0_u8; BLOCK];
        if key.len() > BLOCK {
            let hashed = self.digest(key);
            block[..hashed.len()].copy_from_slice(&hashed);
        } else {
            block[..key.len()].copy_from_slice(key);
        }
        let mut inner = Vec::with_capacity(BLOCK + message.len());
        inner.extend(block.iter().map(|b| b ^ 0x36));
        inner.extend_from_slice(message);
        let inner = self.digest(&inner);
        let mut outer = Vec::with_capacity(BLOCK + inner.len());
        outer.extend(block.iter().map(|b| b ^ 0x5c));
        outer.extend_from_slice(&inner);
        self.digest(&outer)
    }
}

/// True when `a` and `b` are equal, in a time that depends on their
/// lengths only (Python's `hmac.compare_digest`): a peer timing the
/// refusals learns nothing about how many leading bytes it got right.
pub(crate) fn same_digest(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    let diff = a.iter().zip(b).fold(0_u8, |acc, (x, y)| acc | (x ^ y));
    // Keep the compiler from turning the fold into an early exit.
    std::hint::black_box(diff) == 0
}

/// The message padded to whole blocks: a 1 bit, zeros, and the length in
/// bits in the last 8 bytes (little-endian for MD5, big-endian for SHA-256).
fn padded(data: &[u8], big_endian: bool) -> Vec<u8> {
    let bits = (data.len() as u64).wrapping_mul(8);
    let mut out = Vec::with_capacity(data.len() + 2 * BLOCK);
    out.extend_from_slice(data);
    out.push(0x80);
    while out.len() % BLOCK != BLOCK - 8 {
        out.push(0);
    }
    out.extend_from_slice(&if big_endian {
        bits.to_be_bytes()
    } else {
        bits.to_le_bytes()
    });
    out
}

/// Per-round shift amounts of MD5.
const MD5_SHIFTS: [u32; 64] = [
    7, 12, 17, 22, 7, 12, 17, 22, 7, 12, 17, 22, 7, 12, 17, 22, //
    5, 9, 14, 20, 5, 9, 14, 20, 5, 9, 14, 20, 5, 9, 14, 20, //
    4, 11, 16, 23, 4, 11, 16, 23, 4, 11, 16, 23, 4, 11, 16, 23, //
    6, 10, 15, 21, 6, 10, 15, 21, 6, 10, 15, 21, 6, 10, 15, 21,
];

/// MD5's constants: the integer part of `abs(sin(i + 1)) * 2^32`.
const MD5_K: [u32; 64] = [
    0xd76aa478, 0xe8c7b756, 0x242070db, 0xc1bdceee, 0xf57c0faf, 0x4787c62a, 0xa8304613, 0xfd469501,
    0x698098d8, 0x8b44f7af, 0xffff5bb1, 0x895cd7be, 0x6b901122, 0xfd987193, 0xa679438e, 0x49b40821,
    0xf61e2562, 0xc040b340, 0x265e5a51, 0xe9b6c7aa, 0xd62f105d, 0x02441453, 0xd8a1e681, 0xe7d3fbc8,
    0x21e1cde6, 0xc33707d6, 0xf4d50d87, 0x455a14ed, 0xa9e3e905, 0xfcefa3f8, 0x676f02d9, 0x8d2a4c8a,
    0xfffa3942, 0x8771f681, 0x6d9d6122, 0xfde5380c, 0xa4beea44, 0x4bdecfa9, 0xf6bb4b60, 0xbebfbc70,
    0x289b7ec6, 0xeaa127fa, 0xd4ef3085, 0x04881d05, 0xd9d4d039, 0xe6db99e5, 0x1fa27cf8, 0xc4ac5665,
    0xf4292244, 0x432aff97, 0xab9423a7, 0xfc93a039, 0x655b59c3, 0x8f0ccc92, 0xffeff47d, 0x85845dd1,
    0x6fa87e4f, 0xfe2ce6e0, 0xa3014314, 0x4e0811a1, 0xf7537e82, 0xbd3af235, 0x2ad7d2bb, 0xeb86d391,
];

/// MD5 (RFC 1321).
pub(crate) fn md5(data: &[u8]) -> [u8; 16] {
    let mut state: [u32; 4] = [0x67452301, 0xefcdab89, 0x98badcfe, 0x10325476];
    for block in padded(data, false).chunks_exact(BLOCK) {
        let mut m = [0_u32; 16];
        for (word, bytes) in m.iter_mut().zip(block.chunks_exact(4)) {
            *word = u32::from_le_bytes([bytes[0], bytes[1], bytes[2], bytes[3]]);
        }
        let [mut a, mut b, mut c, mut d] = state;
        for i in 0..64 {
            let (f, g) = match i / 16 {
                0 => ((b & c) | (!b & d), i),
                1 => ((d & b) | (!d & c), (5 * i + 1) % 16),
                2 => (b ^ c ^ d, (3 * i + 5) % 16),
                _ => (c ^ (b | !d), (7 * i) % 16),
            };
            let f = f.wrapping_add(a).wrapping_add(MD5_K[i]).wrapping_add(m[g]);
            a = d;
            d = c;
            c = b;
            b = b.wrapping_add(f.rotate_left(MD5_SHIFTS[i]));
        }
        for (s, v) in state.iter_mut().zip([a, b, c, d]) {
            *s = s.wrapping_add(v);
        }
    }
    let mut out = [0; 16];
    for (bytes, word) in out.chunks_exact_mut(4).zip(state) {
        bytes.copy_from_slice(&word.to_le_bytes());
    }
    out
}

/// SHA-256's constants: the first 32 bits of the fractional parts of the
/// cube roots of the first 64 primes.
const SHA256_K: [u32; 64] = [
    0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
    0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
    0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
    0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
    0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
    0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
    0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
    0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
];

/// SHA-256's initial state: the first 32 bits of the fractional parts of
/// the square roots of the first 8 primes.
const SHA256_H: [u32; 8] = [
    0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19,
];

/// SHA-256 (FIPS 180-4).
pub(crate) fn sha256(data: &[u8]) -> [u8; 32] {
    let mut state = SHA256_H;
    for block in padded(data, true).chunks_exact(BLOCK) {
        let mut w = [0_u32; 64];
        for (word, bytes) in w.iter_mut().zip(block.chunks_exact(4)) {
            *word = u32::from_be_bytes([bytes[0], bytes[1], bytes[2], bytes[3]]);
        }
        for i in 16..64 {
            let s0 = w[i - 15].rotate_right(7) ^ w[i - 15].rotate_right(18) ^ (w[i - 15] >> 3);
            let s1 = w[i - 2].rotate_right(17) ^ w[i - 2].rotate_right(19) ^ (w[i - 2] >> 10);
            w[i] = w[i - 16]
                .wrapping_add(s0)
                .wrapping_add(w[i - 7])
                .wrapping_add(s1);
        }
        let [mut a, mut b, mut c, mut d, mut e, mut f, mut g, mut h] = state;
        for i in 0..64 {
            let s1 = e.rotate_right(6) ^ e.rotate_right(11) ^ e.rotate_right(25);
            let ch = (e & f) ^ (!e & g);
            let t1 = h
                .wrapping_add(s1)
                .wrapping_add(ch)
                .wrapping_add(SHA256_K[i])
                .wrapping_add(w[i]);
            let s0 = a.rotate_right(2) ^ a.rotate_right(13) ^ a.rotate_right(22);
            let maj = (a & b) ^ (a & c) ^ (b & c);
            let t2 = s0.wrapping_add(maj);
            h = g;
            g = f;
            f = e;
            e = d.wrapping_add(t1);
            d = c;
            c = b;
            b = a;
            a = t1.wrapping_add(t2);
        }
        for (s, v) in state.iter_mut().zip([a, b, c, d, e, f, g, h]) {
            *s = s.wrapping_add(v);
        }
    }
    let mut out = [0; 32];
    for (bytes, word) in out.chunks_exact_mut(4).zip(state) {
        bytes.copy_from_slice(&word.to_be_bytes());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hex(bytes: &[u8]) -> String {
        bytes.iter().map(|b| format!("{b:02x}")).collect()
    }

    /// RFC 1321's test suite, FIPS 180's examples, and the lengths around
    /// the padding's edge (55, 56 and 64 bytes).
    #[test]
    fn the_hashes_match_the_standards_vectors() {
        let cases: [(&[u8], &str, &str); 10] = [
            (
                b"",
                "d41d8cd98f00b204e9800998ecf8427e",
                "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
            ),
            (
                b"a",
                "0cc175b9c0f1b6a831c399e269772661",
                "ca978112ca1bbdcafac231b39a23dc4da786eff8147c4e72b9807785afee48bb",
            ),
            (
                b"abc",
                "900150983cd24fb0d6963f7d28e17f72",
                "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
            ),
            (
                b"message digest",
                "f96b697d7cb7938d525a2f31aaf161d0",
                "f7846f55cf23e14eebeab5b4e1550cad5b509e3348fbc4efa3a1413d393cb650",
            ),
            (
                b"abcdefghijklmnopqrstuvwxyz",
                "c3fcd3d76192e4007dfb496cca67e13b",
                "71c480df93d6ae2f1efad1447c66c9525e316218cf51fc8d9ed832f2daf18b73",
            ),
            (
                b"12345678901234567890123456789012345678901234567890123456789012345678901234567890",
                "57edf4a22be3c955ac49da2e2107b67a",
                "f371bc4a311f2b009eef952dd83ca80e2b60026c8e935592d0f9c308453c813e",
            ),
            (
                b"abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
                "8215ef0796a20bcaaae116d3876c664a",
                "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1",
            ),
            (
                &[b'a'; 55],
                "ef1772b6dff9a122358552954ad0df65",
                "9f4390f8d30c2dd92ec9f095b65e2b9ae9b0a925a5258e241c9f1e910f734318",
            ),
            (
                &[b'a'; 56],
                "3b0c8ac703f828b04c6c197006d17218",
                "b35439a4ac6f0948b6d6f9e3c6af0f5f590ce20f1bde7090ef7970686ec6738a",
            ),
            (
                &[b'a'; 64],
                "014842d480b571495a4a0363793f7367",
                "ffe054fe7ae0cb6dc65c3af9b61d5209f439851db43d0ba5997337df154668eb",
            ),
        ];
        for (input, md5_hex, sha256_hex) in cases {
            assert_eq!(hex(&md5(input)), md5_hex, "md5 of {} bytes", input.len());
            assert_eq!(
                hex(&sha256(input)),
                sha256_hex,
                "sha256 of {} bytes",
                input.len()
            );
        }
        let million = vec![b'a'; 1_000_000];
        assert_eq!(hex(&md5(&million)), "7707d6ae4e027c70eea2a935c2296f21");
        assert_eq!(
            hex(&sha256(&million)),
            "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0"
        );
    }

    /// RFC 2202 (HMAC-MD5) and RFC 4231 (HMAC-SHA256), test cases 1, 2
    /// and the one whose key is longer than a block (hashed first).
    #[test]
    fn hmac_matches_rfc_2202_and_4231() {
        let long_message: &[u8] = b"Test Using Larger Than Block-Size Key - Hash Key First";
        let cases: [(Hash, &[u8], &[u8], &str); 6] = [
            (
                Hash::Md5,
                &[0x0b; 16],
                b"Hi There",
                "9294727a3638bb1c13f48ef8158bfc9d",
            ),
            (
                Hash::Md5,
                b"Jefe",
                b"what do ya want for nothing?",
                "750c783e6ab0b503eaa86e310a5db738",
            ),
            (
                Hash::Md5,
                &[0xaa; 80],
                long_message,
                "6b1ab7fe4bd7bf8f0b62e6ce61b9d0cd",
            ),
            (
                Hash::Sha256,
                &[0x0b; 20],
                b"Hi There",
                "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7",
            ),
            (
                Hash::Sha256,
                b"Jefe",
                b"what do ya want for nothing?",
                "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843",
            ),
            (
                Hash::Sha256,
                &[0xaa; 131],
                long_message,
                "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54",
            ),
        ];
        for (hash, key, message, want) in cases {
            let mac = hash.hmac(key, message);
            assert_eq!(mac.len(), hash.len());
            assert_eq!(hex(&mac), want, "{hash:?} with a {}-byte key", key.len());
        }
    }

    #[test]
    fn digests_compare_by_every_byte() {
        assert!(same_digest(b"", b""));
        assert!(same_digest(b"abc", b"abc"));
        assert!(!same_digest(b"abc", b"abd"));
        assert!(!same_digest(b"xbc", b"abc"));
        assert!(!same_digest(b"abc", b"abcd"), "lengths differ");
    }

    #[test]
    fn names_are_pythons() {
        for hash in [Hash::Md5, Hash::Sha256] {
            assert_eq!(Hash::from_name(hash.name().as_bytes()), Some(hash));
        }
        assert_eq!(Hash::from_name(b"sha384"), None);
        assert_eq!(
            Hash::from_name(b"MD5"),
            None,
            "Python's names are lower case"
        );
    }
}
