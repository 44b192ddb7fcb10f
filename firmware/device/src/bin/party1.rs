//! Party 1 (protocol role P2) in firmware: key generation, signing and key refresh against
//! party 0 on the host, over the UART.
#![no_std]
#![no_main]

use cortex_m_rt::entry;
use ecdsa2pc_core::{
    Context, Error, KeyShareP2, Message, Result, abort_message, keygen, refresh, sign,
};
use ecdsa2pc_firmware::{
    board::{self, StandInRng, Timer, Uart},
    link::{self, Link},
};
use ecdsa2pc_firmware_proto::{self as proto, SIGNATURE_LEN, cmd};

/// A command frame: the command byte and at most a digest or a seed.
const COMMAND_LEN: usize = 1 + proto::DIGEST_LEN;

fn ctx() -> Context<'static> {
    Context {
        own_pid: proto::PID_PARTY1,
        peer_pid: proto::PID_PARTY0,
        channel_binding: proto::CHANNEL_BINDING,
    }
}

#[entry]
fn main() -> ! {
    let mut link = Link::new(Uart::init(), Timer::start());
    let mut rng = link::wait_for_seed(&mut link);
    let mut share: Option<KeyShareP2> = None;
    loop {
        let mut command = [0u8; COMMAND_LEN];
        let Ok(len) = link.recv(&mut command) else {
            continue;
        };
        let digest = command
            .get(1..len)
            .and_then(|d| d.first_chunk().copied())
            .unwrap_or([0; proto::DIGEST_LEN]);
        board::paint_stack();
        link.begin_run();
        let mut signature = None;
        let outcome = match command[0] {
            cmd::KEYGEN => run_keygen(&mut link, &mut rng).map(|s| share = Some(s)),
            cmd::SIGN => match &share {
                Some(s) => run_sign(&mut link, &mut rng, s, &digest).map(|sig| {
                    signature = Some(sig);
                }),
                None => Err(Error::InvalidShare),
            },
            cmd::REFRESH => match &share {
                Some(s) => run_refresh(&mut link, &mut rng, s).map(|next| share = Some(next)),
                None => Err(Error::InvalidShare),
            },
            cmd::QUIT => board::exit(true),
            _ => Err(Error::Malformed),
        };
        if let Err(e) = &outcome {
            link.send(&abort_message(*e));
        }
        let stack_peak = board::stack_peak();
        link.report(outcome, board::static_ram(), stack_peak, signature);
    }
}

#[inline(never)]
fn run_keygen(link: &mut Link, rng: &mut StandInRng) -> Result<KeyShareP2> {
    let state = keygen_start(link, rng)?;
    keygen_finish(link, rng, state)
}

/// Keygen message 1 → message 2 (its own frame: Msg1's decoding is done before Msg3 comes).
#[inline(never)]
fn keygen_start(link: &mut Link, rng: &mut StandInRng) -> Result<keygen::p2::AwaitMsg3> {
    let m1 = link.recv_message::<keygen::Msg1, { keygen::Msg1::LEN }>()?;
    let (state, m2) = keygen::p2::start(rng, &ctx(), &m1)?;
    link.send_message::<_, { keygen::Msg2::LEN }>(&m2)?;
    Ok(state)
}

/// Keygen message 3 → share.
#[inline(never)]
fn keygen_finish(
    link: &mut Link,
    rng: &mut StandInRng,
    state: keygen::p2::AwaitMsg3,
) -> Result<KeyShareP2> {
    // 33 KB: decoded in place, since every copy of it counts against the RAM cap.
    let mut m3 = keygen::Msg3::EMPTY;
    link.recv_into::<_, { keygen::Msg3::LEN }>(&mut m3)?;
    let share = keygen_verify(rng, state, &m3)?;
    link.step_stop();
    Ok(share)
}

/// P2's verification of message 3, in its own frame: inlined, its locals would sit next to
/// the 33 KB message while the message's frame buffer is still on the stack.
#[inline(never)]
fn keygen_verify(
    rng: &mut StandInRng,
    state: keygen::p2::AwaitMsg3,
    m3: &keygen::Msg3,
) -> Result<KeyShareP2> {
    state.on_msg3(rng, m3)
}

#[inline(never)]
fn run_sign(
    link: &mut Link,
    rng: &mut StandInRng,
    share: &KeyShareP2,
    digest: &sign::Digest,
) -> Result<[u8; SIGNATURE_LEN]> {
    let m1 = link.recv_message::<sign::Msg1, { sign::Msg1::LEN }>()?;
    let (state, m2) = sign::p2::start(rng, share, &ctx(), digest, &m1)?;
    link.send_message::<_, { sign::Msg2::LEN }>(&m2)?;
    let m3 = link.recv_message::<sign::Msg3, { sign::Msg3::LEN }>()?;
    let (state, m4) = state.on_msg3(rng, &m3)?;
    link.send_message::<_, { sign::Msg4::LEN }>(&m4)?;
    let m5 = link.recv_message::<sign::Msg5, { sign::Msg5::LEN }>()?;
    let signature = state.on_msg5(&m5)?;
    link.step_stop();
    let mut out = [0u8; SIGNATURE_LEN];
    out.copy_from_slice(&signature.to_bytes());
    Ok(out)
}

#[inline(never)]
fn run_refresh(link: &mut Link, rng: &mut StandInRng, share: &KeyShareP2) -> Result<KeyShareP2> {
    let m1 = link.recv_message::<refresh::Msg1, { refresh::Msg1::LEN }>()?;
    let (state, m2) = refresh::p2::start(rng, share, &ctx(), &m1)?;
    link.send_message::<_, { refresh::Msg2::LEN }>(&m2)?;
    let m3 = link.recv_message::<refresh::Msg3, { refresh::Msg3::LEN }>()?;
    let (next, m4) = state.on_msg3(rng, &m3)?;
    link.send_message::<_, { refresh::Msg4::LEN }>(&m4)?;
    Ok(next)
}
