//! Party 0 (protocol role P1) in firmware, signing only: the host provisions the share (prime
//! generation and key generation stay on the host) and plays party 1 over the UART.
#![no_std]
#![no_main]

use cortex_m_rt::entry;
use ecdsa2pc_core::{Context, Error, KeyShare, KeyShareP1, Message, Result, abort_message, sign};
use ecdsa2pc_firmware::{
    board::{self, StandInRng, Timer, Uart},
    link::{self, Link},
};
use ecdsa2pc_firmware_proto::{self as proto, SIGNATURE_LEN, cmd};

/// A command frame: the command byte and the provisioned share (the longest argument).
const COMMAND_LEN: usize = 1 + KeyShareP1::ENCODED_LEN;

fn ctx() -> Context<'static> {
    Context {
        own_pid: proto::PID_PARTY0,
        peer_pid: proto::PID_PARTY1,
        channel_binding: proto::CHANNEL_BINDING,
    }
}

#[entry]
fn main() -> ! {
    let mut link = Link::new(Uart::init(), Timer::start());
    let mut rng = link::wait_for_seed(&mut link);
    let mut share: Option<KeyShareP1> = None;
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
            cmd::PROVISION => {
                link.step_start();
                let provisioned = provision(command.get(1..len).unwrap_or_default());
                link.step_stop();
                provisioned.map(|s| share = Some(s))
            }
            cmd::SIGN => match &mut share {
                Some(s) => run_sign(&mut link, &mut rng, s, &digest).map(|sig| {
                    signature = Some(sig);
                }),
                None => Err(Error::InvalidShare),
            },
            cmd::QUIT => board::exit(true),
            _ => Err(Error::Malformed),
        };
        if let Err(e) = &outcome
            && command[0] != cmd::PROVISION
        {
            link.send(&abort_message(*e));
        }
        let stack_peak = board::stack_peak();
        link.report(outcome, board::static_ram(), stack_peak, signature);
    }
}

/// Decodes the share the host provisioned; decoding rebuilds the Paillier key from the primes
/// and checks the share (x1·G = Q1, Dec(c_key) = x1).
#[inline(never)]
fn provision(bytes: &[u8]) -> Result<KeyShareP1> {
    KeyShareP1::decode(bytes)
}

#[inline(never)]
fn run_sign(
    link: &mut Link,
    rng: &mut StandInRng,
    share: &mut KeyShareP1,
    digest: &sign::Digest,
) -> Result<[u8; SIGNATURE_LEN]> {
    link.step_start();
    let (state, m1) = sign::p1::start(rng, share, &ctx(), digest)?;
    link.send_message::<_, { sign::Msg1::LEN }>(&m1)?;
    let m2 = link.recv_message::<sign::Msg2, { sign::Msg2::LEN }>()?;
    let (state, m3) = state.on_msg2(rng, &m2)?;
    link.send_message::<_, { sign::Msg3::LEN }>(&m3)?;
    let m4 = link.recv_message::<sign::Msg4, { sign::Msg4::LEN }>()?;
    let (signature, m5) = state.on_msg4(&m4)?;
    link.send_message::<_, { sign::Msg5::LEN }>(&m5)?;
    let mut out = [0u8; SIGNATURE_LEN];
    out.copy_from_slice(&signature.to_bytes());
    Ok(out)
}
