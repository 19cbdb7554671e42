//! The message shapes both decode checks feed bytes to, beside the
//! struct of `order.rs`: shared by `tests/decode_property.rs` and the fuzz
//! target (`fuzz/fuzz_targets/decode.rs`, which includes this file by
//! path), so that the two check the same types.

pub type Mixed = (Vec<String>, Option<f64>, char);
pub type Nested = Vec<Vec<bool>>;
pub type Pair = (i32, String);
pub type Records = Option<Vec<(u16, i64)>>;
pub type Four = (u8, i16, f32, String);
pub type Chars = Vec<Option<char>>;
