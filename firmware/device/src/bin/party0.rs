//! Party 0 (protocol role P1) in firmware: the host provisions a share and party 0's
//! ring-Pedersen secret (made on the host: a real party 0 searches the secret's safe primes
//! once, which this demo skips with fixture primes) and plays party 1 over the UART. The firmware signs with the provisioned share,
//! verifying party 1's π_c3 (message 4) before it decrypts anything, and then runs keygen and
//! refresh itself under the pinned secret, each with a Paillier key whose primes it searches.
#![no_std]
#![no_main]

use cortex_m_rt::entry;
use ecdsa2pc_core::{
    Context, Error, KeyShare, KeyShareP1, Message, PaillierSecretKey, Prime, Result,
    RingPedersenSecret, keygen, peer_abort, refresh, sign, work::Sequential,
};
use ecdsa2pc_firmware::{
    board::StandInRng,
    link::Link,
    serve::{self, serve},
};
use ecdsa2pc_firmware_proto::{self as proto, SIGNATURE_LEN, cmd};
use zeroize::Zeroizing;

/// The session context of every run: party 0's and party 1's ids and the channel binding.
fn ctx() -> Context<'static> {
    Context {
        own_pid: proto::PID_PARTY0,
        peer_pid: proto::PID_PARTY1,
        channel_binding: proto::CHANNEL_BINDING,
    }
}

#[entry]
fn main() -> ! {
    // Party 0's parameter secret (pinned by provisioning) and its share. Each run writes its
    // result into these slots from its own frame: returned by value, a share or secret would
    // leave a copy in each frame it passes through, counted by the RAM caps.
    let mut params: Option<RingPedersenSecret> = None;
    let mut share: Option<KeyShareP1> = None;
    serve(|link, rng, command, argument| match command {
        cmd::PROVISION => provision(link, &mut params, &mut share).map(|()| None),
        cmd::KEYGEN => {
            let pinned = params.as_ref().ok_or(Error::ParamsMismatch)?;
            run_keygen(link, rng, pinned, &mut share).map(|()| None)
        }
        cmd::SIGN => {
            let digest = serve::digest(argument)?;
            let (s, p) = share
                .as_mut()
                .zip(params.as_ref())
                .ok_or(Error::InvalidShare)?;
            run_sign(link, rng, s, p, &digest).map(Some)
        }
        cmd::REFRESH => run_refresh(link, rng, &mut share).map(|()| None),
        _ => Err(Error::Malformed),
    })
}

/// Receives the share and the parameter secret (a frame each, both read before anything is
/// decoded, so that a bad first frame leaves the stream in step) and decodes them, one timed
/// step each; they must belong together.
///
/// Decoding the share rebuilds the Paillier key from the primes and checks the share
/// (x1·G = Q1, Dec(c_key) = x1); decoding the secret recomputes g = h^λ and makes the public
/// checks on the parameters.
///
/// # Errors
/// [`Error::Malformed`] for an oversized frame; [`Error::InvalidShare`] or
/// [`Error::PedersenParameters`] for a damaged encoding; [`Error::ParamsMismatch`] if the
/// share pinned other parameters. A failed provisioning leaves both slots empty, not holding
/// the previous share or secret either.
#[inline(never)]
fn provision(
    link: &mut Link,
    params_out: &mut Option<RingPedersenSecret>,
    share_out: &mut Option<KeyShareP1>,
) -> Result<()> {
    *params_out = None;
    *share_out = None;
    // The encodings hold x1, the Paillier primes and λ in the clear: wiped when this frame
    // ends, on every path. The decoded share and secret move into the slots; the copies those
    // moves leave in freed stack are painted over when the run ends (`serve`).
    let mut share_buf = Zeroizing::new([0u8; KeyShareP1::ENCODED_LEN]);
    let mut params_buf = Zeroizing::new([0u8; RingPedersenSecret::ENCODED_LEN]);
    let share_len = link.recv(share_buf.as_mut_slice());
    let params_len = link.recv(params_buf.as_mut_slice());
    let share_bytes = share_buf.get(..share_len?).ok_or(Error::Malformed)?;
    let params_bytes = params_buf.get(..params_len?).ok_or(Error::Malformed)?;
    link.step_start();
    let share = KeyShareP1::decode(share_bytes);
    link.step_stop();
    link.step_start();
    let params = RingPedersenSecret::decode(params_bytes);
    link.step_stop();
    let (share, params) = (share?, params?);
    if params.params().hash() != share.params_hash() {
        return Err(Error::ParamsMismatch);
    }
    *params_out = Some(params);
    *share_out = Some(share);
    Ok(())
}

/// Signing as P1, four timed steps: → msg 1; msg 2 → msg 3; msg 4 → π_c3 verified (timed
/// even when it fails, so that a refused proof shows what its verification cost); decryption
/// and the signature check → msg 5.
///
/// Each phase is its own `#[inline(never)]` function, so that message 4 (4 KB decoded) and
/// the states of the other phases are not all in one frame under π_c3's verification, the
/// deepest point of the run (the 64 KiB cap).
#[inline(never)]
fn run_sign(
    link: &mut Link,
    rng: &mut StandInRng,
    share: &mut KeyShareP1,
    params: &RingPedersenSecret,
    digest: &sign::Digest,
) -> Result<[u8; SIGNATURE_LEN]> {
    let state = sign_open(link, rng, share, params, digest)?;
    let decrypting = sign_check(link, state)?;
    sign_finish(link, decrypting)
}

/// → msg 1, msg 2 → msg 3.
#[inline(never)]
fn sign_open<'s>(
    link: &mut Link,
    rng: &mut StandInRng,
    share: &'s mut KeyShareP1,
    params: &'s RingPedersenSecret,
    digest: &sign::Digest,
) -> Result<sign::p1::AwaitMsg4<'s>> {
    link.step_start();
    let (state, m1) = sign::p1::start(rng, share, params, &ctx(), digest)?;
    link.send_message::<_, { sign::Msg1::LEN }>(&m1)?;
    let m2 = link.recv_message::<sign::Msg2, { sign::Msg2::LEN }>()?;
    let (state, m3) = state.on_msg2(rng, &m2)?;
    link.send_message::<_, { sign::Msg3::LEN }>(&m3)?;
    Ok(state)
}

/// Msg 4 → π_c3 verified. π_c3 first: nothing is decrypted unless it verifies, and a failure
/// leaves the share unlocked (party 1 learns nothing that depends on x1 from it).
#[inline(never)]
fn sign_check<'s>(
    link: &mut Link,
    state: sign::p1::AwaitMsg4<'s>,
) -> Result<sign::p1::AwaitDecryption<'s>> {
    // Decoded in place: a decoded copy returned by value would sit in this frame as well.
    let mut m4 = sign::Msg4::EMPTY;
    link.recv_into::<_, { sign::Msg4::LEN }>(&mut m4)?;
    let checked = state.check_msg4(&m4);
    link.step_stop();
    checked
}

/// Decryption (both CRT halves) and the signature check → msg 5.
#[inline(never)]
fn sign_finish(
    link: &mut Link,
    decrypting: sign::p1::AwaitDecryption<'_>,
) -> Result<[u8; SIGNATURE_LEN]> {
    link.step_start();
    let p = decrypting.decrypt_half(Prime::P);
    let q = decrypting.decrypt_half(Prime::Q);
    let (signature, m5) = decrypting.finish(&p, &q)?;
    link.send_message::<_, { sign::Msg5::LEN }>(&m5)?;
    let mut out = [0u8; SIGNATURE_LEN];
    out.copy_from_slice(&signature.to_bytes());
    Ok(out)
}

/// Keygen as P1 under the pinned parameter secret, three timed steps: the Paillier key (its
/// prime search), → msg 1, msg 2 → msg 3. The new share goes to `out` (replacing the one
/// there) only once party 1 has acknowledged that it stored the same share
/// ([`proto::keygen_stored`]); a failed run, party 1's abort or an acknowledgement of
/// another share leaves `out` as it was. (A device with storage writes the share as pending
/// before message 3 leaves and promotes it on the acknowledgement, as net-std does.)
///
/// Each phase writes its result into a slot of its caller's (`&mut Option<…>`) from its own
/// `#[inline(never)]` frame: returned by value through `?`, each 31 KB state would have a
/// copy in every frame it passes, all under the proofs' arithmetic. The slots are filled
/// whenever a phase returns `Ok`; [`taken`] says so where one is emptied.
#[inline(never)]
fn run_keygen(
    link: &mut Link,
    rng: &mut StandInRng,
    params: &RingPedersenSecret,
    out: &mut Option<KeyShareP1>,
) -> Result<()> {
    let mut state = None;
    keygen_start(link, rng, params, &mut state)?;
    let m2 = link.recv_message::<keygen::Msg2, { keygen::Msg2::LEN }>()?;
    let mut share = None;
    keygen_answer(link, rng, &mut state, &m2, &mut share)?;
    let fingerprint = taken(&mut share)?.fingerprint();
    await_stored(link, &fingerprint)?;
    *out = share;
    Ok(())
}

/// Waits for party 1's acknowledgement that it stored the share with `fingerprint`.
///
/// # Errors
/// Party 1's abort reason; [`Error::SessionMismatch`] for an acknowledgement of another
/// share; [`Error::Malformed`] for a frame longer than an acknowledgement.
#[inline(never)]
fn await_stored(link: &mut Link, fingerprint: &[u8; 32]) -> Result<()> {
    let mut buf = [0u8; proto::KEYGEN_STORED_LEN];
    let len = link.recv(&mut buf)?;
    let frame = buf.get(..len).ok_or(Error::Malformed)?;
    if let Some(e) = peer_abort(frame) {
        return Err(e);
    }
    if frame == proto::keygen_stored(fingerprint) {
        Ok(())
    } else {
        Err(Error::SessionMismatch)
    }
}

/// The value in a slot that a phase filled before returning `Ok` (each phase here does).
/// Should one ever return `Ok` without filling it, the run fails with
/// [`Error::InvalidShare`] (no share made) rather than going on without its state.
fn taken<T>(slot: &mut Option<T>) -> Result<&mut T> {
    slot.as_mut().ok_or(Error::InvalidShare)
}

/// The Paillier key, then → msg 1; the state goes to `out`.
#[inline(never)]
fn keygen_start(
    link: &mut Link,
    rng: &mut StandInRng,
    params: &RingPedersenSecret,
    out: &mut Option<keygen::p1::AwaitMsg2>,
) -> Result<()> {
    let key = paillier_key(link, rng);
    link.step_start();
    let m1 = keygen::p1::start_into(rng, &ctx(), key, params.params(), None, &Sequential, out)?;
    link.send_message::<_, { keygen::Msg1::LEN }>(&m1)
}

/// Msg 2 → msg 3 (21 KB, written in place by the core into this frame's buffer, its only
/// copy); the share goes to `out`.
#[inline(never)]
fn keygen_answer(
    link: &mut Link,
    rng: &mut StandInRng,
    state: &mut Option<keygen::p1::AwaitMsg2>,
    m2: &keygen::Msg2,
    out: &mut Option<KeyShareP1>,
) -> Result<()> {
    let mut m3 = keygen::Msg3::EMPTY;
    keygen::p1::AwaitMsg2::on_msg2_from(state, rng, m2, &Sequential, &mut m3, out)?;
    link.send_message::<_, { keygen::Msg3::LEN }>(&m3)
}

/// A fresh Paillier key (the search for its two primes), one timed step.
#[inline(never)]
fn paillier_key(link: &mut Link, rng: &mut StandInRng) -> PaillierSecretKey {
    link.step_start();
    let key = PaillierSecretKey::generate(rng);
    link.step_stop();
    key
}

/// Refresh of the share in `slot` as P1, four timed steps: the new Paillier key, → msg 1,
/// msg 2 → msg 3, msg 4 → msg 5. The new share replaces the old one once message 4 (party
/// 1's word that it stored the same new share) has passed every check, and message 5 then
/// tells party 1 that it is active; a failed run keeps the old share. (A device with storage
/// writes the new share as pending before message 3 leaves and promotes it here.) The phases
/// pass their states through their caller's slots, as keygen's ([`run_keygen`]); they
/// differ from keygen's in the core's types and calls only.
#[inline(never)]
fn run_refresh(link: &mut Link, rng: &mut StandInRng, slot: &mut Option<KeyShareP1>) -> Result<()> {
    let share = slot.as_ref().ok_or(Error::InvalidShare)?;
    let mut pending = None;
    refresh_open(link, rng, share, &mut pending)?;
    refresh_confirm(link, &mut pending, slot)?;
    link.send_message::<_, { refresh::Msg5::LEN }>(&refresh::Msg5)
}

/// The new Paillier key, → msg 1, msg 2 → msg 3; the pending state goes to `out`.
#[inline(never)]
fn refresh_open(
    link: &mut Link,
    rng: &mut StandInRng,
    share: &KeyShareP1,
    out: &mut Option<refresh::p1::AwaitMsg4>,
) -> Result<()> {
    let mut state = None;
    refresh_start(link, rng, share, &mut state)?;
    let m2 = link.recv_message::<refresh::Msg2, { refresh::Msg2::LEN }>()?;
    refresh_answer(link, rng, &mut state, &m2, out)
}

/// The new Paillier key, then → msg 1; the state goes to `out`.
#[inline(never)]
fn refresh_start<'s>(
    link: &mut Link,
    rng: &mut StandInRng,
    share: &'s KeyShareP1,
    out: &mut Option<refresh::p1::AwaitMsg2<'s>>,
) -> Result<()> {
    let key = paillier_key(link, rng);
    link.step_start();
    let m1 = refresh::p1::start_into(rng, share, &ctx(), key, None, &Sequential, out)?;
    link.send_message::<_, { refresh::Msg1::LEN }>(&m1)
}

/// Msg 2 → msg 3 (20 KB, written in place as keygen's); the pending state goes to `out`.
#[inline(never)]
fn refresh_answer(
    link: &mut Link,
    rng: &mut StandInRng,
    state: &mut Option<refresh::p1::AwaitMsg2<'_>>,
    m2: &refresh::Msg2,
    out: &mut Option<refresh::p1::AwaitMsg4>,
) -> Result<()> {
    let mut m3 = refresh::Msg3::EMPTY;
    refresh::p1::AwaitMsg2::on_msg2_from(state, rng, m2, &Sequential, &mut m3, out)?;
    link.send_message::<_, { refresh::Msg3::LEN }>(&m3)
}

/// Msg 4 → the new share, into `out` in place of the old one, which stays there if message
/// 4 is refused (the step ends when message 5 leaves).
#[inline(never)]
fn refresh_confirm(
    link: &mut Link,
    pending: &mut Option<refresh::p1::AwaitMsg4>,
    out: &mut Option<KeyShareP1>,
) -> Result<()> {
    let m4 = link.recv_message::<refresh::Msg4, { refresh::Msg4::LEN }>()?;
    let pending = pending.take().ok_or(Error::InvalidShare)?;
    *out = Some(pending.on_msg4(&m4)?);
    Ok(())
}
