//! Party 0 (protocol role P1) in firmware, signing only: the host provisions the share and
//! party 0's ring-Pedersen secret (prime generation and key generation stay on the host) and
//! plays party 1 over the UART. Before it decrypts anything, the firmware verifies party 1's
//! π_c3 (message 4) with that secret.
#![no_std]
#![no_main]

use cortex_m_rt::entry;
use ecdsa2pc_core::{
    Context, Error, KeyShare, KeyShareP1, Message, Prime, Result, RingPedersenSecret, sign,
};
use ecdsa2pc_firmware::{
    board::StandInRng,
    link::Link,
    serve::{self, serve},
};
use ecdsa2pc_firmware_proto::{self as proto, SIGNATURE_LEN, cmd};
use zeroize::Zeroizing;

fn ctx() -> Context<'static> {
    Context {
        own_pid: proto::PID_PARTY0,
        peer_pid: proto::PID_PARTY1,
        channel_binding: proto::CHANNEL_BINDING,
    }
}

/// What provisioning leaves on the device: the share and the parameter secret it pinned.
struct Provisioned {
    share: KeyShareP1,
    params: RingPedersenSecret,
}

#[entry]
fn main() -> ! {
    // Written in place by provisioning, from its own frame: returned by value, the share and
    // secret would leave a copy in each frame they pass through, counted by signing's cap.
    let mut provisioned: Option<Provisioned> = None;
    serve(|link, rng, command, argument| match command {
        cmd::PROVISION => provision(link, &mut provisioned).map(|()| None),
        cmd::SIGN => {
            let digest = serve::digest(argument)?;
            let p = provisioned.as_mut().ok_or(Error::InvalidShare)?;
            run_sign(link, rng, &mut p.share, &p.params, &digest).map(Some)
        }
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
/// share pinned other parameters. A failed provisioning leaves `out` empty, not holding the
/// previous share either.
#[inline(never)]
fn provision(link: &mut Link, out: &mut Option<Provisioned>) -> Result<()> {
    *out = None;
    // The encodings hold x1, the Paillier primes and λ in the clear: wiped when this frame
    // ends, on every path. The decoded share and secret move into `out`; the copies those
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
    *out = Some(Provisioned { share, params });
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
