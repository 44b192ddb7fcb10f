//! Party 1 (protocol role P2) in firmware: verification of party 0's ring-Pedersen parameters,
//! key generation under them, signing and key refresh against party 0 on the host, over the
//! UART.
#![no_std]
#![no_main]

use cortex_m_rt::entry;
use ecdsa2pc_core::{
    Context, Error, KeyShareP2, Message, ParamsMsg, Result, RingPedersenParams, keygen, refresh,
    sign,
};
use ecdsa2pc_firmware::{
    board::StandInRng,
    link::Link,
    serve::{self, serve},
};
use ecdsa2pc_firmware_proto::{self as proto, SIGNATURE_LEN, cmd};

fn ctx() -> Context<'static> {
    Context {
        own_pid: proto::PID_PARTY1,
        peer_pid: proto::PID_PARTY0,
        channel_binding: proto::CHANNEL_BINDING,
    }
}

#[entry]
fn main() -> ! {
    // Party 0's parameters once verified (pinned into the share by keygen), and the share.
    // Each run writes its result into these slots from its own frame: a share returned by
    // value would leave a copy in every frame it passes through, all counted by the RAM cap.
    let mut params: Option<RingPedersenParams> = None;
    let mut share: Option<KeyShareP2> = None;
    serve(|link, rng, command, argument| match command {
        cmd::PARAMS => receive_params(link, &mut params).map(|()| None),
        cmd::KEYGEN => {
            let pinned = params.as_ref().ok_or(Error::ParamsMismatch)?;
            run_keygen(link, rng, pinned, &mut share).map(|()| None)
        }
        cmd::SIGN => {
            let digest = serve::digest(argument)?;
            let s = share.as_ref().ok_or(Error::InvalidShare)?;
            run_sign(link, rng, s, &digest).map(Some)
        }
        cmd::REFRESH => run_refresh(link, rng, &mut share).map(|()| None),
        _ => Err(Error::Malformed),
    })
}

/// The parameter message → verified parameters in `out`: one timed step, Π^prm's
/// verification. Parameters that fail leave `out` as it was.
#[inline(never)]
fn receive_params(link: &mut Link, out: &mut Option<RingPedersenParams>) -> Result<()> {
    // 33.6 KB, larger than keygen's message 3 (20.6 KB): decoded in place, and verified in a frame of
    // its own once the receive buffer is gone.
    let mut msg = ParamsMsg::EMPTY;
    link.recv_into::<_, { ParamsMsg::LEN }>(&mut msg)?;
    *out = Some(verify_params(&msg)?);
    link.step_stop();
    Ok(())
}

/// The public checks on the parameters and Π^prm (g ∈ ⟨h⟩), bound to party 0's id.
#[inline(never)]
fn verify_params(msg: &ParamsMsg) -> Result<RingPedersenParams> {
    msg.verify(&proto::PID_PARTY0)
}

/// Keygen under `params`; the new share goes to `out` (a failed run leaves `out` as it was).
#[inline(never)]
fn run_keygen(
    link: &mut Link,
    rng: &mut StandInRng,
    params: &RingPedersenParams,
    out: &mut Option<KeyShareP2>,
) -> Result<()> {
    let state = keygen_start(link, rng, params)?;
    keygen_finish(link, rng, state, out)
}

/// Keygen message 1 → message 2 (its own frame: Msg1's decoding is done before Msg3 comes).
#[inline(never)]
fn keygen_start(
    link: &mut Link,
    rng: &mut StandInRng,
    params: &RingPedersenParams,
) -> Result<keygen::p2::AwaitMsg3> {
    let m1 = link.recv_message::<keygen::Msg1, { keygen::Msg1::LEN }>()?;
    let (state, m2) = keygen::p2::start(rng, &ctx(), &m1, params)?;
    link.send_message::<_, { keygen::Msg2::LEN }>(&m2)?;
    Ok(state)
}

/// Keygen message 3 → share.
#[inline(never)]
fn keygen_finish(
    link: &mut Link,
    rng: &mut StandInRng,
    state: keygen::p2::AwaitMsg3,
    out: &mut Option<KeyShareP2>,
) -> Result<()> {
    // 21 KB: decoded in place, since every copy of it counts against the RAM cap.
    let mut m3 = keygen::Msg3::EMPTY;
    link.recv_into::<_, { keygen::Msg3::LEN }>(&mut m3)?;
    keygen_verify(rng, state, &m3, out)?;
    link.step_stop();
    Ok(())
}

/// P2's verification of message 3, in its own frame: inlined, its locals would sit next to
/// the 21 KB message while the message's frame buffer is still on the stack.
#[inline(never)]
fn keygen_verify(
    rng: &mut StandInRng,
    state: keygen::p2::AwaitMsg3,
    m3: &keygen::Msg3,
    out: &mut Option<KeyShareP2>,
) -> Result<()> {
    *out = Some(state.on_msg3(rng, m3)?);
    Ok(())
}

/// Signing as P2, four timed steps: the message-independent work (`Presign`: k2, R2 and
/// π_c3's commitments, which a device would do ahead of time, while idle), msg 1 → msg 2,
/// msg 3 → msg 4 (c and the rest of π_c3), msg 5 → signature.
///
/// Each phase is its own `#[inline(never)]` function: as one function, the core's steps
/// inlined into it laid the presign, both states, the five messages and π_c3's statement
/// side by side in one 58 KB frame, under every later call (party 1's signing then needed
/// 104.7 KiB; split, the frames of finished phases are gone).
#[inline(never)]
fn run_sign(
    link: &mut Link,
    rng: &mut StandInRng,
    share: &KeyShareP2,
    digest: &sign::Digest,
) -> Result<[u8; SIGNATURE_LEN]> {
    let state = sign_open(link, rng, share, digest)?;
    let state = sign_prove(link, rng, state)?;
    sign_finish(link, state)
}

/// Presign, then msg 1 → msg 2.
#[inline(never)]
fn sign_open<'s>(
    link: &mut Link,
    rng: &mut StandInRng,
    share: &'s KeyShareP2,
    digest: &sign::Digest,
) -> Result<sign::p2::AwaitMsg3<'s>> {
    link.step_start();
    let pre = sign::p2::Presign::new(rng, share);
    link.step_stop();
    let m1 = link.recv_message::<sign::Msg1, { sign::Msg1::LEN }>()?;
    let (state, m2) = sign::p2::start_with(rng, share, &ctx(), digest, &m1, Some(pre))?;
    link.send_message::<_, { sign::Msg2::LEN }>(&m2)?;
    Ok(state)
}

/// Msg 3 → msg 4: c and the rest of π_c3.
#[inline(never)]
fn sign_prove<'s>(
    link: &mut Link,
    rng: &mut StandInRng,
    state: sign::p2::AwaitMsg3<'s>,
) -> Result<sign::p2::AwaitMsg5<'s>> {
    let m3 = link.recv_message::<sign::Msg3, { sign::Msg3::LEN }>()?;
    let (state, m4) = state.on_msg3(rng, &m3)?;
    link.send_message::<_, { sign::Msg4::LEN }>(&m4)?;
    Ok(state)
}

/// Msg 5 → signature.
#[inline(never)]
fn sign_finish(link: &mut Link, state: sign::p2::AwaitMsg5<'_>) -> Result<[u8; SIGNATURE_LEN]> {
    let m5 = link.recv_message::<sign::Msg5, { sign::Msg5::LEN }>()?;
    let signature = state.on_msg5(&m5)?;
    link.step_stop();
    let mut out = [0u8; SIGNATURE_LEN];
    out.copy_from_slice(&signature.to_bytes());
    Ok(out)
}

/// Refresh of the share in `slot`, two-phase as docs/PROTOCOL.md has it: the new share is
/// pending from message 4 on, and replaces the old one only when message 5 says party 0 made
/// its own active. A device with storage writes it as pending before message 4 leaves and
/// keeps the old share until then (after an interruption, until the next session settles
/// which epoch both hold); this demo keeps shares in RAM only, so a run that fails keeps the
/// old share.
#[inline(never)]
fn run_refresh(link: &mut Link, rng: &mut StandInRng, slot: &mut Option<KeyShareP2>) -> Result<()> {
    let share = slot.as_ref().ok_or(Error::InvalidShare)?;
    let m1 = link.recv_message::<refresh::Msg1, { refresh::Msg1::LEN }>()?;
    let (state, m2) = refresh::p2::start(rng, share, &ctx(), &m1)?;
    link.send_message::<_, { refresh::Msg2::LEN }>(&m2)?;
    // 20 KB: decoded in place, as keygen's message 3, since every copy counts against the cap.
    let mut m3 = refresh::Msg3::EMPTY;
    link.recv_into::<_, { refresh::Msg3::LEN }>(&mut m3)?;
    let (next, m4) = refresh_verify(rng, state, &m3)?;
    link.send_message::<_, { refresh::Msg4::LEN }>(&m4)?;
    link.recv_message::<refresh::Msg5, { refresh::Msg5::LEN }>()?;
    *slot = Some(next);
    Ok(())
}

/// P2's verification of refresh message 3, in its own frame (as [`keygen_verify`]).
#[inline(never)]
fn refresh_verify(
    rng: &mut StandInRng,
    state: refresh::p2::AwaitMsg3<'_>,
    m3: &refresh::Msg3,
) -> Result<(KeyShareP2, refresh::Msg4)> {
    state.on_msg3(rng, m3)
}
