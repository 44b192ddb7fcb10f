//! Sizes and bounds: the width of every field on the wire, the largest message and the last
//! refresh epoch. Depends on nothing else in the crate, so any module, and any transport,
//! can use it without pulling in the protocol.

/// Length of the version and type header of every message.
pub const HEADER_LEN: usize = 2;
/// A compressed SEC1 point.
pub const POINT_LEN: usize = 33;
/// A scalar mod q.
pub const SCALAR_LEN: usize = 32;
/// A hash, nonce, commitment or opening.
pub const HASH_LEN: usize = 32;
/// An integer mod N (or mod the Pedersen prime).
pub const MOD_N_LEN: usize = 256;
/// An integer mod N².
pub const MOD_NN_LEN: usize = 512;

/// The largest message of any protocol (party 0's ring-Pedersen parameter message): the frame
/// cap a transport needs. The crate root checks at compile time that it is exactly the
/// longest message.
pub const MAX_MSG_LEN: usize = 33_554;

/// The last epoch a share may reach; a share there can sign but not refresh. A limit of the
/// share format only: since protocol 6 refresh reduces x1 mod q before it adds ρ, so x1 < 2q
/// at every epoch (an older release's share, whose x1 grew by < q per epoch, is reduced at
/// its next refresh), and no bound on x1 depends on the epoch any more.
pub const MAX_EPOCH: u64 = (1 << 16) - 1;
